"""The exercises at the end of each finding (data in its folder's exercises.py, base.Exercise): templates
print them with `exercises(f.id)`; `check` reads from a command's own output whether its two arms went the
way the instructor's answer predicts (tests, and tools/check_exercises.py on real runs)."""
from __future__ import annotations

__all__ = ["arm_rows", "check", "for_finding"]


def for_finding(finding_id: str) -> list:
    """The exercises of one finding (from its folder's exercises.py), for the templates."""
    from ..findings import EXERCISES
    return [e for e in EXERCISES if e.finding == finding_id]


def selector_terms(selector: str) -> dict[str, set[str]]:
    """An arm's selector ("variant=lag_30,length=40") as {field: the spellings a cell table may print for
    its value}: a number as written and as a float ("40" and "40.0"), anything else as written."""
    terms = {}
    for term in selector.split(","):
        field, value = term.split("=")
        terms[field] = {value, str(float(value))} if value.replace(".", "").isdigit() else {value}
    return terms


def arm_rows(cells, selector: str):
    """The rows of a cell table (cells.csv, or what `vgreport run` prints per cell) that one arm of an
    exercise selects: "variant=lag_30,length=40" keeps the rows whose columns hold those values."""
    keep = cells.index == cells.index
    for column, spellings in selector_terms(selector).items():
        keep &= cells[column].astype(str).isin(spellings)
    return cells[keep]


def check(exercise, cells) -> bool | None:
    """Whether an output bears out the answer's direction: the mean of `exercise.metric` over the first arm's
    seeds against the second's ("<", "<=", ">" or ">="; a strict one can come out no on a tie). None where an arm has no finite value (diverged, or not run)."""
    first, second = (arm_rows(cells, arm)[exercise.metric].astype(float).dropna() for arm in exercise.arms)
    if first.empty or second.empty:
        return None
    a, b = first.mean(), second.mean()
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[exercise.expect])
