"""Check K3: a linear RNN with W_hh = g·Q (Q orthogonal) has ‖∂L/∂h_k‖ = g^(T−k)·‖∂L/∂h_T‖ exactly.

The analytic case every gradient measurement is pinned to: the fitted per-step rate must be log g.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..base import Context, Outcome, Part, Spec, Undecidable, num
from ..tables import keyed, rates

TOLERANCE = 1e-6  # float64 gradients over 100 steps: the fit recovers log g to ~1e-12

SPEC = Spec(
    id="K3", kind="check", title="A linear RNN's gradient scales exactly as g^(T−k)",
    claim="With the identity activation and W_hh = g·Q, ‖∂L/∂h_k‖ = g^(T−k)·‖∂L/∂h_T‖.",
    criterion=f"Passes when the identity RNN's fitted per-step rate equals log g within {TOLERANCE:g} at every gain of "
              "'gain_sweep'; fails when any gain departs further.",
    needs={"gain_sweep": ("identity",)})


@dataclass
class Numbers:
    gains: list[float]
    max_error: float
    tolerance: float
    by_gain: dict = field(default_factory=dict)


def decide(ctx: Context) -> Outcome:
    ctx.require(["gain_sweep"], min_seeds=1)
    table = keyed({c: r for c, r in rates(ctx, "gain_sweep").items() if c.variant == "identity"}, "gain")
    if not table:
        raise Undecidable("no identity-activation cells in 'gain_sweep'", ["gain_sweep"])
    errors = {g: abs(r["rate"].mean - math.log(g)) for g, r in sorted(table.items())}
    finite = [e for e in errors.values() if math.isfinite(e)]
    worst = max(finite) if finite else math.nan
    state = None if not finite else bool(worst < TOLERANCE)
    numbers = Numbers(sorted(table), worst, TOLERANCE,
                      {g: {"rate": table[g]["rate"].mean, "theory": math.log(g)} for g in sorted(table)})
    part = Part("exact", f"the fitted rate equals log g within {TOLERANCE:g}", state, training=False,
                detail=f"largest error {num(worst, 2)} over {len(table)} gains")
    headline = (f"The linear RNN's gradient follows g^(T−k) to {num(worst, 2)} at {len(table)} gains" if state
                else f"The linear RNN's gradient departs from g^(T−k) by up to {num(worst, 2)}")
    return Outcome([part], numbers, headline, part.detail, ["gain_sweep"])
