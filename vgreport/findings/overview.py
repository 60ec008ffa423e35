"""The report's first page: one point per model and initialisation (the decay rate of its gradient
at initialisation against the accuracy it reached at the longest length), and a worked example
with this build's numbers that a student can redo by hand."""
from __future__ import annotations

import math

from .base import Context, Undecidable
from .tables import config_outcome, mean_scalar, rates

# The experiments whose models the hero figure draws: every architecture ('architecture') and every
# initialisation of the plain RNN ('init'), each on first-token recall.
EXPERIMENTS = ("architecture", "init")


def _models(ctx: Context) -> list[tuple[str, str, str]]:
    """(experiment, variant, family) of each model of EXPERIMENTS, once (the first experiment that has
    it), grouped by its architecture's family in the order of the registry (architectures.py), the
    variants of each experiment in battery order."""
    from ..architectures import ARCHITECTURES
    rank: dict[str, int] = {}
    for entry in ARCHITECTURES.values():
        rank.setdefault(entry.family, len(rank))
    found, seen = [], set()
    for experiment in EXPERIMENTS:
        if not ctx.has(experiment):
            continue
        rows = ctx.part(experiment)
        exp = ctx.experiments.get(experiment)
        present = list(rows["variant"].unique())
        variants = [v for v in exp.variants if v in present] if exp is not None else present
        for variant in variants:
            label = ctx.describe(experiment, variant)
            if label in seen:
                continue
            seen.add(label)
            entry = ARCHITECTURES.get(rows.loc[rows["variant"] == variant, "arch"].iloc[0])
            found.append((experiment, variant, entry.family if entry else "other"))
    return sorted(found, key=lambda m: rank.get(m[2], len(rank)))


def points(ctx: Context) -> list[dict]:
    """Each model's rate at initialisation and final accuracy at its experiment's longest length."""
    out = []
    for experiment, variant, family in _models(ctx):
        try:
            o = config_outcome(ctx, experiment, variant)
        except Undecidable:  # several configurations of the variant at its longest length: no one point
            continue
        if o is None:
            continue
        r = rates(ctx, experiment).get(o.config)
        if r is None or not math.isfinite(r["rate"].mean):
            continue
        out.append({"label": o.label, "family": family, "experiment": experiment, "variant": variant,
                    "length": o.config.length, "steps": o.config.budget, "rate": r["rate"].mean, "acc": o.score.mean, "acc_lo": o.score.lo,
                    "acc_hi": o.score.hi, "solved": o.solved.k, "seeds": o.n, "chance": o.chance})
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
