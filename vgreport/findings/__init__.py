"""Stage 8: checks and findings. Every verdict is computed from this build's records.

One module per result, in report order. Each declares SPEC (its id, texts and the experiments and
variants it reads, which a test checks against the shipped battery), `decide(ctx) -> Outcome` (the
parts, each with a three-way state, and a typed record of the numbers the prose quotes) and,
optionally, `figures_of(ctx, outcome)`. *Checks* are identities that fail only through a bug
(pass / fail / undetermined); *findings* are claims the data can refute (supported / partly
supported / not supported / inconclusive). The literature comparison reads both.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import (c2_decay, c3_recency, c4_distance, c5_budget, c6_gates, c7_init, c8_activation, c9_clipping,
               c10_attention, g1_gate_init, g2_gain, k1_bptt, k2_bound, k3_linear, literature, overview)
from .base import (CHECK_STATES, VERDICTS, Config, Context, Figure, Part, Result, Undecidable, check_state, combine,
                   plain)
from .literature import Literature

__all__ = ["VERDICTS", "CHECK_STATES", "CHECKS", "FINDINGS", "MODULES", "Evaluation", "Figure", "Result", "Part",
           "Config", "evaluate", "combine", "check_state"]

CHECKS = (k1_bptt, k2_bound, k3_linear)
FINDINGS = (c2_decay, c3_recency, c4_distance, c5_budget, c6_gates, c7_init, c8_activation, c9_clipping,
            c10_attention, g1_gate_init, g2_gain)
MODULES = CHECKS + FINDINGS


@dataclass
class Evaluation:
    checks: list[Result] = field(default_factory=list)
    findings: list[Result] = field(default_factory=list)
    literature: Literature = field(default_factory=Literature)
    overview: list[dict] = field(default_factory=list)          # the hero figure's points (see overview.py)
    worked_example: dict = field(default_factory=dict)          # numbers a student can check by hand

    @property
    def results(self) -> list[Result]:
        return self.checks + self.findings

    def verdicts(self) -> dict[str, str]:
        return {r.id: r.verdict for r in self.results}

    def undetermined(self) -> set[Config]:
        """Configurations read by a training part that is still undetermined: where more seeds
        could decide something (the sequential design adds seeds only there)."""
        return {c for r in self.findings for p in r.parts if p.state is None and p.training for c in p.reads}

    def to_json(self) -> dict:
        return {"checks": [r.to_json() for r in self.checks], "findings": [r.to_json() for r in self.findings],
                "literature": plain({"items": self.literature.items, "counts": self.literature.counts,
                                     "references": self.literature.references}, json=True),
                "overview": plain(self.overview, json=True), "worked_example": plain(self.worked_example, json=True)}


def _run(module, ctx: Context) -> Result:
    spec = module.SPEC
    check = spec.kind == "check"
    try:
        outcome = module.decide(ctx)
    except Undecidable as why:
        return Result(spec.id, spec.kind, spec.title, spec.claim, "undetermined" if check else "inconclusive",
                      spec.criterion, headline=f"{spec.title}: not tested in this build", reason=why.reason,
                      numbers={"missing": why.reason}, seeds=ctx.seeds(*why.experiments),
                      experiments=why.experiments)
    states = [p.state for p in outcome.parts]
    verdict = check_state(states) if check else combine(states)
    figures = module.figures_of(ctx, outcome) if ctx.with_figures and hasattr(module, "figures_of") else []
    return Result(spec.id, spec.kind, spec.title, spec.claim, verdict, spec.criterion, headline=outcome.headline,
                  reason=outcome.reason, numbers=outcome.numbers, parts=outcome.parts,
                  seeds=ctx.seeds(*outcome.experiments), experiments=outcome.experiments, figures=figures)


def evaluate(frame: pd.DataFrame, battery=None, with_figures: bool = True,
             ids: tuple[str, ...] | None = None) -> Evaluation:
    """Every check and finding in report order, and the literature comparison.

    `battery` (vgreport.specs.Battery) names each model with its initialisation and sets the number
    of looks of the sequential design; `with_figures=False` skips drawing; `ids` picks results."""
    ctx = Context(frame, battery, with_figures)
    out = Evaluation()
    with np.errstate(divide="ignore", invalid="ignore"):
        for module in MODULES:
            if ids is not None and module.SPEC.id not in ids:
                continue
            result = _run(module, ctx)
            (out.checks if result.kind == "check" else out.findings).append(result)
        out.literature = literature.compare(ctx, {r.id: r for r in out.results})
        out.overview = overview.points(ctx)
        out.worked_example = overview.worked_example(ctx)
    return out
