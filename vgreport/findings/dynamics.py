"""The dynamical-systems section's numbers: the plain tanh RNN of 'architecture' at its longest
length, seed by seed, before and after training (the gradient reaching each earlier state, the
fitted decay rates, the cue's influence, the accuracy, W_hh's spectral radius and tanh′ where the
records hold them). Read from the records only; the report decides what the numbers say."""
from __future__ import annotations

import math

import numpy as np

from ..aggregate import fit_decay
from .base import Context

EXPERIMENT, VARIANT = "architecture", "rnn_tanh"


def _scalar(rows, stage: str, metric: str) -> float:
    found = rows.loc[(rows["stage"] == stage) & (rows["metric"] == metric), "value"]
    return float(found.iloc[0]) if len(found) else math.nan


def _relative(rows, stage: str, metric: str) -> list[float]:
    """metric at each lag 0 … T−1, divided by its value at lag 0 (NaN where it is missing or 0)."""
    found = rows[(rows["stage"] == stage) & (rows["metric"] == metric)].sort_values("time_lag")
    values = found["value"].to_numpy(float)
    if not len(values) or not values[0] > 0:
        return []
    with np.errstate(divide="ignore", invalid="ignore"):
        return [float(v) for v in values / values[0]]


def dynamics(ctx: Context) -> dict:
    """Per seed of the tanh RNN at the longest length of 'architecture' (gain 1): both gradient
    curves relative to the last state, their fitted rates (lags ≥ 1) with R², accuracy, chance, cue
    influence, log10 ‖∂y/∂x_first‖/‖∂y/∂x_last‖ after training, ρ(W_hh) and mean tanh′. {} when the
    build has no such trained cell (an --only build, or no training)."""
    if not ctx.has(EXPERIMENT):
        return {}
    rows = ctx.part(EXPERIMENT)
    rows = rows[(rows["variant"] == VARIANT) & (rows["gain"] == 1.0) & (rows["budget"] > 0)]
    if rows.empty:
        return {}
    length = int(rows["length"].max())
    rows = rows[rows["length"] == length]
    seeds = []
    for seed, cell in rows.groupby("seed", sort=True):
        init, trained = _relative(cell, "init", "grad_norm_state"), _relative(cell, "trained", "grad_norm_state")
        accuracy = _scalar(cell, "trained", "final_accuracy")
        if not init or not trained or not math.isfinite(accuracy):
            continue  # a diverged run has no trained curve or accuracy: nothing to place it by
        lags = np.arange(len(init), dtype=float)
        fit_init, fit_trained = fit_decay(lags, np.array(init)), fit_decay(np.arange(len(trained), dtype=float),
                                                                          np.array(trained))
        sens = _relative(cell, "trained", "sensitivity_input")
        seeds.append({"seed": int(seed), "accuracy": accuracy, "chance": _scalar(cell, "trained", "chance"),
                      "influence": _scalar(cell, "trained", "cue_influence"),
                      "init": init, "trained": trained,
                      "rate_init": fit_init["rate"], "r2_init": fit_init["r2"],
                      "rate_trained": fit_trained["rate"], "r2_trained": fit_trained["r2"],
                      "sens_log10": math.log10(sens[-1]) if sens and sens[-1] > 0 else math.nan,
                      "radius_init": _scalar(cell, "init", "spectral_radius_whh"),
                      "radius_trained": _scalar(cell, "trained", "spectral_radius_whh"),
                      "deriv_init": _scalar(cell, "init", "act_deriv_mean"),
                      "deriv_trained": _scalar(cell, "trained", "act_deriv_mean")})
    if not seeds:
        return {}
    return {"experiment": EXPERIMENT, "variant": VARIANT, "label": ctx.describe(EXPERIMENT, VARIANT),
            "length": length, "budget": int(rows["budget"].max()), "hidden": int(rows["hidden"].iloc[0]),
            "seeds": seeds}
