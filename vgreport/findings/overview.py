"""The report's first page: one point per model and initialisation (the decay rate of its gradient
at initialisation against the accuracy it reached at the longest length), and a worked example
with this build's numbers that a student can redo by hand."""
from __future__ import annotations

import math

from .base import Context
from .tables import config_outcomes, mean_scalar, rates

# (experiment, variant, family) in the order the hero figure labels them.
POINTS = (("architecture", "rnn_tanh", "plain RNN"), ("init", "xavier", "plain RNN"),
          ("init", "orthogonal", "plain RNN"), ("init", "irnn", "plain RNN"),
          ("architecture", "lstm_default", "LSTM"), ("architecture", "lstm_forget_bias_1", "LSTM"),
          ("architecture", "lstm_chrono", "LSTM"), ("architecture", "gru", "GRU"),
          ("architecture", "transformer", "attention"))


def points(ctx: Context) -> list[dict]:
    """Each model's rate at initialisation and final accuracy at its experiment's longest length."""
    out = []
    for experiment, variant, family in POINTS:
        if not ctx.has(experiment):
            continue
        outcomes = {c: o for c, o in config_outcomes(ctx, experiment).items() if c.variant == variant}
        if not outcomes:
            continue
        config, o = max(outcomes.items(), key=lambda item: item[0].length)
        r = rates(ctx, experiment).get(config)
        if r is None or not math.isfinite(r["rate"].mean):
            continue
        out.append({"label": o.label, "family": family, "experiment": experiment, "variant": variant,
                    "length": config.length, "rate": r["rate"].mean, "acc": o.score.mean, "acc_lo": o.score.lo,
                    "acc_hi": o.score.hi, "learned": o.learned.k, "seeds": o.n, "chance": o.chance})
    return out


def worked_example(ctx: Context) -> dict:
    """The tanh RNN at PyTorch's default initialisation ('init'): its W_hh's σ_max, the per-step factor
    e^r measured at initialisation, and what that factor predicts k steps back, next to what was measured."""
    if not ctx.has("init"):
        return {}
    table = {c: r for c, r in rates(ctx, "init").items() if c.variant == "default"}
    if not table:
        return {}
    config, r = next(iter(table.items()))
    rate = r["rate"].mean
    if not math.isfinite(rate):
        return {}
    from ..aggregate import lag_profiles
    profile = lag_profiles(ctx.part("init"), "init", "grad_norm_state", "init")
    profile = profile[(profile["variant"] == "default") & (profile["length"] == config.length)]
    steps = [k for k in (1, 5, 10, 20) if k < config.length]
    measured = {}
    for k in steps:
        ratios = []
        for _, g in profile.groupby("seed"):
            last = g.loc[g["time_lag"] == 0, "value"]
            at = g.loc[g["time_lag"] == k, "value"]
            if len(last) and len(at) and last.iloc[0] > 0 and at.iloc[0] > 0:
                ratios.append(math.log(at.iloc[0] / last.iloc[0]))
        measured[k] = math.exp(sum(ratios) / len(ratios)) if ratios else math.nan
    factor = math.exp(rate)
    return {"label": ctx.describe("init", "default"), "length": config.length, "hidden": int(
        ctx.part("init")["hidden"].iloc[0]), "sigma": mean_scalar(ctx, "init", "sigma_max_whh", "default"),
            "radius": mean_scalar(ctx, "init", "spectral_radius_whh", "default"),
            "deriv_mean": mean_scalar(ctx, "init", "act_deriv_mean", "default"), "rate": rate, "factor": factor,
            "steps": {k: {"predicted": factor ** k, "measured": measured[k]} for k in steps}}
