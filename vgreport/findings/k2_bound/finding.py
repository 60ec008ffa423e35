"""Check K2: the vanishing bound of Pascanu, Mikolov & Bengio (2013) holds in every plain-RNN cell.

‖∂L/∂h_k‖ ≤ (γ·σ_max(W_hh))^(T−k)·‖∂L/∂h_T‖ with γ = sup φ′ (1 for tanh, ReLU and identity, 1/4 for
the sigmoid). A theorem: a measured gradient above its bound, or a derivative above its cap, is a bug.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...architectures import ARCHITECTURES
from ...configs import CELL_KEY
from ..base import Context, Outcome, Part, Spec, Undecidable, num

SPEC = Spec(
    id="K2", kind="check", title="The Pascanu bound holds in every plain-RNN cell outside the copy task",
    claim=("‖∂L/∂h_k‖ ≤ (γ·σ_max(W_hh))^(T−k)·‖∂L/∂h_T‖, and the activation's derivative never exceeds γ "
           "(Pascanu, Mikolov & Bengio 2013)."),
    criterion=("Passes when every plain-RNN cell outside the copy task (an answer at every step voids the bound), at "
               "initialisation and after training, keeps its gradient ratio under "
               "its own bound at every step (to a relative 10⁻⁹), and the mean and 90th percentile of φ′ along the "
               "probe trajectories are at most γ; fails when any point exceeds it."),
    needs={"activation": ("sigmoid", "tanh", "relu", "identity")})


@dataclass
class Numbers:
    cells: int
    points: int
    violations: int
    worst_excess: float          # largest measured / bound ratio (at most 1 when the check passes)
    derivative_cells: int
    derivative_violations: int
    stages: list[str]
    copy_cells: int = 0          # plain-RNN cells of the copy task, probed but outside the bound


def decide(ctx: Context) -> Outcome:
    # The bound compares dL/dh_k with dL/dh_T, so it needs a loss read off the last state; with an
    # answer at every step (copy) the loss also reaches h_k directly and no such bound holds.
    plain = [a.name for a in ARCHITECTURES.values() if a.plain_recurrence]  # h = φ(W_hh h + ...): the bound's case
    rnn = ctx.frame[ctx.frame["arch"].isin(plain)]
    frame = rnn[rnn["task"] != "copy"]
    cell = CELL_KEY + ["stage"]
    copy_probed = rnn[(rnn["task"] == "copy") & (rnn["metric"] == "grad_norm_state")]
    copy_cells = int(len(copy_probed[cell[:-1]].drop_duplicates()))
    grads = frame[frame["metric"] == "grad_norm_state"]
    bounds = frame[frame["metric"] == "bound_log_rate"].set_index(cell)["value"]
    if grads.empty or bounds.empty:
        raise Undecidable("no plain-RNN gradients with their bound recorded", ["activation"])
    merged = grads.merge(bounds.rename("bound").reset_index(), on=cell)
    last = merged[merged["time_lag"] == 0].set_index(cell)["value"].rename("last")
    merged = merged.join(last, on=cell)
    merged = merged[merged["last"] > 0]
    ratio = merged["value"] / (np.exp(merged["bound"] * merged["time_lag"]) * merged["last"])
    cells = int(merged.groupby(cell).ngroups) if len(merged) else 0
    points = int(len(merged))
    violations = int((ratio > 1 + 1e-9).sum())
    worst = float(ratio.max()) if len(ratio) else math.nan
    deriv = frame[frame["metric"].isin(["act_deriv_mean", "act_deriv_p90"])].merge(
        frame[frame["metric"] == "bound_gamma"][cell + ["value"]].rename(columns={"value": "gamma"}), on=cell)
    d_cells = int(deriv.groupby(cell).ngroups) if len(deriv) else 0
    d_viol = int((deriv["value"] > deriv["gamma"] * (1 + 1e-9)).sum()) if len(deriv) else 0
    numbers = Numbers(cells, points, violations, worst, d_cells, d_viol, sorted(set(grads["stage"])), copy_cells)
    parts = [Part("bound", "every gradient ratio lies under (γ·σ_max)^(T−k)", None if cells == 0 else violations == 0,
                  training=False, detail=f"{violations} of {points} points in {cells} probes above the bound"),
             Part("derivative", "φ′ along the trajectories never exceeds γ", None if d_cells == 0 else d_viol == 0,
                  training=False, detail=f"{d_viol} derivative statistics above γ in {d_cells} cells")]
    # a cell probed at initialisation and after training is one cell with two probes: count cells without the stage
    n_cells = int(len(merged[cell[:-1]].drop_duplicates())) if len(merged) else 0
    # K1 counts the copy task's cells too: name them as left out, so the two counts do not seem to disagree
    outside = " outside the copy task" if copy_cells else ""
    # no "largest ratio" when it passes: at T − k = 0 the ratio is 1 by definition, so it would always read 1
    headline = (f"All {n_cells} plain-RNN cells{outside} ({cells} gradient probes) stay under the Pascanu bound"
                if violations == 0 else f"{violations} of {points} measured points{outside} exceed the Pascanu bound")
    exps = sorted(set(grads["experiment"]))
    return Outcome(parts, numbers, headline, f"{violations} violations in {cells} probes; worst measured/bound "
                   f"{num(worst, 3)}", exps)
