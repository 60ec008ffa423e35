"""Stage 8: checks and findings. Every verdict is computed from this build's records.

One folder per result, found by discovery (`<id>_<name>/`, any subpackage with a finding.py): its
finding.py, its prose (prose.html.j2, the section's sentences), its examples (examples.py,
synthetic worlds with the verdict each must produce, and the builders of the records of experiments
only it reads), its exercises (exercises.py) and any figure only it draws (figures.py). Adding a
result is a one-folder change (docs/findings.md).
Each finding.py declares SPEC (its id, texts and the experiments and
variants it reads, which a test checks against the shipped battery), `decide(ctx) -> Outcome` (the
parts, each with a three-way state, and a typed record of the numbers the prose quotes) and,
optionally, `figures_of(ctx, outcome)`. *Checks* are identities that fail only through a bug
(pass / fail / undetermined); *findings* are claims the data can refute, with a verdict from their
core parts and the clauses of their claim (supported / supported so far / partly tested / partly
refuted / refuted / inconclusive; only the first two count as support). The literature comparison
reads both.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from . import dynamics, literature, overview, replicate
from .base import (
    CHECK_STATES,
    SUPPORT,
    VERDICTS,
    Config,
    Context,
    Exercise,
    Figure,
    Part,
    Result,
    Undecidable,
    check_state,
    clause_states,
    combine,
    heading_of,
    plain,
    verdict_of,
)
from .literature import Literature

__all__ = ["VERDICTS", "SUPPORT", "CHECK_STATES", "CHECKS", "FINDINGS", "MODULES", "Evaluation", "Figure", "Result", "Part",
           "Config", "Exercise", "EXERCISES", "evaluate", "combine", "verdict_of", "check_state", "folder_of",
           "prose_templates", "examples_module", "examples_of", "exercises_of"]


def _report_order(module: ModuleType) -> tuple:
    """Checks first, then findings; by letter, then number (C9 before C10)."""
    rid = module.SPEC.id
    letter, number = re.fullmatch(r"([A-Z]+)(\d+)", rid).groups()
    return module.SPEC.kind != "check", letter, int(number)


def _discover() -> tuple[ModuleType, ...]:
    """The finding.py of every subpackage of this package, in report order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg and (Path(__path__[0]) / info.name / "finding.py").is_file():
            found.append(importlib.import_module(f"{__name__}.{info.name}.finding"))
    ids = [m.SPEC.id for m in found]
    if len(set(ids)) != len(ids):
        raise RuntimeError(f"two finding folders declare the same id: {sorted(ids)}")
    return tuple(sorted(found, key=_report_order))


MODULES = _discover()
CHECKS = tuple(m for m in MODULES if m.SPEC.kind == "check")
FINDINGS = tuple(m for m in MODULES if m.SPEC.kind != "check")


def folder_of(module: ModuleType) -> Path:
    """The folder of a result: finding.py, prose.html.j2, examples.py."""
    return Path(module.__file__).resolve().parent


def prose_templates() -> dict[str, Path]:
    """Result id -> its prose template (findings/<ID>.html.j2 to the report's templates)."""
    return {m.SPEC.id: folder_of(m) / "prose.html.j2" for m in MODULES if (folder_of(m) / "prose.html.j2").is_file()}


