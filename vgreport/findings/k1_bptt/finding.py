"""Check K1: backpropagation through time is a product of one Jacobian per step.

A theorem: the explicit product of J_j = diag(φ′(a_j))·W_hh must equal autograd's ∂L/∂h_k, and the
gradient ratio can never exceed the operator norm of the product. It fails only through a bug.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...configs import CELL_KEY, KEY, Config
from ..base import Context, Outcome, Part, Spec, Undecidable, num
from ..tables import rows_of
from .figures import jacobian_check

EXACT_REL_ERR = 1e-6  # float64 products of up to a few hundred 64x64 matrices agree far better than this

SPEC = Spec(
    id="K1", kind="check", title="Backpropagation through time multiplies one Jacobian per step",
    claim="BPTT multiplies one Jacobian per step: ∂h_T/∂h_k = Π_j diag(φ′(a_j))·W_hh.",
    criterion=(f"Passes when, in every plain-RNN cell at initialisation, the gradient built by multiplying the explicit "
               f"Jacobians J_j = diag(φ′(a_j))·W_hh equals autograd's ‖∂L/∂h_k‖ at every step to a relative error "
               f"below {EXACT_REL_ERR:g}, and the measured ratio ‖∂L/∂h_k‖/‖∂L/∂h_T‖ never exceeds the operator norm "
               "‖Π J_j‖₂ of the product. Fails when either fails anywhere: that would be a bug in the probes."),
    needs={"activation": ("sigmoid", "tanh", "relu", "identity")})


@dataclass
class Numbers:
    max_rel_err: float
    threshold: float
    cells: int
    comparisons: int
    violations: int
    experiments: list[str]
    shown: str
    length: int
    lag: int
    by_activation: dict = field(default_factory=dict)


def decide(ctx: Context) -> Outcome:
    frame = ctx.frame
    keys = CELL_KEY + ["task", "time_lag"]
    init = frame[frame["stage"] == "init"]
    rnn_exps = sorted(set(init.loc[init["metric"] == "jacobian_chain_norm", "experiment"]))
    if not rnn_exps:
        raise Undecidable("no explicit Jacobian products recorded (no plain-RNN experiment in this build)", ["activation"])
    pick = lambda m: init[init["metric"] == m][keys + ["value"]]  # noqa: E731
    merged = pick("jacobian_chain_norm").merge(pick("grad_norm_state_sub"), on=keys, suffixes=("_chain", "_auto")).merge(
        pick("jacobian_product_opnorm").rename(columns={"value": "value_op"}), on=keys)
    scale = merged["value_auto"].where(merged["value_auto"] > 0)
    rel = ((merged["value_chain"] - merged["value_auto"]).abs() / scale).dropna()
    rel_err = float(rel.max()) if len(rel) else math.nan
    cell = keys[:-1]
    last = merged[merged["time_lag"] == 0].set_index(cell)["value_auto"].rename("last")
    merged = merged.join(last, on=cell)
    merged["ratio"] = merged["value_auto"] / merged["last"].where(merged["last"] > 0)
    # The ratio bound needs a loss read off the last state; copy answers at every step (see K2).
    checked = merged[merged["task"] != "copy"].dropna(subset=["ratio", "value_op"])
    violations = int((checked["ratio"] > checked["value_op"] * (1 + 1e-9)).sum())
    exact = None if not math.isfinite(rel_err) else bool(rel_err < EXACT_REL_ERR)
    bounded = None if checked.empty else violations == 0
    show = "activation" if "activation" in rnn_exps else rnn_exps[0]
    shown = merged[merged["experiment"] == show]
    T = int(shown["length"].max())
    shown = shown[shown["length"] == T]
    # one configuration per variant is shown (the first: a sweep of another field would be drawn on top of it)
    first = {}
    for config in sorted(Config.of(row) for row in shown[KEY].drop_duplicates().to_dict("records")):
        first.setdefault(config.variant, config)
    shown = pd.concat([rows_of(shown, config) for config in first.values()]) if first else shown
    lag = min(T - 1, 20)
    at = shown[shown["time_lag"] == lag]
    geo = lambda s: float(np.exp(np.log(s.clip(lower=1e-300)).mean()))  # noqa: E731
    by_act = {v: {"label": v, "ratio": geo(g["ratio"]), "opnorm": geo(g["value_op"])} for v, g in at.groupby("variant")}
    numbers = Numbers(rel_err, EXACT_REL_ERR, int(merged.groupby(cell).ngroups), int(len(rel)), violations, rnn_exps,
                      show, T, lag, by_act)
    parts = [Part("exact", f"the explicit Jacobian product equals autograd to {EXACT_REL_ERR:g}", exact, training=False,
                  detail=f"largest relative error {num(rel_err, 2)} over {len(rel)} comparisons"),
             Part("bounded", "the gradient ratio never exceeds ‖Π J_j‖₂", bounded, training=False,
                  detail=f"{violations} violations")]
    headline = (f"Explicit Jacobian products match autograd to {num(rel_err, 2)} in {numbers.cells} cells"
                if exact else f"Explicit Jacobian products depart from autograd by up to {num(rel_err, 2)}")
    return Outcome(parts, numbers, headline, f"largest relative error {num(rel_err, 2)} over {len(rel)} comparisons "
                   f"in {numbers.cells} cells; {violations} bound violations", rnn_exps, data=shown)


def figures_of(ctx: Context, outcome: Outcome) -> list:
    shown, n = outcome.data, outcome.numbers
    seed0 = shown["seed"].min()
    series = []
    slots = ctx.slots(n.shown, list(shown["variant"].unique()))
    for variant in slots:
        rows = shown[(shown["variant"] == variant) & (shown["seed"] == seed0)].sort_values("time_lag")
        if rows.empty or not (rows["last"].iloc[0] > 0):
            continue
        series.append({"label": variant if n.shown == "activation" else ctx.describe(n.shown, variant),
                       "slot": slots[variant], "lags": rows["time_lag"].to_numpy(),
                       "measured": rows["ratio"].to_numpy(), "chain": (rows["value_chain"] / rows["last"]).to_numpy(),
                       "opnorm": rows["value_op"].to_numpy()})
    exact = n.max_rel_err < EXACT_REL_ERR
    return ctx.figure(
        "jacobians", lambda: jacobian_check(series),
        f"Experiment '{n.shown}', seed {int(seed0)}: the gradient ratio ‖∂L/∂h_k‖/‖∂L/∂h_T‖ from autograd (lines), "
        "the same quantity from the explicit product of Jacobians (hollow markers), and the operator norm of that "
        "product, which bounds it (dotted); one panel per activation, on one shared scale.",
        f"Log-scale plot of the gradient ratio against distance for {len(series)} activations. The explicit Jacobian "
        f"product {'lies on' if exact else 'departs from'} the autograd curve (largest relative error "
        f"{num(n.max_rel_err, 2)} over {n.cells} cells); {n.violations} points exceed the operator-norm bound.")
