"""Stage 8: findings. Each claim's criterion is code; verdicts come from this build's records.

A verdict is computed from intervals across seeds (t-intervals), never from a mean alone.
Missing experiments (a build with --only) or too few seeds give "inconclusive" with the reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import figures
from .aggregate import (decay_rates, final_scores, fit_decay, interval, lag_profiles, scalar_by_cell,
                        select, wilson)
from .tasks import ADDING_BASELINE_MSE, copy_baseline_nats

__all__ = ["VERDICTS", "Figure", "Finding", "evaluate", "CHANCE_MARGIN"]

VERDICTS = ("supported", "partly supported", "not supported", "inconclusive")
# "Learned" means the accuracy interval lies this far above chance; "at chance" means its
# upper end lies below chance + this margin. 0.1 is ten binomial standard errors at n = 1024.
CHANCE_MARGIN = 0.1
# Adding problem: learned when the MSE interval lies below half the predict-1 baseline,
# at baseline when it lies above 80% of it.
ADDING_LEARNED, ADDING_FAILED = 0.5, 0.8


@dataclass(frozen=True)
class Figure:
    key: str          # unique within its finding, e.g. "decay"
    svg: str          # inline SVG markup (deterministic)
    caption: str      # one or two sentences, may quote numbers (formatted from records)
    alt: str          # alt text written from the data: what it shows and the key numbers


@dataclass
class Finding:
    id: str                       # "C1".."C10", then G1, G2 (extra findings) and L1 (literature)
    title: str
    claim: str
    verdict: str                  # one of VERDICTS
    criterion: str                # the rule, in words, thresholds included
    numbers: dict[str, Any] = field(default_factory=dict)   # everything the prose quotes
    seeds: list[int] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    reason: str = ""              # why the verdict is what it is, in one sentence (from the data)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "claim": self.claim, "verdict": self.verdict,
                "criterion": self.criterion, "reason": self.reason, "numbers": self.numbers,
                "seeds": self.seeds, "experiments": self.experiments,
                "figures": [{"key": f.key, "caption": f.caption, "alt": f.alt} for f in self.figures]}


def combine(parts: list[bool | None]) -> str:
    """All parts hold: supported; some: partly; none: not supported; nothing known: inconclusive."""
    known = [p for p in parts if p is not None]
    if not known:
        return "inconclusive"
    if all(known) and len(known) == len(parts):
        return "supported"
    if any(known):
        return "partly supported"
    return "not supported" if len(known) == len(parts) else "inconclusive"


class _Context:
    def __init__(self, frame: pd.DataFrame, battery):
        self.frame = frame
        self.battery = battery
        self.experiments = {e.name: e for e in battery.experiments} if battery is not None else {}
        self.present = set(frame["experiment"].unique()) if len(frame) else set()

    def has(self, *names: str) -> bool:
        return all(n in self.present for n in names)

    def seeds(self, *names: str) -> list[int]:
        rows = self.frame[self.frame["experiment"].isin(names)]
        return sorted(int(s) for s in rows["seed"].unique())

    def eval_size(self, name: str) -> int:
        exp = self.experiments.get(name)
        return exp.train.eval_size if exp else 1024

    def describe(self, name: str, variant: str) -> str:
        exp = self.experiments.get(name)
        if exp is None:
            return variant
        cells = [c for c in exp.cells() if c.variant == variant]
        return cells[0].model.describe() if cells else variant


# ---------------------------------------------------------------- shared measurements

def _accuracy_table(ctx: _Context, experiment: str) -> pd.DataFrame:
    """Per variant and length: interval of the final score across seeds, chance, learned/at chance."""
    scores = final_scores(ctx.frame, experiment)
    rows = []
    for (variant, length), group in scores.groupby(["variant", "length"], sort=False):
        stats_ = interval(group["score"])
        chance = float(group["chance"].iloc[0])
        task = group["task"].iloc[0]
        rows.append({"variant": variant, "length": int(length), "task": task, "chance": chance,
                     **stats_, "seeds": sorted(int(s) for s in group["seed"]),
                     "per_seed": [float(v) for v in group.sort_values("seed")["score"]],
                     "learned": _learned(stats_, chance, task), "failed": _failed(stats_, chance, task)})
    return pd.DataFrame(rows)


def _learned(s: dict, chance: float, task: str) -> bool | None:
    if s["n"] < 2:
        return None
    if task == "adding":
        return s["hi"] < ADDING_LEARNED * chance
    return s["lo"] > chance + CHANCE_MARGIN


def _failed(s: dict, chance: float, task: str) -> bool | None:
    if s["n"] < 2:
        return None
    if task == "adding":
        return s["lo"] > ADDING_FAILED * chance
    return s["hi"] < chance + CHANCE_MARGIN


def _row(table: pd.DataFrame, variant: str, length: int | None = None) -> dict | None:
    sel = table[table["variant"] == variant]
    if length is not None:
        sel = sel[sel["length"] == length]
    return None if sel.empty else sel.iloc[0].to_dict()


def _rates(ctx: _Context, experiment: str, stage: str = "init") -> pd.DataFrame:
    """Per variant, length, gain: interval of the fitted per-step decay rate, mean R^2."""
    per_cell = decay_rates(ctx.frame, experiment, stage)
    rows = []
    for key, group in per_cell.groupby(["variant", "length", "gain"], sort=False):
        rows.append({"variant": key[0], "length": int(key[1]), "gain": float(key[2]),
                     **interval(group["rate"]), "r2": float(group["r2"].mean()),
                     "r2_min": float(group["r2"].min())})
    return pd.DataFrame(rows)


def _profile_series(ctx: _Context, experiment: str, variants: list[str], length: int | None = None,
                    metric: str = "grad_norm_state", stage: str = "init", label=None) -> list[dict]:
    """Geometric mean over seeds (and min/max band) of value(lag)/value(0), one series per variant."""
    series = []
    profiles = lag_profiles(ctx.frame, experiment, metric, stage)
    for variant in variants:
        rows = profiles[profiles["variant"] == variant]
        if length is not None:
            rows = rows[rows["length"] == length]
        if rows.empty:
            continue
        wide = rows.pivot_table(index="time_lag", columns="seed", values="value")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = wide / wide.iloc[0]
            logs = np.log(ratio.where(ratio > 0))
        series.append({"label": label(variant) if label else ctx.describe(experiment, variant),
                       "lags": wide.index.to_numpy(), "mean": np.exp(logs.mean(axis=1)).to_numpy(),
                       "lo": np.exp(logs.min(axis=1)).to_numpy(), "hi": np.exp(logs.max(axis=1)).to_numpy()})
    return series


def _mean_scalar(ctx, experiment, metric, variant=None, stage="init") -> float:
    rows = scalar_by_cell(ctx.frame, experiment, metric, stage)
    if variant is not None:
        rows = rows[rows["variant"] == variant]
    return float(rows["value"].mean()) if len(rows) else math.nan


def _inconclusive(fid, title, claim, criterion, reason, experiments, ctx) -> Finding:
    return Finding(fid, title, claim, "inconclusive", criterion, {"missing": reason}, ctx.seeds(*experiments),
                   list(experiments), [], reason)


def _enough_seeds(ctx: _Context, *names: str) -> bool:
    return len(ctx.seeds(*names)) >= 2


def _score_series(table: pd.DataFrame, ctx: _Context, experiment: str, variants: list[str]) -> list[dict]:
    out = []
    for variant in variants:
        rows = table[table["variant"] == variant].sort_values("length")
        if rows.empty:
            continue
        out.append({"label": ctx.describe(experiment, variant), "x": rows["length"].to_numpy(float),
                    "mean": rows["mean"].to_numpy(float),
                    "lo": rows["lo"].fillna(rows["mean"]).to_numpy(float),
                    "hi": rows["hi"].fillna(rows["mean"]).to_numpy(float)})
    return out


# ---------------------------------------------------------------- the claims

def _c1(ctx: _Context) -> Finding:
    title = "Backpropagation through time multiplies one Jacobian per step"
    claim = "BPTT multiplies one Jacobian per step: ∂h_T/∂h_k = Π_j diag(f′(a_j))·W_hh."
    criterion = ("Supported when, for every plain-RNN cell at initialisation, the gradient built by "
                 "multiplying the explicit Jacobians equals autograd's ‖∂L/∂h_k‖ at every step to a "
                 "relative error below 1e-6, and the measured ratio ‖∂L/∂h_k‖/‖∂L/∂h_T‖ never exceeds "
                 "the operator norm of the Jacobian product (a bound that must hold).")
    exp = "activation"
    if not ctx.has(exp):
        return _inconclusive("C1", title, claim, criterion, "experiment 'activation' not in this build", [exp], ctx)
    chain = lag_profiles(ctx.frame, exp, "jacobian_chain_norm")
    auto = lag_profiles(ctx.frame, exp, "grad_norm_state_sub")
    opnorm = lag_profiles(ctx.frame, exp, "jacobian_product_opnorm")
    merged = chain.merge(auto, on=["experiment", "variant", "length", "gain", "seed", "time_lag"],
                         suffixes=("_chain", "_auto")).merge(
        opnorm.rename(columns={"value": "value_op"}), on=["experiment", "variant", "length", "gain", "seed", "time_lag"])
    if merged.empty:
        return _inconclusive("C1", title, claim, criterion, "no Jacobian measurements recorded", [exp], ctx)
    scale = merged["value_auto"].where(merged["value_auto"] > 0)
    rel_err = ((merged["value_chain"] - merged["value_auto"]).abs() / scale).max()
    last = merged[merged["time_lag"] == 0].set_index(["variant", "seed"])["value_auto"]
    merged["ratio"] = merged["value_auto"] / merged.set_index(["variant", "seed"]).index.map(last)
    violations = int((merged["ratio"] > merged["value_op"] * (1 + 1e-9)).sum())
    exact = bool(rel_err < 1e-6)
    bounded = violations == 0
    verdict = combine([exact, bounded])
    T = int(merged["length"].max())
    lag = min(T - 1, 20)
    at = merged[merged["time_lag"] == lag].groupby("variant")
    numbers = {"max_rel_err": float(rel_err), "cells": int(merged.groupby(["variant", "seed"]).ngroups),
               "lags": int(merged["time_lag"].nunique()), "length": T, "violations": violations, "lag": lag,
               "ratio_at_lag": {v: float(np.exp(np.log(g["ratio"]).mean())) for v, g in at},
               "opnorm_at_lag": {v: float(np.exp(np.log(g["value_op"]).mean())) for v, g in at}}
    series = []
    for variant in ["sigmoid", "tanh", "relu", "identity"]:
        rows = merged[(merged["variant"] == variant) & (merged["seed"] == merged["seed"].min())].sort_values("time_lag")
        if rows.empty:
            continue
        series.append({"label": ctx.describe(exp, variant), "lags": rows["time_lag"].to_numpy(),
                       "measured": rows["ratio"].to_numpy(), "chain": (rows["value_chain"] / rows["value_auto"].iloc[0]).to_numpy(),
                       "opnorm": rows["value_op"].to_numpy()})
    fig = Figure("jacobians", figures.jacobian_check(series),
                 "Measured gradient ratio ‖∂L/∂h_k‖/‖∂L/∂h_T‖ (autograd, lines), the explicit product of "
                 "Jacobians applied to ∂L/∂h_T (markers), and the operator norm of the Jacobian product "
                 "(dashed), for one seed of each activation.",
                 f"Log-scale plot of gradient ratio against distance for {len(series)} activations. The "
                 f"explicit Jacobian product lies on the autograd curve (largest relative error "
                 f"{rel_err:.1e}); every curve stays under its operator-norm bound.")
    reason = (f"largest relative error {rel_err:.1e} over {numbers['cells']} cells; "
              f"{violations} bound violations")
    return Finding("C1", title, claim, verdict, criterion, numbers, ctx.seeds(exp), [exp], [fig], reason)


def _c2(ctx: _Context) -> Finding:
    title = "With tanh or sigmoid the gradient shrinks exponentially with distance"
    claim = "With tanh or sigmoid activations the gradient shrinks exponentially with the distance in time."
    criterion = ("For tanh and for sigmoid (same orthogonal W_hh, at initialisation): the per-step rate r "
                 "fitted to log‖∂L/∂h_k‖ against distance is negative with a 95% interval across seeds "
                 "below 0, the fit's R² is at least 0.9 in every seed, and the interval's upper end lies "
                 "at or below the bound log(γ·σ_max(W_hh)) (γ = 1 for tanh, 1/4 for sigmoid; Pascanu et "
                 "al. 2013). Supported when both activations pass, partly when one does.")
    exp = "activation"
    if not ctx.has(exp):
        return _inconclusive("C2", title, claim, criterion, "experiment 'activation' not in this build", [exp], ctx)
    rates = _rates(ctx, exp)
    numbers: dict[str, Any] = {}
    parts = []
    for act in ("tanh", "sigmoid"):
        r = _row(rates, act)
        bound = _mean_scalar(ctx, exp, "bound_log_rate", act)
        if r is None or r["n"] < 2:
            parts.append(None)
            continue
        ok = bool(r["hi"] < 0 and r["r2_min"] >= 0.9 and r["hi"] <= bound + 1e-9)
        parts.append(ok)
        numbers[act] = {"rate": r["mean"], "lo": r["lo"], "hi": r["hi"], "r2": r["r2_min"], "bound": bound,
                        "factor": math.exp(r["mean"]), "halving": (math.log(2) / -r["mean"]) if r["mean"] < 0 else math.inf,
                        "passes": ok}
    for act in ("relu", "identity"):
        r = _row(rates, act)
        if r is not None:
            numbers[act] = {"rate": r["mean"], "lo": r["lo"], "hi": r["hi"], "r2": r["r2_min"]}
    if ctx.has("init"):
        d = _row(_rates(ctx, "init"), "default")
        if d is not None:
            numbers["default_init"] = {"rate": d["mean"], "lo": d["lo"], "hi": d["hi"],
                                       "sigma": _mean_scalar(ctx, "init", "sigma_max_whh", "default"),
                                       "radius": _mean_scalar(ctx, "init", "spectral_radius_whh", "default")}
    numbers["length"] = int(select(ctx.frame, exp)["length"].max())
    verdict = combine(parts)
    series = _profile_series(ctx, exp, ["sigmoid", "tanh", "relu", "identity"])
    bounds = [{"label": "bound, sigmoid: (σ_max/4)^k", "rate": numbers.get("sigmoid", {}).get("bound", math.nan)},
              {"label": "bound, tanh/ReLU/identity: σ_max^k", "rate": numbers.get("tanh", {}).get("bound", math.nan)}]
    fig = Figure("decay", figures.gradient_vs_lag(series, bounds),
                 "Gradient norm ‖∂L/∂h_k‖ relative to the last step against the distance T−k, at "
                 "initialisation, for four activations with the same orthogonal W_hh (geometric mean over "
                 "seeds, band: min to max). Dashed: the Pascanu bound (γ·σ_max)^(T−k).",
                 _alt_rates("Log-scale gradient against distance", numbers, ["sigmoid", "tanh", "relu", "identity"]))
    reason = "; ".join(f"{a}: r = {numbers[a]['rate']:.3g} per step, R² {numbers[a]['r2']:.3f}"
                       for a in ("tanh", "sigmoid") if a in numbers)
    return Finding("C2", title, claim, verdict, criterion, numbers, ctx.seeds(exp), [exp, "init"], [fig], reason)


def _alt_rates(prefix, numbers, names) -> str:
    parts = [f"{n}: {numbers[n]['rate']:.3g} per step" for n in names if n in numbers and "rate" in numbers[n]]
    return f"{prefix}. Fitted decay rates: " + "; ".join(parts) + "."


def _c3(ctx: _Context) -> Finding:
    title = "After training, a plain RNN is biased towards recent inputs"
    claim = "Early inputs stop influencing learning: the model is biased to recent inputs."
    criterion = ("Supported when both hold: (a) after training at the longest length, the tanh RNN's "
                 "sensitivity ‖∂y/∂x_k‖ to the cue (the first token) is more than 10 times smaller than to "
                 "the last input, with the 95% interval of log10 of that ratio below −1; (b) recall accuracy "
                 "is above chance + 0.1 (interval) for the shortest lag and below chance + 0.1 (interval) "
                 "for the longest. Partly when one holds.")
    needed = ["architecture", "recall_length"]
    if not ctx.has(*needed) or not _enough_seeds(ctx, *needed):
        return _inconclusive("C3", title, claim, criterion, "needs experiments 'architecture' and 'recall_length' with at least 2 seeds", needed, ctx)
    sens = lag_profiles(ctx.frame, "architecture", "sensitivity_input", "trained")
    longest = int(sens["length"].max()) if len(sens) else 0
    sens = sens[sens["length"] == longest]
    ratios = {}
    for variant, group in sens.groupby("variant"):
        per_seed = []
        for _, g in group.groupby("seed"):
            first = g.loc[g["time_lag"] == g["time_lag"].max(), "value"].iloc[0]
            last = g.loc[g["time_lag"] == 0, "value"].iloc[0]
            if first > 0 and last > 0:
                per_seed.append(math.log10(first / last))
        ratios[variant] = interval(per_seed)
    rnn = ratios.get("rnn_tanh")
    part_a = None if rnn is None or rnn["n"] < 2 else bool(rnn["hi"] < -1)
    acc = _accuracy_table(ctx, "recall_length")
    short, long_ = acc.sort_values("length").iloc[0].to_dict(), acc.sort_values("length").iloc[-1].to_dict()
    part_b = None if short["learned"] is None else bool(short["learned"] and long_["failed"])
    numbers = {"length": longest, "log10_ratio": ratios,
               "short": {"lag": short["length"] - 1, "mean": short["mean"], "lo": short["lo"], "hi": short["hi"]},
               "long": {"lag": long_["length"] - 1, "mean": long_["mean"], "lo": long_["lo"], "hi": long_["hi"]},
               "chance": short["chance"]}
    variants = ["rnn_tanh", "lstm_default", "lstm_chrono", "gru", "transformer"]
    series = _profile_series(ctx, "architecture", variants, longest, "sensitivity_input", "trained")
    fig1 = Figure("sensitivity", figures.gradient_vs_lag(series, [], ylabel="‖∂y/∂x_k‖ relative to the last input",
                                                         xlabel="lag of the input (steps before the output)"),
                  f"After training at length {longest}: sensitivity of the output to the input at each lag, "
                  "relative to the last input (geometric mean over seeds; band: min to max). The cue sits at "
                  "the largest lag.",
                  "Log-scale sensitivity against input lag after training. " + "; ".join(
                      f"{ctx.describe('architecture', v)}: cue/last = 10^{r['mean']:.2g}" for v, r in ratios.items() if r["n"]))
    table = acc.assign(variant="recall")
    fig2 = Figure("recall", figures.score_vs_x(_score_series(acc, ctx, "recall_length", ["base"]),
                                               chance=short["chance"], xlabel="sequence length (lag of the cue + 1)",
                                               ylabel="recall accuracy"),
                  "Accuracy of recalling the first token against the sequence length (the cue's lag plus one), "
                  "tanh RNN, mean and 95% interval over seeds; dotted: chance.",
                  f"Recall accuracy against length: {short['mean']:.2f} at length {short['length']}, "
                  f"{long_['mean']:.2f} at length {long_['length']}; chance {short['chance']:.3f}.")
    del table
    verdict = combine([part_a, part_b])
    reason = (f"RNN cue/last sensitivity 10^{rnn['mean']:.2g}" if rnn else "no RNN sensitivity") + \
             f"; recall {short['mean']:.2f} at lag {short['length'] - 1}, {long_['mean']:.2f} at lag {long_['length'] - 1}"
    return Finding("C3", title, claim, verdict, criterion, numbers, ctx.seeds(*needed), needed, [fig1, fig2], reason)


def _c4(ctx: _Context) -> Finding:
    title = "Short dependencies are learned, long ones are not"
    claim = "A plain RNN learns short dependencies but not long ones."
    criterion = ("For the tanh RNN on each task: at the shortest length the score's 95% interval across seeds "
                 "is clearly better than chance (recall: above chance + 0.1; adding: MSE below half the "
                 "predict-1 baseline 1/6) and at the longest length it is not (recall: below chance + 0.1; "
                 "adding: MSE above 80% of the baseline). Supported when both tasks show it, partly when one does.")
    needed = ["recall_length", "adding_length"]
    present = [n for n in needed if ctx.has(n)]
    if not present or not _enough_seeds(ctx, *present):
        return _inconclusive("C4", title, claim, criterion, "needs 'recall_length' or 'adding_length' with at least 2 seeds", needed, ctx)
    numbers: dict[str, Any] = {"chance": 1 / 8, "baseline": ADDING_BASELINE_MSE}
    parts, figs = [], []
    for name, variant, label in (("recall_length", "base", "recall"), ("adding_length", "rnn_tanh", "adding")):
        if not ctx.has(name):
            parts.append(None)
            continue
        acc = _accuracy_table(ctx, name)
        rows = acc[acc["variant"] == variant].sort_values("length")
        short, long_ = rows.iloc[0].to_dict(), rows.iloc[-1].to_dict()
        ok = None if short["learned"] is None else bool(short["learned"] and long_["failed"])
        parts.append(ok)
        numbers[label] = {"short_length": short["length"], "short": short["mean"], "short_lo": short["lo"], "short_hi": short["hi"],
                          "long_length": long_["length"], "long": long_["mean"], "long_lo": long_["lo"], "long_hi": long_["hi"],
                          "by_length": {int(r["length"]): r["mean"] for _, r in rows.iterrows()}, "passes": ok}
        if label == "recall":
            numbers["chance"] = short["chance"]
        variants = [variant] if name == "recall_length" else ["rnn_tanh", "irnn", "lstm_chrono"]
        figs.append(Figure(label, figures.score_vs_x(_score_series(acc, ctx, name, variants), chance=short["chance"],
                                                     xlabel="sequence length",
                                                     ylabel="accuracy" if label == "recall" else "test MSE",
                                                     chance_label="chance" if label == "recall" else "predict-1 baseline 1/6",
                                                     lower_is_better=label == "adding"),
                           ("First-token recall" if label == "recall" else "Adding problem") +
                           " against sequence length, mean and 95% interval over seeds; dotted: " +
                           ("chance." if label == "recall" else "the predict-1 baseline 1/6."),
                           f"{label} score against length for the tanh RNN: {short['mean']:.3g} at length "
                           f"{short['length']}, {long_['mean']:.3g} at length {long_['length']}."))
    verdict = combine(parts)
    reason = "; ".join(f"{k}: {numbers[k]['short']:.3g} at T={numbers[k]['short_length']}, "
                       f"{numbers[k]['long']:.3g} at T={numbers[k]['long_length']}" for k in ("recall", "adding") if k in numbers)
    return Finding("C4", title, claim, verdict, criterion, numbers, ctx.seeds(*present), needed, figs, reason)


def _c5(ctx: _Context) -> Finding:
    title = "More training does not rescue a plain RNN at long range"
    claim = "More data or longer training does not fix a plain RNN."
    criterion = ("At the longest length with four times the budget, each seed's accuracy counts as "
                 "'learned' when its 95% Wilson interval on the held-out set lies above chance + 0.1. "
                 "Supported when no seed of the default tanh RNN learns with 4× the budget and no other "
                 "initialisation does either; partly when the default stays at chance but orthogonal or IRNN "
                 "initialisation learns (the init, not the budget, rescues it); not supported when every "
                 "seed of the default tanh RNN learns with 4× the budget; otherwise (some seeds) partly.")
    exp = "budget"
    if not ctx.has(exp) or not _enough_seeds(ctx, exp):
        return _inconclusive("C5", title, claim, criterion, "needs experiment 'budget' with at least 2 seeds", [exp], ctx)
    curves = select(ctx.frame, exp, stage="train", metric="eval_accuracy")
    n_eval = ctx.eval_size(exp)
    chance = float(select(ctx.frame, exp, metric="chance")["value"].iloc[0])
    budget = int(curves["budget"].max())
    quarter = budget // 4
    numbers: dict[str, Any] = {"budget": budget, "quarter": quarter, "chance": chance,
                               "length": int(curves["length"].max()), "variants": {}}
    learned = {}
    for variant, group in curves.groupby("variant", sort=False):
        at_q, at_end, seeds_learned, seeds_learned_q = [], [], 0, 0
        for seed, g in group.groupby("seed"):
            end = g.loc[g["step"] == g["step"].max(), "value"].iloc[0]
            q_rows = g[g["step"] <= quarter]
            q = q_rows.loc[q_rows["step"].idxmax(), "value"] if len(q_rows) else math.nan
            at_q.append(q)
            at_end.append(end)
            seeds_learned += wilson(end * n_eval, n_eval)[0] > chance + CHANCE_MARGIN
            seeds_learned_q += wilson(q * n_eval, n_eval)[0] > chance + CHANCE_MARGIN
        n = group["seed"].nunique()
        learned[variant] = (seeds_learned, n)
        numbers["variants"][variant] = {"label": ctx.describe(exp, variant), "seeds": n,
                                        "at_quarter": interval(at_q), "at_end": interval(at_end),
                                        "learned_end": seeds_learned, "learned_quarter": seeds_learned_q,
                                        "per_seed_end": at_end, "per_seed_quarter": at_q}
    default, n_default = learned.get("rnn_tanh", (0, 0))
    others = sum(v[0] for k, v in learned.items() if k != "rnn_tanh")
    if n_default == 0:
        verdict = "inconclusive"
    elif default == 0:
        verdict = "supported" if others == 0 else "partly supported"
    elif default == n_default:
        verdict = "not supported"
    else:
        verdict = "partly supported"
    series = []
    for variant, group in curves.groupby("variant", sort=False):
        wide = group.pivot_table(index="step", columns="seed", values="value")
        series.append({"label": ctx.describe(exp, variant), "x": wide.index.to_numpy(float),
                       "mean": wide.mean(axis=1).to_numpy(), "lo": wide.min(axis=1).to_numpy(),
                       "hi": wide.max(axis=1).to_numpy()})
    fig = Figure("budget", figures.curves(series, chance=chance, xlabel="training step", ylabel="held-out accuracy",
                                          marks=[quarter]),
                 f"Held-out accuracy during training at length {numbers['length']} with four times the standard "
                 f"budget (mean over seeds; band: min to max). The vertical line marks the standard budget; dotted: chance.",
                 "Accuracy against training step. " + "; ".join(
                     f"{v['label']}: {v['at_quarter']['mean']:.2f} at step {quarter}, {v['at_end']['mean']:.2f} at step {budget}, "
                     f"{v['learned_end']} of {v['seeds']} seeds learned" for v in numbers["variants"].values()) + ".")
    reason = f"default tanh RNN: {default} of {n_default} seeds learned with 4× budget; other inits: {others} seeds"
    return Finding("C5", title, claim, verdict, criterion, numbers, ctx.seeds(exp), [exp], [fig], reason)


def _c6(ctx: _Context) -> Finding:
    title = "Gated cells preserve gradients over long spans"
    claim = "LSTM and GRU gates preserve gradients over long spans."
    criterion = ("At the longest length: a gated model 'learns' when its accuracy interval lies above chance "
                 "+ 0.1 while the tanh RNN's lies below it, and 'preserves' the gradient when its fitted decay "
                 "rate at initialisation has a 95% interval entirely above (closer to zero than) the RNN's. "
                 "Supported when every gated model (each LSTM initialisation and the GRU) learns and "
                 "preserves; partly when some do; not supported when none does.")
    exp = "architecture"
    if not ctx.has(exp) or not _enough_seeds(ctx, exp):
        return _inconclusive("C6", title, claim, criterion, "needs experiment 'architecture' with at least 2 seeds", [exp], ctx)
    acc = _accuracy_table(ctx, exp)
    longest = int(acc["length"].max())
    rates = _rates(ctx, exp)
    rnn_acc, rnn_rate = _row(acc, "rnn_tanh", longest), _row(rates[rates["length"] == longest], "rnn_tanh")
    gated = [v for v in ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru") if _row(acc, v) is not None]
    numbers: dict[str, Any] = {"length": longest, "chance": float(acc["chance"].iloc[0]), "models": {}}
    parts = []
    for v in ["rnn_tanh"] + gated:
        a, r = _row(acc, v, longest), _row(rates[rates["length"] == longest], v)
        numbers["models"][v] = {"label": ctx.describe(exp, v), "acc": a["mean"], "acc_lo": a["lo"], "acc_hi": a["hi"],
                                "rate": r["mean"] if r else math.nan, "rate_lo": r["lo"] if r else math.nan,
                                "rate_hi": r["hi"] if r else math.nan}
        if v == "rnn_tanh":
            continue
        learns = bool(a["learned"] and rnn_acc["failed"]) if a["learned"] is not None else None
        preserves = bool(r and rnn_rate and r["lo"] > rnn_rate["hi"]) if r and r["n"] >= 2 else None
        numbers["models"][v].update({"learns": learns, "preserves": preserves})
        parts.append(None if learns is None or preserves is None else bool(learns and preserves))
    verdict = combine(parts)
    variants = ["rnn_tanh"] + gated
    fig1 = Figure("gradients", figures.gradient_vs_lag(
        _profile_series(ctx, exp, variants, longest),
        [{"label": "bound for the tanh RNN: (σ_max)^k", "rate": _mean_scalar(ctx, exp, "bound_log_rate", "rnn_tanh")}]),
        f"Gradient norm relative to the last step against distance at initialisation, length {longest}, "
        "for the tanh RNN and the gated cells with their initialisation named (geometric mean over seeds).",
        "Log-scale gradient against distance. " + "; ".join(
            f"{m['label']}: rate {m['rate']:.3g} per step" for m in numbers["models"].values()) + ".")
    fig2 = Figure("accuracy", figures.score_vs_x(_score_series(acc, ctx, exp, variants), chance=numbers["chance"],
                                                 xlabel="sequence length", ylabel="recall accuracy", logx=True),
                  "First-token recall accuracy against length, same budget for every model (mean and 95% interval "
                  "over seeds); dotted: chance.",
                  "Accuracy against length. " + "; ".join(
                      f"{m['label']}: {m['acc']:.2f} at length {longest}" for m in numbers["models"].values()) + ".")
    reason = "; ".join(f"{m['label']}: accuracy {m['acc']:.2f}, rate {m['rate']:.3g}" for m in numbers["models"].values())
    return Finding("C6", title, claim, verdict, criterion, numbers, ctx.seeds(exp), [exp], [fig1, fig2], reason)


def _c7(ctx: _Context) -> Finding:
    title = "Careful initialisation helps"
    claim = "Careful initialisation (orthogonal, identity/IRNN, gain near the critical value, LSTM gate biases) helps."
    criterion = ("A careful initialisation 'helps' when its accuracy interval lies entirely above the PyTorch "
                 "default's for the same architecture and task (RNN at length 50 in 'init'; LSTM at the longest "
                 "length in 'architecture'). Supported when one helps for the RNN and one for the LSTM; partly "
                 "when one helps for only one of them or only the mean is better; not supported when no mean is better.")
    names = [n for n in ("init", "architecture") if ctx.has(n)]
    if not names or not _enough_seeds(ctx, *names):
        return _inconclusive("C7", title, claim, criterion, "needs 'init' or 'architecture' with at least 2 seeds", ["init", "architecture", "gain_sweep"], ctx)
    numbers: dict[str, Any] = {"rnn": {}, "lstm": {}}
    parts, figs = [], []
    for name, group, default, careful in (("init", "rnn", "default", ["xavier", "orthogonal", "irnn"]),
                                           ("architecture", "lstm", "lstm_default", ["lstm_forget_bias_1", "lstm_chrono"])):
        if not ctx.has(name):
            parts.append(None)
            continue
        acc = _accuracy_table(ctx, name)
        length = int(acc["length"].max())
        base = _row(acc, default, length)
        helps, mean_better = [], []
        for v in [default] + careful:
            r = _row(acc, v, length)
            if r is None:
                continue
            numbers[group][v] = {"label": ctx.describe(name, v), "acc": r["mean"], "lo": r["lo"], "hi": r["hi"], "length": length}
            if v != default:
                helps.append(bool(r["lo"] > base["hi"]))
                mean_better.append(bool(r["mean"] > base["mean"]))
        parts.append(True if any(helps) else (None if any(mean_better) else False))
        numbers[group]["any_helps"] = any(helps)
        numbers[group]["any_mean_better"] = any(mean_better)
    verdict = combine(parts)
    if verdict == "inconclusive" and any(numbers[g].get("any_mean_better") for g in ("rnn", "lstm")):
        verdict = "partly supported"
    if ctx.has("init"):
        acc = _accuracy_table(ctx, "init")
        rows = [{"label": ctx.describe("init", v), **_row(acc, v)} for v in ["default", "xavier", "orthogonal", "irnn"] if _row(acc, v)]
        chance = float(acc["chance"].iloc[0])
        figs.append(Figure("rnn_inits", figures.bars(rows, chance=chance, ylabel="recall accuracy"),
                           f"Plain RNN, first-token recall at length {int(acc['length'].max())}: final accuracy per "
                           "initialisation (mean, 95% interval and each seed); dotted: chance.",
                           "Bar chart of accuracy per initialisation: " + "; ".join(f"{r['label']}: {r['mean']:.2f}" for r in rows) + "."))
        series = _profile_series(ctx, "init", ["default", "xavier", "orthogonal", "irnn"])
        numbers["rnn_rates"] = {v: r["mean"] for v, r in _rates(ctx, "init").set_index("variant").iterrows()}
        figs.append(Figure("rnn_init_gradients", figures.gradient_vs_lag(series, []),
                           "Gradient norm relative to the last step against distance at initialisation for each RNN "
                           "initialisation (geometric mean over seeds).",
                           "Log-scale gradient against distance; fitted rates " + "; ".join(
                               f"{ctx.describe('init', v)}: {r:.3g}" for v, r in numbers["rnn_rates"].items()) + "."))
    reason = "; ".join(f"{g}: {'an init beats the default' if numbers[g].get('any_helps') else 'no init clearly beats the default'}"
                       for g in ("rnn", "lstm") if numbers[g])
    return Finding("C7", title, claim, verdict, criterion, numbers, ctx.seeds(*names), ["init", "architecture", "gain_sweep"], figs, reason)


def _c8(ctx: _Context) -> Finding:
    title = "Activations that shrink the gradient less train better"
    claim = "Activations less prone to shrinking gradients help."
    criterion = ("With the same orthogonal W_hh: (a) the decay rate is ordered by the mean derivative f′ along "
                 "the trajectories (Spearman rank correlation ≥ 0.8 across the four activations); (b) the "
                 "activation whose gradient decays slowest has an accuracy interval entirely above that of the "
                 "one whose gradient decays fastest. Supported when both hold, partly when one holds.")
    exp = "activation"
    if not ctx.has(exp) or not _enough_seeds(ctx, exp):
        return _inconclusive("C8", title, claim, criterion, "needs experiment 'activation' with at least 2 seeds", [exp], ctx)
    from scipy.stats import spearmanr
    rates = _rates(ctx, exp).set_index("variant")
    acc = _accuracy_table(ctx, exp).set_index("variant")
    acts = [a for a in ("sigmoid", "tanh", "relu", "identity") if a in rates.index]
    numbers: dict[str, Any] = {"activations": {}}
    for a in acts:
        numbers["activations"][a] = {
            "deriv_mean": _mean_scalar(ctx, exp, "act_deriv_mean", a), "deriv_p10": _mean_scalar(ctx, exp, "act_deriv_p10", a),
            "deriv_p50": _mean_scalar(ctx, exp, "act_deriv_p50", a), "deriv_p90": _mean_scalar(ctx, exp, "act_deriv_p90", a),
            "frac_small": _mean_scalar(ctx, exp, "act_deriv_frac_small", a),
            "rate": rates.loc[a, "mean"], "rate_lo": rates.loc[a, "lo"], "rate_hi": rates.loc[a, "hi"],
            "acc": acc.loc[a, "mean"], "acc_lo": acc.loc[a, "lo"], "acc_hi": acc.loc[a, "hi"]}
    derivs = [numbers["activations"][a]["deriv_mean"] for a in acts]
    rate_means = [numbers["activations"][a]["rate"] for a in acts]
    rho = float(spearmanr(derivs, rate_means).statistic) if len(acts) >= 3 else math.nan
    slowest, fastest = acts[int(np.argmax(rate_means))], acts[int(np.argmin(rate_means))]
    part_a = bool(rho >= 0.8) if np.isfinite(rho) else None
    part_b = bool(acc.loc[slowest, "lo"] > acc.loc[fastest, "hi"])
    numbers.update({"spearman": rho, "slowest": slowest, "fastest": fastest, "chance": float(acc["chance"].iloc[0]),
                    "length": int(acc["length"].max())})
    verdict = combine([part_a, part_b])
    deriv_rows = [{"label": a, "p10": numbers["activations"][a]["deriv_p10"], "p50": numbers["activations"][a]["deriv_p50"],
                   "p90": numbers["activations"][a]["deriv_p90"], "mean": numbers["activations"][a]["deriv_mean"]} for a in acts]
    fig1 = Figure("derivatives", figures.derivative_ranges(deriv_rows),
                  "Distribution of f′(a) along the probe trajectories at initialisation: 10th–90th percentile "
                  "(bar), median (tick) and mean (marker). Sigmoid′ can never exceed 1/4 (dashed).",
                  "Derivative ranges per activation: " + "; ".join(
                      f"{r['label']} mean {r['mean']:.2f}" for r in deriv_rows) + ".")
    fig2 = Figure("trainability", figures.rate_vs_accuracy(
        [{"label": a, "rate": numbers["activations"][a]["rate"], "acc": numbers["activations"][a]["acc"],
          "acc_lo": numbers["activations"][a]["acc_lo"], "acc_hi": numbers["activations"][a]["acc_hi"]} for a in acts],
        chance=numbers["chance"]),
        "Final recall accuracy (mean and 95% interval over seeds) against the per-step decay rate of the gradient "
        f"at initialisation, length {numbers['length']}; dotted: chance.",
        "Accuracy against decay rate: " + "; ".join(
            f"{a}: rate {numbers['activations'][a]['rate']:.3g}, accuracy {numbers['activations'][a]['acc']:.2f}" for a in acts) + ".")
    reason = f"Spearman(mean f′, rate) = {rho:.2f}; slowest decay {slowest}, fastest {fastest}"
    return Finding("C8", title, claim, verdict, criterion, numbers, ctx.seeds(exp), [exp], [fig1, fig2], reason)


def _c9(ctx: _Context) -> Finding:
    title = "Clipping tames exploding gradients, not vanishing ones"
    claim = "Gradient clipping tames exploding gradients but does nothing for vanishing ones."
    criterion = ("Exploding regime: supported part when no clipped run diverges and at least half of the "
                 "unclipped runs do. Vanishing regime: supported part when clipping changes neither the accuracy "
                 "nor the decay rate after training: the 95% interval of each difference (clipped − unclipped, "
                 "Welch) contains 0 and the accuracy difference is below 0.1 in size. Supported when both parts "
                 "hold, partly when one does.")
    names = ["clip_exploding", "clip_vanishing"]
    present = [n for n in names if ctx.has(n)]
    if not present or not _enough_seeds(ctx, *present):
        return _inconclusive("C9", title, claim, criterion, "needs the clipping experiments with at least 2 seeds", names, ctx)
    numbers: dict[str, Any] = {}
    parts, figs = [], []
    if ctx.has("clip_exploding"):
        fs = final_scores(ctx.frame, "clip_exploding").set_index(["variant", "seed"])
        div = fs["diverged"].groupby(level=0).agg(["sum", "count"])
        steps = fs["diverged_step"].groupby(level=0).apply(lambda s: [int(x) for x in s.dropna()])
        numbers["exploding"] = {v: {"diverged": int(div.loc[v, "sum"]), "runs": int(div.loc[v, "count"]),
                                    "steps": steps.get(v, []),
                                    "acc": interval(fs.loc[v, "score"].dropna()) if v in fs.index.get_level_values(0) else None}
                                for v in div.index}
        clip, free = numbers["exploding"].get("clip_1"), numbers["exploding"].get("no_clip")
        parts.append(None if not clip or not free else bool(clip["diverged"] == 0 and free["diverged"] * 2 >= free["runs"]))
        losses = select(ctx.frame, "clip_exploding", stage="train", metric="grad_norm_total")
        series = []
        for v, g in losses.groupby("variant", sort=False):
            wide = g.pivot_table(index="step", columns="seed", values="value")
            series.append({"label": "no clipping" if v == "no_clip" else "clipped at norm 1", "x": wide.index.to_numpy(float),
                           "mean": np.exp(np.log(wide.where(wide > 0)).mean(axis=1)).to_numpy(), "lo": wide.min(axis=1).to_numpy(),
                           "hi": wide.max(axis=1).to_numpy()})
        figs.append(Figure("exploding", figures.curves(series, chance=None, xlabel="training step",
                                                       ylabel="gradient norm before clipping", logy=True,
                                                       end_markers={s["label"]: "✕" for s in series if s["label"] == "no clipping"}),
                           "Exploding regime (linear RNN, gain 1.2, plain SGD): global gradient norm before clipping "
                           "during training (geometric mean over seeds). A curve that stops has diverged (NaN/inf loss).",
                           f"Gradient norm against step: without clipping {free['diverged'] if free else 0} of "
                           f"{free['runs'] if free else 0} runs diverged; with clipping {clip['diverged'] if clip else 0}."))
    else:
        parts.append(None)
    if ctx.has("clip_vanishing"):
        fs = final_scores(ctx.frame, "clip_vanishing")
        rates = decay_rates(ctx.frame, "clip_vanishing", "trained")
        a = {v: fs[fs["variant"] == v]["score"].to_numpy() for v in ("clip_1", "no_clip")}
        r = {v: rates[rates["variant"] == v]["rate"].to_numpy() for v in ("clip_1", "no_clip")}
        acc_diff, rate_diff = _welch(a["clip_1"], a["no_clip"]), _welch(r["clip_1"], r["no_clip"])
        unchanged = None if math.isnan(acc_diff["lo"]) else bool(
            acc_diff["lo"] <= 0 <= acc_diff["hi"] and abs(acc_diff["diff"]) < 0.1 and rate_diff["lo"] <= 0 <= rate_diff["hi"])
        parts.append(unchanged)
        numbers["vanishing"] = {"acc": {v: interval(a[v]) for v in a}, "rate": {v: interval(r[v]) for v in r},
                                "acc_diff": acc_diff, "rate_diff": rate_diff,
                                "length": int(fs["length"].max()), "chance": float(fs["chance"].iloc[0])}
        prof = _profile_series(ctx, "clip_vanishing", ["no_clip", "clip_1"], stage="trained",
                               label=lambda v: "no clipping" if v == "no_clip" else "clipped at norm 1")
        figs.append(Figure("vanishing", figures.gradient_vs_lag(prof, []),
                           f"Vanishing regime (tanh RNN, length {numbers['vanishing']['length']}): gradient norm "
                           "relative to the last step after training, with and without clipping (geometric mean "
                           "over seeds; band: min to max).",
                           f"Two nearly identical decaying curves: rate {numbers['vanishing']['rate']['no_clip']['mean']:.3g} "
                           f"without and {numbers['vanishing']['rate']['clip_1']['mean']:.3g} with clipping."))
    else:
        parts.append(None)
    verdict = combine(parts)
    reason = "; ".join(filter(None, [
        f"exploding: {numbers['exploding'].get('no_clip', {}).get('diverged', '?')} of {numbers['exploding'].get('no_clip', {}).get('runs', '?')} unclipped runs diverged, "
        f"{numbers['exploding'].get('clip_1', {}).get('diverged', '?')} clipped" if "exploding" in numbers else "",
        f"vanishing: accuracy difference {numbers['vanishing']['acc_diff']['diff']:.3f}" if "vanishing" in numbers else ""]))
    return Finding("C9", title, claim, verdict, criterion, numbers, ctx.seeds(*present), names, figs, reason)


def _welch(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> dict:
    from scipy import stats
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return {"diff": math.nan, "lo": math.nan, "hi": math.nan}
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return {"diff": diff, "lo": diff, "hi": diff}
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, dof) * se)
    return {"diff": diff, "lo": diff - half, "hi": diff + half}


def _c10(ctx: _Context) -> Finding:
    title = "Attention avoids the recurrent product"
    claim = "Attention avoids recurrent multiplication: the gradient does not shrink with distance."
    criterion = ("For the causal transformer at the longest length: the per-step rate of log‖∂L/∂x_k‖ at "
                 "initialisation has a 95% interval within ±0.01 per step (flat: at most a factor e^(±0.01·T) "
                 "over the whole sequence), and its accuracy interval lies above chance + 0.1. Supported when "
                 "both hold, partly when one does.")
    exp = "architecture"
    if not ctx.has(exp) or not _enough_seeds(ctx, exp) or "transformer" not in set(select(ctx.frame, exp)["variant"]):
        return _inconclusive("C10", title, claim, criterion, "needs the transformer of 'architecture' with at least 2 seeds", [exp], ctx)
    acc = _accuracy_table(ctx, exp)
    longest = int(acc["length"].max())
    rates = _rates(ctx, exp)
    t_rate = _row(rates[rates["length"] == longest], "transformer")
    r_rate = _row(rates[rates["length"] == longest], "rnn_tanh")
    t_acc = _row(acc, "transformer", longest)
    flat = bool(t_rate["lo"] >= -0.01 and t_rate["hi"] <= 0.01)
    learns = t_acc["learned"]
    verdict = combine([flat, learns])
    numbers = {"length": longest, "rate": t_rate["mean"], "rate_lo": t_rate["lo"], "rate_hi": t_rate["hi"],
               "rnn_rate": r_rate["mean"] if r_rate else math.nan, "acc": t_acc["mean"], "acc_lo": t_acc["lo"],
               "acc_hi": t_acc["hi"], "chance": t_acc["chance"],
               "acc_by_length": {int(r["length"]): r["mean"] for _, r in acc[acc["variant"] == "transformer"].iterrows()},
               "label": ctx.describe(exp, "transformer")}
    series = _profile_series(ctx, exp, ["transformer", "rnn_tanh"], longest)
    fig = Figure("flat", figures.gradient_vs_lag(series, []),
                 f"Gradient norm relative to the last position against distance at initialisation, length {longest}: "
                 "the causal transformer (gradient with respect to the embedded input at each position) and the "
                 "tanh RNN (geometric mean over seeds; band: min to max).",
                 f"Log-scale gradient against distance: the transformer's curve is flat (rate {t_rate['mean']:.2g} per "
                 f"step), the RNN's falls (rate {numbers['rnn_rate']:.3g} per step).")
    reason = f"transformer rate {t_rate['mean']:.2g} per step, accuracy {t_acc['mean']:.2f} at length {longest}"
    return Finding("C10", title, claim, verdict, criterion, numbers, ctx.seeds(exp), [exp], [fig], reason)


def _g1(ctx: _Context) -> Finding:
    title = "Gate initialisation decides whether an LSTM learns long dependencies"
    claim = ("Within a CPU budget, an LSTM's gate initialisation, not gating alone, decides whether it learns "
             "long dependencies.")
    criterion = ("At the longest length: supported when the chrono-initialised LSTM's accuracy interval lies "
                 "above chance + 0.1 while the default-initialised LSTM's lies below it; not supported when the "
                 "default LSTM learns as well (or chrono does not); otherwise inconclusive.")
    exp = "architecture"
    if not ctx.has(exp) or not _enough_seeds(ctx, exp):
        return _inconclusive("G1", title, claim, criterion, "needs experiment 'architecture' with at least 2 seeds", [exp], ctx)
    acc = _accuracy_table(ctx, exp)
    longest = int(acc["length"].max())
    models = {}
    for v in ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru"):
        rows = acc[acc["variant"] == v]
        if len(rows):
            models[v] = {"label": ctx.describe(exp, v),
                         "by_length": {int(r["length"]): {"mean": r["mean"], "lo": r["lo"], "hi": r["hi"]} for _, r in rows.iterrows()}}
    chrono, default = _row(acc, "lstm_chrono", longest), _row(acc, "lstm_default", longest)
    if chrono is None or default is None or chrono["learned"] is None:
        verdict = "inconclusive"
    elif chrono["learned"] and default["failed"]:
        verdict = "supported"
    elif default["learned"] or chrono["failed"]:
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    numbers = {"length": longest, "models": models, "chance": float(acc["chance"].iloc[0]),
               "lengths": sorted(int(x) for x in acc["length"].unique())}
    variants = [v for v in ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru") if v in models]
    fig = Figure("gates", figures.score_vs_x(_score_series(acc, ctx, exp, variants), chance=numbers["chance"],
                                             xlabel="sequence length", ylabel="recall accuracy", logx=True),
                 "Recall accuracy against length for the LSTM with three gate initialisations and the GRU "
                 "(mean and 95% interval over seeds); dotted: chance.",
                 "Accuracy against length: " + "; ".join(
                     f"{m['label']}: {m['by_length'][longest]['mean']:.2f} at length {longest}" for m in models.values()) + ".")
    reason = (f"chrono LSTM {chrono['mean']:.2f}, default LSTM {default['mean']:.2f} at length {longest}"
              if chrono is not None and default is not None else "missing variants")
    return Finding("G1", title, claim, verdict, criterion, numbers, ctx.seeds(exp), [exp], [fig], reason)


def _g2(ctx: _Context) -> Finding:
    title = "The gain sweep: from vanishing to exploding at γ·g = 1"
    claim = ("With W_hh = g·Q (Q orthogonal), the per-step rate of the gradient is log g for a linear RNN and at "
             "most log(γ·g) with tanh: vanishing below γ·g = 1, exploding above only where the activation allows.")
    criterion = ("Supported when the identity activation's measured rate equals log g at every gain (within "
                 "1e-6, the analytic case) and tanh's interval never exceeds log(g) + 0.005; not supported otherwise.")
    exp = "gain_sweep"
    if not ctx.has(exp):
        return _inconclusive("G2", title, claim, criterion, "experiment 'gain_sweep' not in this build", [exp], ctx)
    rates = _rates(ctx, exp)
    numbers: dict[str, Any] = {"identity": {}, "tanh": {}}
    exact, below = True, True
    for _, r in rates.iterrows():
        theory = math.log(r["gain"])
        entry = {"gain": r["gain"], "rate": r["mean"], "lo": r["lo"], "hi": r["hi"], "theory": theory}
        numbers[r["variant"]][f"{r['gain']:g}"] = entry
        if r["variant"] == "identity":
            exact &= abs(r["mean"] - theory) < 1e-6
        else:
            top = r["hi"] if not math.isnan(r["hi"]) else r["mean"]
            below &= top <= theory + 0.005
    tanh_pos = [float(g) for g, e in numbers["tanh"].items() if e["rate"] > 0]
    numbers["tanh_first_growing_gain"] = min(tanh_pos) if tanh_pos else math.nan
    numbers["max_identity_error"] = max((abs(e["rate"] - e["theory"]) for e in numbers["identity"].values()), default=math.nan)
    verdict = "supported" if (exact and below) else "not supported"
    series = [{"label": "identity (linear RNN)" if v == "identity" else "tanh",
               "x": np.log(rows["gain"].to_numpy(float)), "mean": rows["mean"].to_numpy(float),
               "lo": rows["lo"].fillna(rows["mean"]).to_numpy(float), "hi": rows["hi"].fillna(rows["mean"]).to_numpy(float)}
              for v, rows in rates.sort_values("gain").groupby("variant", sort=False)]
    fig = Figure("sweep", figures.rate_vs_theory(series),
                 "Measured per-step rate of log‖∂L/∂h_k‖ at initialisation against log(γ·g) for W_hh = g·Q, gains "
                 "0.5 to 1.5 (mean and 95% interval over seeds). Dashed: rate = log(γ·g), exact for the linear RNN and an "
                 "upper bound for tanh.",
                 f"Rate against log gain: the identity points lie on the diagonal (largest error "
                 f"{numbers['max_identity_error']:.1e}); tanh lies below it and first grows at gain "
                 f"{numbers['tanh_first_growing_gain']:g}.")
    reason = f"identity error ≤ {numbers['max_identity_error']:.1e}; tanh under the bound: {below}"
    return Finding("G2", title, claim, verdict, criterion, numbers, ctx.seeds(exp), [exp], [fig], reason)


def _l1(ctx: _Context) -> Finding:
    title = "Against the literature"
    claim = "Our outcomes agree with published results where this battery can check them."
    criterion = ("Each item is a computed match or mismatch (or 'not measured'); supported when every measured "
                 "item matches, partly when some do, not supported when none does.")
    items = []
    # Pascanu, Mikolov & Bengio 2013: ||dh_T/dh_k|| <= (gamma sigma_max)^(T-k) for every plain RNN cell.
    rnn = ctx.frame[(ctx.frame["arch"] == "rnn") & (ctx.frame["stage"] == "init")]
    if len(rnn):
        grads = rnn[rnn["metric"] == "grad_norm_state"]
        bounds = rnn[rnn["metric"] == "bound_log_rate"].set_index(["experiment", "variant", "length", "gain", "seed"])["value"]
        total, violations = 0, 0
        for key, g in grads.groupby(["experiment", "variant", "length", "gain", "seed"]):
            g = g.sort_values("time_lag")
            last = g["value"].iloc[0]
            if last <= 0 or key not in bounds.index:
                continue
            limit = np.exp(bounds.loc[key] * g["time_lag"].to_numpy()) * last * (1 + 1e-9)
            total += 1
            violations += int((g["value"].to_numpy() > limit).any())
        items.append({"source": "Pascanu, Mikolov & Bengio 2013", "published": "‖∂h_T/∂h_k‖ ≤ (γ·σ_max(W_hh))^(T−k)",
                      "ours": f"{total - violations} of {total} plain-RNN cells stay under the bound",
                      "match": "match" if violations == 0 else "mismatch"})
    else:
        items.append({"source": "Pascanu, Mikolov & Bengio 2013", "published": "the vanishing bound", "ours": "no plain-RNN cells",
                      "match": "not measured"})
    # Le, Jaitly & Hinton 2015: on the adding problem the IRNN and the LSTM beat the baseline, the tanh RNN fails at long T.
    if ctx.has("adding_length") and _enough_seeds(ctx, "adding_length"):
        acc = _accuracy_table(ctx, "adding_length")
        longest = int(acc["length"].max())
        for variant, published in (("rnn_tanh", "fails (stays at the baseline MSE) at long T"),
                                   ("irnn", "solves it (MSE far below the baseline)"),
                                   ("lstm_chrono", "solves it (MSE far below the baseline)")):
            r = _row(acc, variant, longest)
            if r is None:
                continue
            solved = r["learned"]
            expected = variant != "rnn_tanh"
            ours = f"MSE {r['mean']:.3g} at T={longest} (baseline {ADDING_BASELINE_MSE:.3f})"
            match = "match" if (solved if expected else r["failed"]) else "mismatch"
            items.append({"source": "Le, Jaitly & Hinton 2015 (adding problem)", "model": ctx.describe("adding_length", variant),
                          "published": published, "ours": ours, "match": match})
    else:
        items.append({"source": "Le, Jaitly & Hinton 2015 (adding problem)", "published": "IRNN and LSTM solve it",
                      "ours": "adding experiment not in this build", "match": "not measured"})
    items.append({"source": "Arjovsky, Shah & Bengio 2016 (copy task)",
                  "published": f"memoryless baseline 10·log 8/(T+20) nats per step, {copy_baseline_nats(100):.3f} at T = 100",
                  "ours": "the copy task is not in this battery", "match": "not measured"})
    measured = [i["match"] == "match" for i in items if i["match"] != "not measured"]
    verdict = "inconclusive" if not measured else ("supported" if all(measured) else
                                                    "partly supported" if any(measured) else "not supported")
    numbers = {"items": items, "matches": sum(measured), "measured": len(measured)}
    reason = f"{sum(measured)} of {len(measured)} measured items match"
    return Finding("L1", title, claim, verdict, criterion, numbers, ctx.seeds(*ctx.present) if ctx.present else [],
                   ["activation", "adding_length", "gain_sweep", "init"], [], reason)


_FINDINGS: list[Callable[[_Context], Finding]] = [_c1, _c2, _c3, _c4, _c5, _c6, _c7, _c8, _c9, _c10, _g1, _g2, _l1]


def evaluate(frame: pd.DataFrame, battery=None) -> list[Finding]:
    """All findings, in report order: C1..C10, then G1, G2 and the literature comparison L1."""
    ctx = _Context(frame, battery)
    return [make(ctx) for make in _FINDINGS]