def _folder_module(module: ModuleType, name: str) -> ModuleType | None:
    """The module `name` of a result's folder, or None when the folder has no such file (or the
    result is no folder: a test's stand-in)."""
    if not getattr(module, "__package__", None):
        return None
    try:
        return importlib.import_module(f"{module.__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{module.__package__}.{name}":
            return None
        raise


def examples_module(module: ModuleType) -> ModuleType:
    """A result's examples.py: EXAMPLES, and BUILDERS for the experiments only it reads."""
    found = _folder_module(module, "examples")
    if found is None:
        raise RuntimeError(f"result {module.SPEC.id} has no examples.py (every result needs example worlds)")
    return found


def examples_of(module: ModuleType) -> list:
    """A result's example worlds (synthetic.Example), from its folder's examples.py."""
    return list(examples_module(module).EXAMPLES)


def exercises_of(module: ModuleType) -> tuple[Exercise, ...]:
    """A finding's exercises, from its folder's exercises.py (none without one), each naming the finding."""
    found = _folder_module(module, "exercises")
    return tuple(dataclasses.replace(e, finding=module.SPEC.id) for e in getattr(found, "EXERCISES", ()))


EXERCISES = tuple(e for m in FINDINGS for e in exercises_of(m))


@dataclass
class Evaluation:
    checks: list[Result] = field(default_factory=list)
    findings: list[Result] = field(default_factory=list)
    literature: Literature = field(default_factory=Literature)
    overview: list[dict] = field(default_factory=list)          # the hero figure's points (see overview.py)
    left_out: list[int] = field(default_factory=list)           # seeds left out one at a time (replicate.py)
    worked_example: dict = field(default_factory=dict)          # numbers a student can check by hand
    dynamics: dict = field(default_factory=dict)                # the tanh RNN seed by seed (dynamics.py)

    @property
    def results(self) -> list[Result]:
        return self.checks + self.findings

    def verdicts(self) -> dict[str, str]:
        return {r.id: r.verdict for r in self.results}

    def undetermined(self) -> set[Config]:
        """Configurations read by a core training part that is still undetermined, thin (decided, but
        one seed fewer would leave it undetermined) or fragile (one seed fewer would reverse it; both
        known after leave_one_seed_out): where more seeds could decide, or firm up, the claim. The sequential design adds seeds only there; context
        parts never buy seeds."""
        return {c for r in self.findings for p in r.parts
                if p.core and p.training and (p.state is None or p.thin or p.fragile) for c in p.reads}

    def to_json(self) -> dict:
        return {"checks": [r.to_json() for r in self.checks], "findings": [r.to_json() for r in self.findings],
                "literature": plain({"items": self.literature.items, "counts": self.literature.counts,
                                     "references": self.literature.references}, json=True),
                "overview": plain(self.overview, json=True), "worked_example": plain(self.worked_example, json=True),
                "dynamics": plain(self.dynamics, json=True),
                "leave_one_seed_out": {"seeds": [int(s) for s in self.left_out],
                                       "done": bool(self.left_out)}}


def _run(module, ctx: Context) -> Result:
    spec = module.SPEC
    check = spec.kind == "check"
    try:
        outcome = module.decide(ctx)
        figures = module.figures_of(ctx, outcome) if ctx.with_figures and hasattr(module, "figures_of") else []
    except Undecidable as why:
        return Result(spec.id, spec.kind, spec.title, spec.claim, "undetermined" if check else "inconclusive",
                      spec.criterion, headline=f"{spec.title}: not tested in this build", reason=why.reason,
                      numbers={"missing": why.reason}, seeds=ctx.seeds(*why.experiments),
                      experiments=why.experiments,
                      clauses=clause_states(spec.clauses, [], {k: why.reason for k in spec.clauses}),
                      heading=heading_of(spec, "inconclusive", []))
    unknown = {p.clause for p in outcome.parts if p.core} - set(spec.clauses) if spec.clauses else set()
    if unknown:
        raise RuntimeError(f"{spec.id}: core parts name clauses {sorted(unknown)} that SPEC.clauses does not declare")
    clauses = clause_states(spec.clauses, outcome.parts, outcome.untested)
    verdict = check_state([p.state for p in outcome.parts]) if check else verdict_of(outcome.parts, clauses)
    return Result(spec.id, spec.kind, spec.title, spec.claim, verdict, spec.criterion, headline=outcome.headline,
                  reason=outcome.reason, numbers=outcome.numbers, parts=outcome.parts,
                  seeds=ctx.seeds(*outcome.experiments), experiments=outcome.experiments, figures=figures,
                  clauses=clauses, heading=heading_of(spec, verdict, clauses, outcome.parts))


def evaluate(frame: pd.DataFrame, battery=None, with_figures: bool = True,
             ids: tuple[str, ...] | None = None, leave_one_seed_out: bool = False) -> Evaluation:
    """Every check and finding in report order, and the literature comparison.

    `battery` (vgreport.specs.Battery) names each model with its initialisation and sets the number
    of looks of the sequential design; `with_figures=False` skips drawing; `ids` picks results;
    `leave_one_seed_out` marks the parts and verdicts that one seed decides (replicate.py: one
    more evaluation of the findings per seed, without figures)."""
    ctx = Context(frame, battery, with_figures)
    out = Evaluation()
    with np.errstate(divide="ignore", invalid="ignore"):
        for module in MODULES:
            if ids is not None and module.SPEC.id not in ids:
                continue
            result = _run(module, ctx)
            (out.checks if result.kind == "check" else out.findings).append(result)
        if leave_one_seed_out:
            out.left_out = replicate.mark_fragile(out.findings, ctx, _run, FINDINGS)
        out.literature = literature.compare(ctx, {r.id: r for r in out.results})
        out.overview = overview.points(ctx)
        out.worked_example = overview.worked_example(ctx)
        out.dynamics = dynamics.dynamics(ctx)
    return out
