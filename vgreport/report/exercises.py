"""What the instructor's answers to the exercises read from the build's numbers: the direction of a
series (trend) and the measured points either side of a value (around). Nothing here computes a value
the build did not measure (no line drawn through the points): an answer quotes measurements. The
exercises themselves are data in each finding's folder (exercises.py, base.Exercise); templates print
them with `exercises(f.id)`."""
from __future__ import annotations

__all__ = ["around", "arm_rows", "check", "for_finding", "trend"]


def for_finding(finding_id: str) -> list:
    """The exercises of one finding (from its folder's exercises.py), for the templates."""
    from ..findings import EXERCISES
    return [e for e in EXERCISES if e.finding == finding_id]


def trend(points) -> dict | None:
    """The measured direction of a series for an instructor's answer: points (x, y) sorted by x,
    from the first to the last. 'rose', 'fell' or 'stayed' (equal means); None with fewer than two
    points. An answer that predicts a direction states this one, so it follows the build's data."""
    pts = sorted((float(x), float(y)) for x, y in points if y == y)
    if len(pts) < 2:
        return None
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    word = "rose" if y1 > y0 else "fell" if y1 < y0 else "stayed"
    return {"first_x": x0, "first": y0, "last_x": x1, "last": y1, "word": word}


def around(points, x: float) -> list[tuple[float, float]]:
    """The measured points (x, y) nearest to x on either side (one where x lies outside them; the
    point itself where it was measured): what an answer interpolates between, so it can be wrong."""
    pts = sorted((float(a), float(b)) for a, b in points if b == b)
    same = [p for p in pts if p[0] == x]
    if same:
        return same
    below = [p for p in pts if p[0] < x][-1:]
    above = [p for p in pts if p[0] > x][:1]
    return below + above


def arm_rows(cells, selector: str):
    """The rows of a cell table (cells.csv, or what `vgreport run` prints per cell) that one arm of an
    exercise selects: "variant=lag_30,length=40" keeps the rows whose columns hold those values."""
    keep = cells.index == cells.index
    for term in selector.split(","):
        column, value = term.split("=")
        keep &= cells[column].astype(str).isin({value, str(float(value)) if value.replace(".", "").isdigit() else value})
    return cells[keep]


def check(exercise, cells) -> bool | None:
    """Whether an output bears out the answer's direction: the mean of `exercise.metric` over the first arm's
    seeds against the second's ("<=" or ">="). None where an arm has no finite value (diverged, or not run)."""
    first, second = (arm_rows(cells, arm)[exercise.metric].astype(float).dropna() for arm in exercise.arms)
    if first.empty or second.empty:
        return None
    a, b = first.mean(), second.mean()
    return bool(a <= b) if exercise.expect == "<=" else bool(a >= b)
