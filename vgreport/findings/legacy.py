"""Stage 8: findings. Each claim's criterion is code; verdicts come from this build's records.

A verdict is computed from 95% t-intervals across seeds, never from a mean alone. Every test
has three outcomes: the interval lies on the claim's side of the threshold (True), on the
other side (False: the data refute that part), or straddles it (None: undetermined). Missing
experiments (a build with --only) or fewer than two seeds give "inconclusive" with the reason
in numbers["missing"]: a finding's computation raises _Undecidable, and @_finding turns that
into the inconclusive finding, so missing data never escapes evaluate().
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import stats

from .. import figures
from ..aggregate import (decay_rates, eval_curves, final_scores, interval, lag_profiles, scalar_by_cell,
                        select, welch, wilson)
from ..specs import TrainSpec
from ..tasks import ADDING_BASELINE_MSE, copy_baseline_nats

__all__ = ["VERDICTS", "Figure", "Finding", "evaluate", "combine", "CHANCE_MARGIN", "FLAT_RATE",
           "R2_MIN", "EXACT_REL_ERR", "CLAIM_IDS"]

VERDICTS = ("supported", "partly supported", "not supported", "inconclusive")
CLAIM_IDS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "G1", "G2", "L1")
# "Learned" means the accuracy interval lies above chance + this margin; "at chance" means it
# lies below. 0.1 is ten binomial standard errors of an accuracy near 1/8 at n = 1024.
CHANCE_MARGIN = 0.1
# Adding problem: learned when the MSE interval lies below half the predict-1 baseline,
# at the baseline when it lies above 80% of it.
ADDING_LEARNED, ADDING_FAILED = 0.5, 0.8
R2_MIN = 0.9           # a log-linear fit this good is "exponential"
EXACT_REL_ERR = 1e-6   # explicit Jacobian product vs autograd
FLAT_RATE = 0.01       # |rate| per step below this is "flat": at most e^(0.01 T) over T steps
GAIN_TOLERANCE = 0.005  # tanh's rate may exceed log(g) by this much (fit noise) before it counts
SAME_ACCURACY = 0.1    # two accuracies are "the same" when their difference's interval lies within ±0.1

# One style per model in every figure (index into figures.PALETTE / LINESTYLES / MARKERS).
_SLOTS = {"rnn_tanh": 0, "base": 0, "default": 0, "tanh": 0, "clip_1": 0, "lstm_default": 1, "sigmoid": 1,
          "no_clip": 1, "lstm_chrono": 2, "identity": 2, "gru": 3, "relu": 3, "irnn": 3, "lstm_forget_bias_1": 4,
          "xavier": 4, "orthogonal": 5, "rnn_orthogonal": 5, "transformer": 6}


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

    @property
    def figure_keys(self) -> list[str]:
        """Keys of the figures this build could draw (templates check before citing one)."""
        return [f.key for f in self.figures]

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "claim": self.claim, "verdict": self.verdict,
                "criterion": self.criterion, "reason": self.reason, "numbers": _plain(self.numbers, json=True),
                "seeds": [int(s) for s in self.seeds], "experiments": list(self.experiments),
                "figures": [{"key": f.key, "caption": f.caption, "alt": f.alt} for f in self.figures]}


def _plain(value, json: bool = False):
    """numpy scalars -> Python numbers, tuples -> lists; with json also keys -> str, NaN/inf -> None."""
    if isinstance(value, dict):
        return {(str(k) if json else int(k) if isinstance(k, np.integer) else k): _plain(v, json)
                for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v, json) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if json and not math.isfinite(value) else value
    return value


def combine(parts: list[bool | None]) -> str:
    """Every part holds: supported; some hold: partly; every part refuted: not supported; else inconclusive."""
    known = [p for p in parts if p is not None]
    if not known:
        return "inconclusive"
    if len(known) == len(parts) and all(known):
        return "supported"
    if any(known):
        return "partly supported"
    return "not supported" if len(known) == len(parts) else "inconclusive"


def _above(s: dict | None, threshold: float) -> bool | None:
    """True when the interval lies above threshold, False when below, None when it straddles it."""
    if s is None or len(s) == 0 or s.get("n", 0) < 2 or not math.isfinite(s.get("lo", math.nan)):
        return None
    if s["lo"] > threshold:
        return True
    if s["hi"] < threshold:
        return False
    return None


def _within(s: dict | None, bound: float) -> bool | None:
    """True when the interval lies inside ±bound, False when it lies wholly outside, else None."""
    if s is None or len(s) == 0 or not math.isfinite(s.get("lo", math.nan)):
        return None
    if -bound <= s["lo"] and s["hi"] <= bound:
        return True
    if s["lo"] > bound or s["hi"] < -bound:
        return False
    return None


def _not(state: bool | None) -> bool | None:
    """Negation that keeps 'undetermined' undetermined."""
    return None if state is None else not state


def _both(*parts: bool | None) -> bool | None:
    """A conjunction with unknowns: False if any part is False, True if all are True, else None."""
    if any(p is False for p in parts):
        return False
    return True if all(p is True for p in parts) else None


def _num(x, digits: int = 3) -> str:
    """Python-side formatting for captions, alt text and reasons ('n/a' for missing)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)) or float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    text = f"{x:.{digits}g}"
    return text.replace("-", "−")


class _Context:
    def __init__(self, frame: pd.DataFrame, battery, with_figures: bool):
        self.frame = frame
        self.battery = battery
        self.with_figures = with_figures
        self.experiments = {e.name: e for e in battery.experiments} if battery is not None else {}
        self.present = set(frame["experiment"].unique()) if len(frame) else set()
        self._names: dict[tuple[str, str], str] = {}
        # Split once: every table below reads one experiment, and masking all rows per call
        # (hundreds of calls) was most of evaluate()'s time.
        self._parts = dict(tuple(frame.groupby("experiment", sort=False))) if len(frame) else {}
        self._seeds = {name: sorted(int(s) for s in rows["seed"].unique()) for name, rows in self._parts.items()}
        self._memo: dict[tuple, Any] = {}

    def part(self, name: str) -> pd.DataFrame:
        """The records of one experiment (empty when it is not in this build)."""
        return self._parts.get(name, self.frame.iloc[0:0])

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """A table computed once per evaluate(): several findings read the same experiment."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def has(self, *names: str) -> bool:
        return all(n in self.present for n in names)

    def seeds(self, *names: str) -> list[int]:
        return sorted({s for name in names for s in self._seeds.get(name, [])})

    def enough_seeds(self, *names: str) -> bool:
        """Every named experiment that is present ran at least two seeds (and one is present)."""
        present = [n for n in names if n in self.present]
        return bool(present) and all(len(self.seeds(n)) >= 2 for n in present)

    def eval_size(self, name: str) -> int:
        exp = self.experiments.get(name)
        return exp.train.eval_size if exp else TrainSpec.model_fields["eval_size"].default

    def describe(self, name: str, variant: str) -> str:
        """The model with its initialisation named, from the battery or else from the records."""
        if (name, variant) not in self._names:
            self._names[(name, variant)] = self._describe(name, variant)
        return self._names[(name, variant)]

    def _describe(self, name: str, variant: str) -> str:
        exp = self.experiments.get(name)
        if exp is not None:
            cells = [c for c in exp.cells() if c.variant == variant]
            if cells:
                return cells[0].model.describe()
        rows = self.frame[(self.frame["experiment"] == name) & (self.frame["variant"] == variant)]
        if rows.empty:
            return variant
        from ..specs import ModelSpec
        row = rows.iloc[0]
        try:
            return ModelSpec(arch=row["arch"], activation=row["activation"] or "tanh", init=row["init"],
                             gain=row["gain"], hidden=int(row["hidden"]),
                             heads=2 if int(row["hidden"]) % 2 == 0 else 1).describe()
        except ValueError:
            return variant

    def figure(self, key: str, draw: Callable[[], str], caption: str, alt: str) -> list[Figure]:
        return [Figure(key, draw(), caption, alt)] if self.with_figures else []


def _slot(variant: str, default: int = 0) -> int:
    return _SLOTS.get(variant, default)


# ---------------------------------------------------------------- shared measurements

def _score_state(s: dict, chance: float, task: str) -> bool | None:
    """Learned (True), at chance (False) or undetermined (None), from the interval across seeds."""
    if s["n"] < 2 or not math.isfinite(s["lo"]):
        return None
    if task == "adding":
        if s["hi"] < ADDING_LEARNED * chance:
            return True
        return False if s["lo"] > ADDING_FAILED * chance else None
    return _above(s, chance + CHANCE_MARGIN)


def _bounded(s: dict, low: float = 0.0, high: float = 1.0) -> dict:
    """A t-interval of a bounded score, cut to the range the score can take (accuracy: [0, 1])."""
    return {**s, "lo": max(s["lo"], low) if math.isfinite(s["lo"]) else s["lo"],
            "hi": min(s["hi"], high) if math.isfinite(s["hi"]) else s["hi"]}


def _accuracy_table(ctx: _Context, experiment: str) -> pd.DataFrame:
    """Per variant and length: interval of the final score across seeds, chance, learned state."""
    return ctx.memo(("accuracy", experiment), lambda: _accuracy_rows(ctx, experiment))


def _accuracy_rows(ctx: _Context, experiment: str) -> pd.DataFrame:
    scores = final_scores(ctx.part(experiment), experiment)
    rows = []
    for (variant, length), group in scores.groupby(["variant", "length"], sort=False):
        task = group["task"].iloc[0]
        s = _bounded(interval(group["score"]), 0.0, 1.0 if task == "recall" else math.inf)
        chance = float(group["chance"].iloc[0]) if "chance" in group else math.nan
        rows.append({"variant": variant, "length": int(length), "task": task, "chance": chance, **s,
                     "seeds": sorted(int(x) for x in group["seed"]),
                     "per_seed": [float(v) for v in group.sort_values("seed")["score"]],
                     "learned": _score_state(s, chance, task)})
    return pd.DataFrame(rows, columns=["variant", "length", "task", "chance", "mean", "lo", "hi", "n", "seeds",
                                       "per_seed", "learned"])


def _row(table: pd.DataFrame, variant: str, length: int | None = None) -> dict | None:
    if table.empty:
        return None
    sel = table[table["variant"] == variant]
    if length is not None:
        sel = sel[sel["length"] == length]
    return None if sel.empty else sel.iloc[0].to_dict()


def _rates(ctx: _Context, experiment: str, stage: str = "init") -> pd.DataFrame:
    """Per variant, length and gain: interval of the fitted per-step decay rate, R^2 (mean, min)."""
    return ctx.memo(("rates", experiment, stage), lambda: _rate_rows(ctx, experiment, stage))


def _cell_rates(ctx: _Context, experiment: str, stage: str = "init") -> pd.DataFrame:
    """The decay rate fitted in each cell (aggregate.decay_rates), once per evaluate()."""
    return ctx.memo(("cell_rates", experiment, stage),
                    lambda: decay_rates(ctx.part(experiment), experiment, stage))


def _rate_rows(ctx: _Context, experiment: str, stage: str) -> pd.DataFrame:
    per_cell = _cell_rates(ctx, experiment, stage)
    rows = []
    for key, group in per_cell.groupby(["variant", "length", "gain"], sort=False):
        r2 = group["r2"].dropna()
        rows.append({"variant": key[0], "length": int(key[1]), "gain": float(key[2]), **interval(group["rate"]),
                     "r2": float(r2.mean()) if len(r2) else math.nan, "r2_min": float(r2.min()) if len(r2) else math.nan})
    return pd.DataFrame(rows, columns=["variant", "length", "gain", "mean", "lo", "hi", "n", "r2", "r2_min"])


def _mean_scalar(ctx: _Context, experiment: str, metric: str, variant: str | None = None, stage: str = "init",
                 length: int | None = None) -> float:
    rows = ctx.memo(("scalar", experiment, metric, stage),
                    lambda: scalar_by_cell(ctx.part(experiment), experiment, metric, stage))
    if variant is not None:
        rows = rows[rows["variant"] == variant]
    if length is not None:
        rows = rows[rows["length"] == length]
    values = rows["value"].dropna()
    return float(values.mean()) if len(values) else math.nan


def _profile_series(ctx: _Context, experiment: str, variants: list[str], length: int | None = None,
                    metric: str = "grad_norm_state", stage: str = "init", label=None) -> list[dict]:
    """Geometric mean over seeds (band: min to max) of value(lag)/value(0), one series per variant."""
    series = []
    profiles = lag_profiles(ctx.part(experiment), experiment, metric, stage)
    for variant in variants:
        rows = profiles[profiles["variant"] == variant]
        if length is not None:
            rows = rows[rows["length"] == length]
        if rows.empty:
            continue
        wide = rows.pivot_table(index="time_lag", columns="seed", values="value", aggfunc="first")
        ratio = wide / wide.iloc[0].where(wide.iloc[0] > 0)  # lag 0 is the first row
        logs = np.log(ratio.where(ratio > 0))
        series.append({"label": label(variant) if label else ctx.describe(experiment, variant),
                       "slot": _slot(variant, len(series)), "lags": wide.index.to_numpy(float),
                       "mean": np.exp(logs.mean(axis=1)).to_numpy(), "lo": np.exp(logs.min(axis=1)).to_numpy(),
                       "hi": np.exp(logs.max(axis=1)).to_numpy()})
    return series


def _score_series(table: pd.DataFrame, ctx: _Context, experiment: str, variants: list[str],
                  x_offset: int = 0) -> list[dict]:
    out = []
    for variant in variants:
        rows = table[table["variant"] == variant].sort_values("length")
        if rows.empty:
            continue
        out.append({"label": ctx.describe(experiment, variant), "slot": _slot(variant, len(out)),
                    "x": rows["length"].to_numpy(float) + x_offset, "mean": rows["mean"].to_numpy(float),
                    "lo": rows["lo"].to_numpy(float), "hi": rows["hi"].to_numpy(float)})
    return out


def _interval_dict(s) -> dict:
    """mean, lo, hi, n of an interval (a dict or a table row); NaN when there is none."""
    if s is None or len(s) == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    return {"mean": s["mean"], "lo": s["lo"], "hi": s["hi"], "n": int(s["n"])}


def _need(ctx: _Context, names: list[str], any_of: bool = False) -> str | None:
    """Why the data cannot decide (missing experiments, fewer than 2 seeds), or None."""
    present = [n for n in names if ctx.has(n)]
    missing = [n for n in names if not ctx.has(n)]
    if (any_of and not present) or (not any_of and missing):
        which = missing if not any_of else names
        return (f"experiment{'s' if len(which) > 1 else ''} {', '.join(repr(m) for m in which)} "
                f"not in this build (a build with --only runs a subset)")
    few = [n for n in present if len(ctx.seeds(n)) < 2]
    if few:
        return (f"{', '.join(repr(n) for n in few)} ran {len(ctx.seeds(few[0]))} seed; "
                "an interval across seeds needs at least 2")
    return None


class _Undecidable(Exception):
    """This build's data cannot decide a finding (an experiment missing, one seed, nothing
    recorded); the finding is then reported as inconclusive with this reason."""

    def __init__(self, reason: str, experiments: list[str]):
        super().__init__(reason)
        self.reason, self.experiments = reason, list(experiments)


def _require(ctx: _Context, names: list[str], any_of: bool = False, listed: list[str] | None = None) -> None:
    """Stop the finding as undecidable when the named experiments cannot decide it (see _need);
    `listed` names the experiments the inconclusive finding cites, when they differ."""
    reason = _need(ctx, names, any_of)
    if reason:
        raise _Undecidable(reason, names if listed is None else listed)


def _final_accuracies(ctx: _Context, experiment: str) -> tuple[pd.DataFrame, int]:
    """The experiment's final-accuracy intervals and its longest length, or undecidable."""
    _require(ctx, [experiment])
    acc = _accuracy_table(ctx, experiment)
    if acc.empty:
        raise _Undecidable("no final accuracies recorded", [experiment])
    return acc, int(acc["length"].max())


@dataclass
class _Outcome:
    """What a finding's computation decides; @_finding adds the finding's fixed texts."""
    verdict: str
    numbers: dict[str, Any]
    seeds: list[int]
    experiments: list[str]
    figures: list[Figure]
    reason: str


_FINDINGS: list[Callable[[_Context], Finding]] = []


def _finding(fid: str, title: str, claim: str, criterion: str):
    """Register a finding in report order: its fixed texts, and the computation that decides it."""
    def register(decide: Callable[[_Context], _Outcome]) -> Callable[[_Context], Finding]:
        def make(ctx: _Context) -> Finding:
            try:
                o = decide(ctx)
            except _Undecidable as why:
                return Finding(fid, title, claim, "inconclusive", criterion, {"missing": why.reason},
                               ctx.seeds(*why.experiments), why.experiments, [], why.reason)
            return Finding(fid, title, claim, o.verdict, criterion, o.numbers, o.seeds, o.experiments,
                           o.figures, o.reason)
        make.id = fid
        _FINDINGS.append(make)
        return make
    return register


# ---------------------------------------------------------------- the claims

@_finding("C1",
          title="Backpropagation through time multiplies one Jacobian per step",
          claim="BPTT multiplies one Jacobian per step: ∂h_T/∂h_k = Π_j diag(f′(a_j))·W_hh.",
          criterion=(f"Supported when, in every plain-RNN cell at initialisation, the gradient built by multiplying "
                     f"the explicit Jacobians J_j = diag(f′(a_j))·W_hh equals autograd's ‖∂L/∂h_k‖ at every step to a "
                     f"relative error below {EXACT_REL_ERR:g}, and the measured ratio ‖∂L/∂h_k‖/‖∂L/∂h_T‖ never "
                     "exceeds the operator norm ‖Π J_j‖₂ of the Jacobian product (a bound that must hold). Not "
                     "supported when either fails anywhere. Needs at least 2 seeds."))
def _c1(ctx: _Context) -> _Outcome:
    keys = ["experiment", "variant", "length", "gain", "seed", "time_lag"]
    rnn_exps = sorted(set(ctx.frame.loc[ctx.frame["metric"] == "jacobian_chain_norm", "experiment"]))
    _require(ctx, rnn_exps or ["activation"])
    chain = ctx.frame[(ctx.frame["metric"] == "jacobian_chain_norm") & (ctx.frame["stage"] == "init")][keys + ["value"]]
    auto = ctx.frame[(ctx.frame["metric"] == "grad_norm_state_sub") & (ctx.frame["stage"] == "init")][keys + ["value"]]
    opnorm = ctx.frame[(ctx.frame["metric"] == "jacobian_product_opnorm") & (ctx.frame["stage"] == "init")][keys + ["value"]]
    merged = chain.merge(auto, on=keys, suffixes=("_chain", "_auto")).merge(
        opnorm.rename(columns={"value": "value_op"}), on=keys)
    if merged.empty:
        raise _Undecidable("no Jacobian measurements recorded", rnn_exps)
    scale = merged["value_auto"].where(merged["value_auto"] > 0)
    rel = ((merged["value_chain"] - merged["value_auto"]).abs() / scale).dropna()
    rel_err = float(rel.max()) if len(rel) else math.nan
    cell = ["experiment", "variant", "length", "gain", "seed"]
    last = merged[merged["time_lag"] == 0].set_index(cell)["value_auto"].rename("last")
    merged = merged.join(last, on=cell)
    merged["ratio"] = merged["value_auto"] / merged["last"].where(merged["last"] > 0)
    checked = merged.dropna(subset=["ratio", "value_op"])
    violations = int((checked["ratio"] > checked["value_op"] * (1 + 1e-9)).sum())
    exact = None if not math.isfinite(rel_err) else bool(rel_err < EXACT_REL_ERR)
    bounded = None if checked.empty else violations == 0
    verdict = combine([_both(exact, bounded)])
    show = "activation" if "activation" in rnn_exps else rnn_exps[0]
    shown = merged[merged["experiment"] == show]
    T = int(shown["length"].max())
    shown = shown[shown["length"] == T]  # one length: the means and the figure must not mix them
    lag = min(T - 1, 20)
    at = shown[shown["time_lag"] == lag]
    ratio_at = {v: float(np.exp(np.log(g["ratio"].clip(lower=1e-300)).mean())) for v, g in at.groupby("variant")}
    op_at = {v: float(np.exp(np.log(g["value_op"].clip(lower=1e-300)).mean())) for v, g in at.groupby("variant")}
    numbers = {"max_rel_err": rel_err, "threshold": EXACT_REL_ERR,
               "cells": int(merged.groupby(cell).ngroups), "comparisons": int(len(rel)),
               "experiments": rnn_exps, "violations": violations, "exact": exact, "bounded": bounded,
               "length": T, "lag": lag, "shown": show,
               "by_activation": {v: {"label": ctx.describe(show, v), "ratio": ratio_at[v], "opnorm": op_at.get(v, math.nan),
                                     "slack": (op_at.get(v, math.nan) / ratio_at[v]) if ratio_at[v] > 0 else math.nan}
                                 for v in ratio_at}}
    series = []
    seed0 = shown["seed"].min()
    for variant in sorted(shown["variant"].unique(), key=lambda v: _slot(v, 9)):
        rows = shown[(shown["variant"] == variant) & (shown["seed"] == seed0)].sort_values("time_lag")
        if rows.empty or not (rows["last"].iloc[0] > 0):
            continue
        label = variant if show == "activation" else ctx.describe(show, variant)
        series.append({"label": label, "slot": _slot(variant, len(series)),
                       "lags": rows["time_lag"].to_numpy(), "measured": rows["ratio"].to_numpy(),
                       "chain": (rows["value_chain"] / rows["last"]).to_numpy(), "opnorm": rows["value_op"].to_numpy()})
    figs = ctx.figure(
        "jacobians", lambda: figures.jacobian_check(series),
        f"Experiment '{show}', seed {int(seed0)}: the gradient ratio ‖∂L/∂h_k‖/‖∂L/∂h_T‖ from autograd (lines), the "
        "same quantity from the explicit product of Jacobians (hollow markers), and the operator norm of that "
        "product, which bounds it (dotted, same colour).",
        f"Log-scale plot of the gradient ratio against distance for {len(series)} activations. The explicit "
        f"Jacobian product {'lies on' if exact else 'departs from'} the autograd curve (largest relative error "
        f"{_num(rel_err, 2)} over {numbers['cells']} cells); {violations} points exceed the operator-norm bound.")
    reason = (f"largest relative error {_num(rel_err, 2)} over {numbers['comparisons']} comparisons in "
              f"{numbers['cells']} cells; {violations} bound violations")
    return _Outcome(verdict, numbers, ctx.seeds(*rnn_exps), rnn_exps, figs, reason)


@_finding("C2",
          title="With tanh or sigmoid the gradient shrinks exponentially with distance",
          claim="With tanh or sigmoid activations the gradient shrinks exponentially with the distance in time.",
          criterion=("For tanh and for sigmoid (same orthogonal W_hh, at initialisation, experiment 'activation'): the "
                     "per-step rate r fitted to log‖∂L/∂h_k‖ against the distance (lags ≥ 1) has a 95% interval across "
                     f"seeds below 0, the fit's R² is at least {R2_MIN} in every seed, and the interval lies at or below "
                     "the bound log(γ·σ_max(W_hh)) (γ = 1 for tanh, 1/4 for sigmoid; Pascanu et al. 2013). An activation "
                     f"refutes it when its interval lies above 0, or above the bound, or when r < 0 but R² < {R2_MIN} "
                     "(not exponential). Supported when both activations pass, partly when one does."))
def _c2(ctx: _Context) -> _Outcome:
    exp = "activation"
    _require(ctx, [exp])
    rates = _rates(ctx, exp)
    numbers: dict[str, Any] = {"length": int(select(ctx.part(exp), exp)["length"].max())}
    parts = []
    for act in ("tanh", "sigmoid"):
        r = _row(rates, act)
        bound = _mean_scalar(ctx, exp, "bound_log_rate", act)
        if r is None or r["n"] < 2:
            parts.append(None)
            continue
        exponential = None if not math.isfinite(r["r2_min"]) else bool(r["r2_min"] >= R2_MIN)
        decays = _not(_above(r, 0.0))
        under = None if not math.isfinite(bound) else (True if r["hi"] <= bound + 1e-9 else
                                                       False if r["lo"] > bound + 1e-9 else None)
        ok = _both(decays, exponential, under)
        parts.append(ok)
        numbers[act] = {"label": ctx.describe(exp, act), "rate": r["mean"], "lo": r["lo"], "hi": r["hi"],
                        "r2": r["r2_min"], "bound": bound, "gamma": _mean_scalar(ctx, exp, "bound_gamma", act),
                        "sigma": _mean_scalar(ctx, exp, "sigma_max_whh", act),
                        "factor": math.exp(r["mean"]) if math.isfinite(r["mean"]) else math.nan,
                        "halving": (math.log(2) / -r["mean"]) if r["mean"] < 0 else math.inf,
                        "factor_at_length": math.exp(r["mean"] * (numbers["length"] - 1)) if math.isfinite(r["mean"]) else math.nan,
                        "passes": ok}
    for act in ("relu", "identity"):
        r = _row(rates, act)
        if r is not None:
            numbers[act] = {"label": ctx.describe(exp, act), "rate": r["mean"], "lo": r["lo"], "hi": r["hi"],
                            "r2": r["r2_min"], "bound": _mean_scalar(ctx, exp, "bound_log_rate", act)}
    if ctx.has("init"):
        d = _row(_rates(ctx, "init"), "default")
        if d is not None:
            numbers["default_init"] = {"label": ctx.describe("init", "default"), "rate": d["mean"], "lo": d["lo"],
                                       "hi": d["hi"], "r2": d["r2_min"],
                                       "sigma": _mean_scalar(ctx, "init", "sigma_max_whh", "default"),
                                       "radius": _mean_scalar(ctx, "init", "spectral_radius_whh", "default"),
                                       "bound": _mean_scalar(ctx, "init", "bound_log_rate", "default")}
    verdict = combine(parts)
    series = _profile_series(ctx, exp, ["sigmoid", "tanh", "relu", "identity"], label=lambda v: v)
    bounds = [{"label": "bound (σ_max/4)^(T−k) for sigmoid", "rate": numbers.get("sigmoid", {}).get("bound", math.nan)},
              {"label": "bound σ_max^(T−k) for tanh, ReLU, identity", "rate": numbers.get("tanh", {}).get("bound", math.nan)}]
    ranked = sorted((a for a in ("sigmoid", "tanh", "relu", "identity")
                     if a in numbers and math.isfinite(numbers[a]["rate"])), key=lambda a: numbers[a]["rate"])
    order = (f" Fastest decay: {ranked[0]}; slowest: {ranked[-1]}." if len(ranked) >= 2 else "")
    figs = ctx.figure(
        "decay", lambda: figures.gradient_vs_lag(series, bounds),
        "Gradient norm ‖∂L/∂h_k‖ relative to the last step against the distance T−k at initialisation, for four "
        "activations with the same orthogonal W_hh (geometric mean over seeds; band: range over seeds). "
        "Dashed: the bound (γ·σ_max(W_hh))^(T−k) of Pascanu et al. 2013.",
        "Log-scale gradient against distance. Fitted per-step rates: " + "; ".join(
            f"{a}: {_num(numbers[a]['rate'])}" for a in ("sigmoid", "tanh", "relu", "identity") if a in numbers)
        + "." + order)
    reason = "; ".join(f"{a}: r = {_num(numbers[a]['rate'])} per step, 95% CI [{_num(numbers[a]['lo'])}, "
                       f"{_num(numbers[a]['hi'])}], R² ≥ {_num(numbers[a]['r2'])}, bound {_num(numbers[a]['bound'])}"
                       for a in ("tanh", "sigmoid") if a in numbers) or "too few seeds per activation"
    return _Outcome(verdict, numbers, ctx.seeds(exp), [exp, "init"], figs, reason)


@_finding("C3",
          title="After training, a plain RNN is biased towards recent inputs",
          claim="Early inputs stop influencing learning: the model is biased to recent inputs.",
          criterion=("Two parts. (a) After training at the longest length of 'architecture', the tanh RNN's sensitivity "
                     "‖∂y/∂x_k‖ to the cue (the first input) is more than 10 times smaller than to the last input: the "
                     "95% interval across seeds of log10(cue/last) lies below −1 (refuted when it lies above −1). "
                     f"(b) In 'recall_length', recall accuracy at the shortest lag lies above chance + {CHANCE_MARGIN} "
                     f"and at the longest lag below chance + {CHANCE_MARGIN} (refuted when the shortest lag is at chance "
                     "or the longest is learned). Supported when both hold, partly when one does."))
def _c3(ctx: _Context) -> _Outcome:
    needed = ["architecture", "recall_length"]
    _require(ctx, needed)
    sens = lag_profiles(ctx.part("architecture"), "architecture", "sensitivity_input", "trained")
    longest = int(sens["length"].max()) if len(sens) else 0
    sens = sens[sens["length"] == longest]
    ratios = {}
    for variant, group in sens.groupby("variant"):
        per_seed = []
        for _, g in group.groupby("seed"):
            first = g.loc[g["time_lag"] == g["time_lag"].max(), "value"].iloc[0]
            last = g.loc[g["time_lag"] == 0, "value"]
            if len(last) and first > 0 and last.iloc[0] > 0:
                per_seed.append(math.log10(first / last.iloc[0]))
        ratios[variant] = {"label": ctx.describe("architecture", variant), **interval(per_seed),
                           "slot": _slot(variant)}
    rnn = ratios.get("rnn_tanh")
    part_a = _not(_above(rnn, -1.0))
    acc = _accuracy_table(ctx, "recall_length")
    part_b, short, long_ = None, None, None
    ordered = acc[acc["variant"] == "base"].sort_values("length") if not acc.empty else acc
    if not ordered.empty:  # the tanh RNN ("base"): other variants must not lend it a length
        short, long_ = ordered.iloc[0].to_dict(), ordered.iloc[-1].to_dict()
        long_fails = _not(long_["learned"])
        part_b = _both(short["learned"], long_fails) if len(ordered) > 1 else None
    numbers = {"length": longest, "log10_ratio": ratios, "part_a": part_a, "part_b": part_b,
               "rnn_label": ctx.describe("architecture", "rnn_tanh"),
               "trained_bound": _mean_scalar(ctx, "architecture", "bound_log_rate", "rnn_tanh", "trained", longest),
               "chance": short["chance"] if short else math.nan,
               "recall": ({"short": {"lag": short["length"] - 1, **_interval_dict(short)},
                           "long": {"lag": long_["length"] - 1, **_interval_dict(long_)},
                           "by_lag": {int(r["length"]) - 1: r["mean"] for _, r in ordered.iterrows()}}
                          if short else {})}
    variants = ["rnn_tanh", "lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru", "transformer"]
    series = _profile_series(ctx, "architecture", variants, longest, "sensitivity_input", "trained")
    bound = [{"label": "(γ·σ_max)^lag of the trained tanh RNN", "rate": numbers["trained_bound"], "slot": 0}]
    figs = ctx.figure(
        "sensitivity", lambda: figures.gradient_vs_lag(series, bound, ylabel="‖∂y/∂x_k‖ / ‖∂y/∂x_T‖",
                                                       xlabel="lag of the input (steps before the output)"),
        f"After training at length {longest}: sensitivity of the output to the input at each lag, relative to the "
        "last input (geometric mean over seeds; band: range over seeds). The cue sits at the largest lag. Dashed: "
        "(γ·σ_max)^lag for the trained tanh RNN's W_hh, the Pascanu factor that caps its state Jacobian.",
        "Log-scale sensitivity against input lag after training. Cue-to-last ratios: " + "; ".join(
            f"{r['label']}: 10^{_num(r['mean'], 2)}" for r in ratios.values() if r["n"]) + ".")
    if short:
        acc_series = _score_series(acc, ctx, "recall_length", ["base"] + sorted(set(acc["variant"]) - {"base"}), x_offset=-1)
        figs += ctx.figure(
            "recall", lambda: figures.score_vs_x(acc_series, chance=short["chance"], logx=True,
                                                 xlabel="lag of the cue (sequence length − 1)", ylabel="recall accuracy"),
            "Accuracy of recalling the first token against its lag (sequence length − 1) for the tanh RNN: mean and "
            "95% interval over seeds; dotted: chance.",
            f"Recall accuracy against the cue's lag: {_num(short['mean'], 2)} at lag {short['length'] - 1}, "
            f"{_num(long_['mean'], 2)} at lag {long_['length'] - 1}; chance {_num(short['chance'])}.")
    verdict = combine([part_a, part_b])
    reason = ((f"tanh RNN cue/last sensitivity 10^{_num(rnn['mean'], 2)} (CI of the exponent [{_num(rnn['lo'], 2)}, "
               f"{_num(rnn['hi'], 2)}])" if rnn else "no tanh RNN sensitivity")
              + (f"; recall {_num(short['mean'], 2)} at lag {short['length'] - 1}, {_num(long_['mean'], 2)} at lag "
                 f"{long_['length'] - 1}" if short else ""))
    return _Outcome(verdict, numbers, ctx.seeds(*needed), needed, figs, reason)


@_finding("C4",
          title="Short dependencies are learned, long ones are not",
          claim="A plain RNN learns short dependencies but not long ones.",
          criterion=("For the tanh RNN on each task: at the shortest length the 95% interval of the score across seeds "
                     f"is clearly better than chance (recall: above chance + {CHANCE_MARGIN}; adding: MSE below "
                     f"{ADDING_LEARNED} × the predict-1 baseline 1/6) and at the longest length it is at chance (recall: "
                     f"below chance + {CHANCE_MARGIN}; adding: MSE above {ADDING_FAILED} × 1/6). A task refutes it when the "
                     "shortest length is at chance or the longest is learned. Supported when both tasks show it, "
                     "partly when one does."))
def _c4(ctx: _Context) -> _Outcome:
    needed = ["recall_length", "adding_length"]
    _require(ctx, needed, any_of=True)
    numbers: dict[str, Any] = {"chance": math.nan, "baseline": ADDING_BASELINE_MSE, "tasks": []}
    parts, figs = [], []
    for name, variant, label in (("recall_length", "base", "recall"), ("adding_length", "rnn_tanh", "adding")):
        if not ctx.has(name):
            parts.append(None)
            continue
        acc = _accuracy_table(ctx, name)
        rows = acc[acc["variant"] == variant].sort_values("length")
        if len(rows) < 2:
            parts.append(None)
            continue
        short, long_ = rows.iloc[0].to_dict(), rows.iloc[-1].to_dict()
        long_fails = _not(long_["learned"])
        ok = _both(short["learned"], long_fails)
        parts.append(ok)
        numbers["tasks"].append(label)
        numbers[label] = {"label": ctx.describe(name, variant), "short_length": short["length"],
                          "short": _interval_dict(short), "long_length": long_["length"], "long": _interval_dict(long_),
                          "by_length": {int(r["length"]): r["mean"] for _, r in rows.iterrows()},
                          "short_learned": short["learned"], "long_learned": long_["learned"], "passes": ok,
                          "chance": short["chance"]}
        if label == "recall":
            numbers["chance"] = short["chance"]
        variants = [variant] if name == "recall_length" else ["rnn_tanh", "irnn", "lstm_chrono"]
        series = _score_series(acc, ctx, name, variants)
        is_adding = label == "adding"
        figs += ctx.figure(
            label, lambda series=series, chance=short["chance"], is_adding=is_adding: figures.score_vs_x(
                series, chance=chance, xlabel="sequence length T", logx=True,
                ylabel="test MSE" if is_adding else "recall accuracy",
                chance_label="predict-1 baseline MSE 1/6" if is_adding else "chance 1/K",
                lower_is_better=is_adding),
            ("Adding problem: test MSE against sequence length for the tanh RNN, the IRNN and the chrono LSTM"
             if is_adding else "First-token recall: accuracy against sequence length for the tanh RNN")
            + " (mean and 95% interval over seeds); dotted: " + ("the predict-1 baseline 1/6." if is_adding else "chance."),
            f"{label.capitalize()} score of the tanh RNN against length: {_num(short['mean'])} at length "
            f"{short['length']}, {_num(long_['mean'])} at length {long_['length']}"
            + (f"; baseline {_num(ADDING_BASELINE_MSE)}." if is_adding else f"; chance {_num(short['chance'])}."))
    verdict = combine(parts)
    reason = "; ".join(f"{k}: {_num(numbers[k]['short']['mean'])} at T={numbers[k]['short_length']}, "
                       f"{_num(numbers[k]['long']['mean'])} at T={numbers[k]['long_length']}" for k in numbers["tasks"])
    return _Outcome(verdict, numbers, ctx.seeds(*needed), needed, figs, reason)


@_finding("C5",
          title="More training does not rescue a plain RNN at long range",
          claim="More data or longer training does not fix a plain RNN.",
          criterion=("Experiment 'budget': the tanh RNN with PyTorch's default init, at the longest length, trained "
                     "for four times the standard budget (read from the same run at a quarter of its steps). "
                     f"Supported when its accuracy interval across seeds stays below chance + {CHANCE_MARGIN} at the full "
                     "budget and no orthogonal or IRNN seed learns either. Partly supported when the default RNN stays "
                     "at chance but the orthogonal or identity (IRNN) initialisation learns — the initialisation, not "
                     "the budget, rescues it — or when only some of its seeds learn (a seed 'learns' when the 95% "
                     f"Wilson interval of its held-out accuracy lies above chance + {CHANCE_MARGIN}). Not supported when "
                     "its interval lies above chance + margin, or every seed learns, with four times the budget. "
                     "Inconclusive when it already learns at the standard budget (nothing to rescue)."))
def _c5(ctx: _Context) -> _Outcome:
    exp = "budget"
    _require(ctx, [exp])
    curves = eval_curves(ctx.part(exp), exp)
    if curves.empty:
        raise _Undecidable("no accuracy curves recorded in 'budget'", [exp])
    n_eval = ctx.eval_size(exp)
    chance_rows = select(ctx.part(exp), exp, metric="chance")["value"]
    if chance_rows.empty:
        raise _Undecidable("no chance level recorded in 'budget'", [exp])
    chance = float(chance_rows.iloc[0])
    budget = int(select(ctx.part(exp), exp)["budget"].max())
    quarter = budget // 4
    numbers: dict[str, Any] = {"budget": budget, "quarter": quarter, "chance": chance, "margin": CHANCE_MARGIN,
                               "length": int(curves["length"].max()), "variants": {}}
    for variant, group in curves.groupby("variant", sort=False):
        at_q, at_end, learned_end, learned_q, learned_values = [], [], 0, 0, []
        for _, g in group.groupby("seed"):
            end = float(g.loc[g["step"].idxmax(), "value"])
            q_rows = g[g["step"] <= quarter]
            q = float(q_rows.loc[q_rows["step"].idxmax(), "value"]) if len(q_rows) else math.nan
            at_q.append(q)
            at_end.append(end)
            learned = bool(math.isfinite(end) and wilson(end * n_eval, n_eval)[0] > chance + CHANCE_MARGIN)
            learned_end += learned
            if learned:
                learned_values.append(end)
            learned_q += bool(math.isfinite(q) and wilson(q * n_eval, n_eval)[0] > chance + CHANCE_MARGIN)
        s_q, s_end = _bounded(interval(at_q)), _bounded(interval(at_end))
        numbers["variants"][variant] = {"label": ctx.describe(exp, variant), "seeds": int(group["seed"].nunique()),
                                        "at_quarter": s_q, "at_end": s_end, "learned_end": learned_end,
                                        "learned_quarter": learned_q, "learned_values": learned_values,
                                        "per_seed_end": at_end, "state_quarter": _above(s_q, chance + CHANCE_MARGIN),
                                        "state_end": _above(s_end, chance + CHANCE_MARGIN), "slot": _slot(variant)}
    default = numbers["variants"].get("rnn_tanh")
    rescued = [v for v, d in numbers["variants"].items() if v != "rnn_tanh" and (d["state_end"] or d["learned_end"])]
    numbers["rescued_by"] = [numbers["variants"][v]["label"] for v in rescued]
    if default is None or default["seeds"] < 2:
        verdict, why = "inconclusive", "the default tanh RNN is missing or ran one seed"
    elif default["state_quarter"] is True:
        verdict, why = "inconclusive", "the default tanh RNN already learns at the standard budget"
    elif default["state_end"] is True or default["learned_end"] == default["seeds"]:
        verdict, why = "not supported", "four times the budget lifts the default tanh RNN above chance"
    elif default["state_end"] is False and default["learned_end"] == 0:
        verdict = "partly supported" if rescued else "supported"
        why = ("the default tanh RNN stays at chance; " +
               (f"{', '.join(numbers['rescued_by'])} learn{'s' if len(rescued) == 1 else ''}" if rescued
                else "no other initialisation learns either"))
    elif default["learned_end"] > 0:
        verdict, why = "partly supported", (f"{default['learned_end']} of {default['seeds']} seeds of the default "
                                            "tanh RNN learn with four times the budget")
    else:
        verdict, why = "inconclusive", "the seeds' interval straddles chance + margin and no single seed learns"
    numbers["why"] = why
    series = []
    for variant, group in curves.groupby("variant", sort=False):
        wide = group.pivot_table(index="step", columns="seed", values="value", aggfunc="first")
        series.append({"label": ctx.describe(exp, variant), "slot": _slot(variant, len(series)),
                       "x": wide.index.to_numpy(float), "mean": wide.mean(axis=1).to_numpy(),
                       "lo": wide.min(axis=1).to_numpy(), "hi": wide.max(axis=1).to_numpy()})
    figs = ctx.figure(
        "budget", lambda: figures.curves(series, chance=chance, xlabel="training step", ylabel="held-out accuracy",
                                         marks=[{"x": quarter, "label": "standard budget (¼ of the run)"}]),
        f"Held-out recall accuracy during training at length {numbers['length']} with four times the standard budget "
        "(mean over seeds; band: range over seeds). Dash-dotted: the standard budget; dotted: chance.",
        "Accuracy against training step. " + "; ".join(
            f"{v['label']}: {_num(v['at_quarter']['mean'], 2)} at step {quarter}, {_num(v['at_end']['mean'], 2)} at "
            f"step {budget}, {v['learned_end']} of {v['seeds']} seeds learned" for v in numbers["variants"].values()) + ".")
    return _Outcome(verdict, numbers, ctx.seeds(exp), [exp], figs, why)


@_finding("C6",
          title="Gated cells preserve gradients over long spans",
          claim="LSTM and GRU gates preserve gradients over long spans.",
          criterion=("At the longest length of 'architecture', for each gated model (the LSTM with each gate "
                     f"initialisation, the GRU): it 'learns' when its accuracy interval lies above chance + {CHANCE_MARGIN} "
                     "(refuted when below), and it 'preserves' the gradient when the 95% interval of its fitted decay "
                     "rate at initialisation lies entirely above (closer to zero than) the tanh RNN's (refuted when "
                     "entirely below). Supported when every gated model learns and preserves; partly when some do; not "
                     "supported when every one is refuted on at least one part."))
def _c6(ctx: _Context) -> _Outcome:
    exp = "architecture"
    acc, longest = _final_accuracies(ctx, exp)
    rates = _rates(ctx, exp)
    rates = rates[rates["length"] == longest]
    rnn_acc, rnn_rate = _row(acc, "rnn_tanh", longest), _row(rates, "rnn_tanh")
    gated = [v for v in ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru") if _row(acc, v, longest) is not None]
    numbers: dict[str, Any] = {"length": longest, "chance": float(acc["chance"].iloc[0]), "models": {},
                               "rnn_fails": None if rnn_acc is None else _not(rnn_acc["learned"])}
    parts = []
    for v in ["rnn_tanh"] + gated:
        a, r = _row(acc, v, longest), _row(rates, v)
        if a is None:
            continue
        entry = {"label": ctx.describe(exp, v), "acc": _interval_dict(a), "rate": _interval_dict(r),
                 "bound": _mean_scalar(ctx, exp, "bound_log_rate", v, length=longest)}
        numbers["models"][v] = entry
        if v == "rnn_tanh":
            continue
        learns = a["learned"]
        preserves = None
        if r and rnn_rate and r["n"] >= 2 and rnn_rate["n"] >= 2:
            preserves = True if r["lo"] > rnn_rate["hi"] else False if r["hi"] < rnn_rate["lo"] else None
        entry.update({"learns": learns, "preserves": preserves, "passes": _both(learns, preserves)})
        parts.append(_both(learns, preserves))
    if not parts:
        raise _Undecidable("no gated model in this build", [exp])
    verdict = combine(parts)
    variants = ["rnn_tanh"] + gated
    series = _profile_series(ctx, exp, variants, longest)
    bounds = [{"label": "bound (γ·σ_max)^(T−k) of the tanh RNN", "rate": numbers["models"].get("rnn_tanh", {}).get("bound", math.nan)}]
    figs = ctx.figure(
        "gradients", lambda: figures.gradient_vs_lag(series, bounds),
        f"Gradient norm relative to the last step against distance at initialisation, length {longest}: the tanh RNN "
        "and the gated cells, each with its initialisation named (geometric mean over seeds; band: range). Dashed: "
        "the Pascanu bound of the RNN; gated cells have no such single-matrix bound.",
        "Log-scale gradient against distance. Fitted rates per step: " + "; ".join(
            f"{m['label']}: {_num(m['rate']['mean'])}" for m in numbers["models"].values()) + ".")
    acc_series = _score_series(acc, ctx, exp, variants)
    figs += ctx.figure(
        "accuracy", lambda: figures.score_vs_x(acc_series, chance=numbers["chance"], xlabel="sequence length T",
                                               ylabel="recall accuracy", logx=True),
        "First-token recall accuracy against length with the same training budget for every model (mean and 95% "
        "interval over seeds); dotted: chance.",
        "Accuracy against length. At the longest length: " + "; ".join(
            f"{m['label']}: {_num(m['acc']['mean'], 2)}" for m in numbers["models"].values()) + ".")
    reason = "; ".join(f"{m['label']}: accuracy {_num(m['acc']['mean'], 2)}, rate {_num(m['rate']['mean'])}"
                       for m in numbers["models"].values())
    return _Outcome(verdict, numbers, ctx.seeds(exp), [exp], figs, reason)


def _difference_state(diff: dict) -> bool | None:
    """Does the careful init help? True: difference interval above 0; False: it rules out a gain of SAME_ACCURACY."""
    if not math.isfinite(diff.get("lo", math.nan)):
        return None
    if diff["lo"] > 0:
        return True
    if diff["hi"] < SAME_ACCURACY:
        return False
    return None


@_finding("C7",
          title="Careful initialisation helps",
          claim="Careful initialisation (orthogonal, identity/IRNN, gain near the critical value, LSTM gate biases) helps.",
          criterion=("Three parts, each from 95% Welch intervals of a difference across seeds (careful − default). "
                     "(a) Plain RNN ('init', recall at its length): some careful init (Xavier, orthogonal, IRNN) has an "
                     f"accuracy difference interval above 0; refuted when every careful init's interval lies below "
                     f"+{SAME_ACCURACY} (none can be {SAME_ACCURACY} better). (b) LSTM ('architecture', longest length): the "
                     "same for forget-bias 1 and chrono against PyTorch's default. (c) Gradient ('init', at "
                     "initialisation): some careful init's decay-rate interval lies entirely above the default's (slower "
                     "decay); refuted when every one lies entirely below. Supported when all three hold, partly when "
                     "some do, not supported when all are refuted."))
def _c7(ctx: _Context) -> _Outcome:
    names = ["init", "architecture"]
    _require(ctx, names, any_of=True, listed=names + ["gain_sweep"])
    numbers: dict[str, Any] = {"rnn": {}, "lstm": {}, "parts": {}}
    parts = []
    for name, group, default, careful in (("init", "rnn", "default", ["xavier", "orthogonal", "irnn"]),
                                           ("architecture", "lstm", "lstm_default", ["lstm_forget_bias_1", "lstm_chrono"])):
        if not ctx.enough_seeds(name):
            parts.append(None)
            continue
        acc = _accuracy_table(ctx, name)
        if acc.empty:
            parts.append(None)
            continue
        length = int(acc["length"].max())
        base = _row(acc, default, length)
        if base is None:
            parts.append(None)
            continue
        states = []
        for v in [default] + careful:
            r = _row(acc, v, length)
            if r is None:
                continue
            entry = {"label": ctx.describe(name, v), "acc": _interval_dict(r), "length": length,
                     "per_seed": r["per_seed"]}
            if v != default:
                diff = welch(r["per_seed"], base["per_seed"])
                entry.update({"diff": diff, "helps": _difference_state(diff)})
                states.append(entry["helps"])
            numbers[group][v] = entry
        part = True if any(s is True for s in states) else (False if states and all(s is False for s in states) else None)
        parts.append(part)
        numbers["parts"][group] = part
        numbers[f"{group}_length"] = length
    gradient_part = None
    if ctx.enough_seeds("init"):
        rates = _rates(ctx, "init")
        base = _row(rates, "default")
        states = []
        numbers["rnn_rates"] = {}
        for v in ["default", "xavier", "orthogonal", "irnn"]:
            r = _row(rates, v)
            if r is None:
                continue
            numbers["rnn_rates"][v] = {"label": ctx.describe("init", v), **_interval_dict(r),
                                       "sigma": _mean_scalar(ctx, "init", "sigma_max_whh", v),
                                       "radius": _mean_scalar(ctx, "init", "spectral_radius_whh", v),
                                       "bound": _mean_scalar(ctx, "init", "bound_log_rate", v)}
            if v != "default" and base is not None and r["n"] >= 2:
                states.append(True if r["lo"] > base["hi"] else False if r["hi"] < base["lo"] else None)
        gradient_part = True if any(s is True for s in states) else (False if states and all(s is False for s in states) else None)
    parts.append(gradient_part)
    numbers["parts"]["gradient"] = gradient_part
    if ctx.has("gain_sweep"):
        sweep = _rates(ctx, "gain_sweep")
        tanh = sweep[sweep["variant"] == "tanh"].sort_values("gain")
        numbers["gain_rates"] = [{"gain": r["gain"], "rate": r["mean"]} for _, r in tanh.iterrows()]
        if len(tanh):
            best = tanh.loc[tanh["mean"].abs().idxmin()]
            numbers["gain_flattest"] = {"gain": float(best["gain"]), "rate": float(best["mean"])}
    verdict = combine(parts)
    figs = []
    if ctx.has("init"):
        acc = _accuracy_table(ctx, "init")
        rows = [{**_row(acc, v), "label": ctx.describe("init", v).removeprefix("RNN (").removesuffix(")").replace(", ", "\n", 1),
                 "slot": _slot(v)}
                for v in ["default", "xavier", "orthogonal", "irnn"] if _row(acc, v) is not None]
        chance = float(acc["chance"].iloc[0]) if len(acc) else None
        figs += ctx.figure(
            "rnn_inits", lambda: figures.bars(rows, chance=chance, ylabel="recall accuracy"),
            f"Plain RNN, first-token recall at length {numbers.get('rnn_length', 'n/a')}: final accuracy per "
            "initialisation (bar: mean; whiskers: 95% interval; dots: single seeds); dotted: chance.",
            "Bar chart of accuracy per initialisation: " + "; ".join(f"{r['label']}: {_num(r['mean'], 2)}" for r in rows) + ".")
        series = _profile_series(ctx, "init", ["default", "xavier", "orthogonal", "irnn"])
        bounds = [{"label": f"bound, {d['label']}", "rate": d["bound"], "slot": _slot(v)}
                  for v, d in numbers.get("rnn_rates", {}).items() if v in ("default", "xavier")]
        bounds.append({"label": "bound σ_max^(T−k) = 1 for orthogonal and identity W_hh", "rate": 0.0})
        figs += ctx.figure(
            "rnn_init_gradients", lambda: figures.gradient_vs_lag(series, bounds),
            "Gradient norm relative to the last step against distance at initialisation for each RNN initialisation "
            "(geometric mean over seeds; band: range). Dashed: the Pascanu bound (γ·σ_max)^(T−k) of each W_hh.",
            "Log-scale gradient against distance; fitted rates per step: " + "; ".join(
                f"{d['label']}: {_num(d['mean'])}" for d in numbers.get("rnn_rates", {}).values()) + ".")
    reason = "; ".join([f"RNN accuracy: {_state_word(numbers['parts'].get('rnn'))}",
                        f"LSTM accuracy: {_state_word(numbers['parts'].get('lstm'))}",
                        f"gradient decay: {_state_word(gradient_part)}"])
    return _Outcome(verdict, numbers, ctx.seeds(*names), names + ["gain_sweep"], figs, reason)


def _state_word(state: bool | None) -> str:
    return {True: "a careful init is better", False: "no careful init is better", None: "undetermined"}[state]


@_finding("C8",
          title="Activations that shrink the gradient less train better",
          claim="Activations less prone to shrinking gradients help.",
          criterion=("With the same orthogonal W_hh ('activation'): (a) the decay rate follows the mean derivative f′ "
                     "along the trajectories (Spearman rank correlation ≥ 0.8 across the activations; refuted below "
                     "that); (b) the activation whose gradient decays slowest trains better than the one whose gradient "
                     "decays fastest: the 95% Welch interval of their accuracy difference lies above 0 (refuted when it "
                     "lies below 0). Supported when both hold, partly when one does."))
def _c8(ctx: _Context) -> _Outcome:
    exp = "activation"
    _require(ctx, [exp])
    rates = _rates(ctx, exp).set_index("variant")
    acc = _accuracy_table(ctx, exp).set_index("variant")
    acts = [a for a in ("sigmoid", "tanh", "relu", "identity") if a in rates.index and a in acc.index]
    if len(acts) < 2:
        raise _Undecidable("fewer than two activations measured", [exp])
    numbers: dict[str, Any] = {"activations": {}}
    for a in acts:
        numbers["activations"][a] = {
            "label": ctx.describe(exp, a), "deriv_mean": _mean_scalar(ctx, exp, "act_deriv_mean", a),
            "deriv_p10": _mean_scalar(ctx, exp, "act_deriv_p10", a), "deriv_p50": _mean_scalar(ctx, exp, "act_deriv_p50", a),
            "deriv_p90": _mean_scalar(ctx, exp, "act_deriv_p90", a),
            "frac_small": _mean_scalar(ctx, exp, "act_deriv_frac_small", a),
            "rate": _interval_dict(rates.loc[a].to_dict()), "acc": _interval_dict(acc.loc[a].to_dict()),
            "learned": acc.loc[a, "learned"]}
    derivs = [numbers["activations"][a]["deriv_mean"] for a in acts]
    rate_means = [numbers["activations"][a]["rate"]["mean"] for a in acts]
    rho = math.nan
    if len(acts) >= 3 and np.all(np.isfinite(derivs)) and np.all(np.isfinite(rate_means)) \
            and np.ptp(derivs) > 0 and np.ptp(rate_means) > 0:
        rho = float(stats.spearmanr(derivs, rate_means).statistic)
    part_a = bool(rho >= 0.8) if math.isfinite(rho) else None
    if not np.isfinite(rate_means).any():
        raise _Undecidable("no decay rate could be fitted for any activation", [exp])
    slowest, fastest = acts[int(np.nanargmax(rate_means))], acts[int(np.nanargmin(rate_means))]
    diff = welch(acc.loc[slowest, "per_seed"], acc.loc[fastest, "per_seed"])
    part_b = _above({**diff, "n": 2, "mean": diff["diff"]}, 0.0) if slowest != fastest else None
    numbers.update({"spearman": rho, "slowest": slowest, "fastest": fastest, "acc_diff": diff,
                    "slowest_label": ctx.describe(exp, slowest), "fastest_label": ctx.describe(exp, fastest),
                    "chance": float(acc["chance"].iloc[0]), "length": int(acc["length"].max()),
                    "part_a": part_a, "part_b": part_b})
    verdict = combine([part_a, part_b])
    # ReLU' is 0 or 1, so a median averaged over seeds would be a meaningless fraction
    deriv_rows = [{"label": a, "slot": _slot(a), "p10": numbers["activations"][a]["deriv_p10"],
                   "p50": None if a == "relu" else numbers["activations"][a]["deriv_p50"], "p90": numbers["activations"][a]["deriv_p90"],
                   "mean": numbers["activations"][a]["deriv_mean"]} for a in acts]
    figs = ctx.figure(
        "derivatives", lambda: figures.derivative_ranges(deriv_rows),
        "Distribution of the activation's derivative f′(a_j) along the probe trajectories at initialisation "
        "(averaged over seeds): 10th–90th percentile (bar), median (tick) and mean (marker). Each step multiplies "
        "the backpropagated gradient by these numbers.",
        "Derivative ranges per activation; means: " + "; ".join(f"{r['label']} {_num(r['mean'], 2)}" for r in deriv_rows) + ".")
    points = [{"label": a, "slot": _slot(a), "rate": numbers["activations"][a]["rate"]["mean"],
               "acc": numbers["activations"][a]["acc"]["mean"], "acc_lo": numbers["activations"][a]["acc"]["lo"],
               "acc_hi": numbers["activations"][a]["acc"]["hi"]} for a in acts]
    figs += ctx.figure(
        "trainability", lambda: figures.rate_vs_accuracy(points, chance=numbers["chance"]),
        f"Final recall accuracy at length {numbers['length']} (mean and 95% interval over seeds) against the per-step "
        "decay rate of the gradient at initialisation; dotted: chance.",
        "Accuracy against decay rate: " + "; ".join(
            f"{p['label']}: rate {_num(p['rate'])}, accuracy {_num(p['acc'], 2)}" for p in points) + ".")
    reason = (f"Spearman(mean f′, rate) = {_num(rho, 2)}; slowest decay {slowest}, fastest {fastest}; accuracy "
              f"difference {_num(diff['diff'], 2)} [{_num(diff['lo'], 2)}, {_num(diff['hi'], 2)}]")
    return _Outcome(verdict, numbers, ctx.seeds(exp), [exp], figs, reason)


@_finding("C9",
          title="Clipping tames exploding gradients, not vanishing ones",
          claim="Gradient clipping tames exploding gradients but does nothing for vanishing ones.",
          criterion=("(a) Exploding regime ('clip_exploding'): holds when a smaller share of clipped than of unclipped "
                     "runs diverges and at least half of the unclipped runs diverge; refuted when clipped runs diverge at "
                     "least as often as unclipped ones that do diverge; undetermined when no unclipped run diverges. "
                     "(b) Vanishing regime ('clip_vanishing'): holds when clipping changes neither the accuracy (the 95% "
                     f"Welch interval of the difference lies within ±{SAME_ACCURACY}) nor the decay rate after training "
                     "(its difference interval contains 0); refuted when either difference interval excludes 0 by more "
                     f"than that (accuracy beyond ±{SAME_ACCURACY}, or rate interval excluding 0). Supported when both "
                     "parts hold, partly when one does."))
def _c9(ctx: _Context) -> _Outcome:
    names = ["clip_exploding", "clip_vanishing"]
    _require(ctx, names, any_of=True)
    numbers: dict[str, Any] = {}
    parts, figs = [], []
    if ctx.enough_seeds("clip_exploding"):
        fs = final_scores(ctx.part("clip_exploding"), "clip_exploding")
        out = {}
        for v, g in fs.groupby("variant", sort=False):
            steps = [int(x) for x in g["diverged_step"].dropna()] if "diverged_step" in g else []
            div = int(g["diverged"].fillna(0).sum()) if "diverged" in g else 0
            out[v] = {"label": "no clipping" if v == "no_clip" else "clipped", "diverged": div, "runs": int(len(g)),
                      "share": div / len(g) if len(g) else math.nan, "steps": steps,
                      "first_step": min(steps) if steps else math.nan, "acc": _bounded(interval(g["score"].dropna()))}
        clip, free = out.get("clip_1"), out.get("no_clip")
        if clip and free and free["diverged"] > 0:
            tames = clip["share"] < free["share"] and free["diverged"] * 2 >= free["runs"]
            part = True if tames else (False if clip["share"] >= free["share"] else None)
        else:
            part = None
        parts.append(part)
        numbers["exploding"] = {"variants": out, "part": part, "clip": _clip_value(ctx, "clip_exploding", "clip_1"),
                                "gain": float(select(ctx.part("clip_exploding"), "clip_exploding")["gain"].max()),
                                "length": int(select(ctx.part("clip_exploding"), "clip_exploding")["length"].max())}
        chance = float(fs["chance"].iloc[0]) if "chance" in fs and len(fs) else math.nan
        task = fs["task"].iloc[0] if len(fs) else "recall"
        chance_loss = -math.log(chance) if task == "recall" and chance > 0 else chance
        loss, norm, diverged = [], [], []
        for v in ("no_clip", "clip_1"):
            label = "no clipping" if v == "no_clip" else "clipped"
            for metric, target in (("train_loss", loss), ("grad_norm_total", norm)):
                rows = select(ctx.part("clip_exploding"), "clip_exploding", stage="train", metric=metric, variant=v)
                if rows.empty:
                    continue
                wide = rows.pivot_table(index="step", columns="seed", values="value", aggfunc="first")
                wide = wide.where(np.isfinite(wide))
                target.append({"label": label, "slot": _slot(v), "x": wide.index.to_numpy(float),
                               "mean": wide.mean(axis=1).to_numpy(float), "lo": wide.min(axis=1).to_numpy(float),
                               "hi": wide.max(axis=1).to_numpy(float)})
            if v in out and out[v]["steps"]:
                diverged.append({"label": label, "steps": out[v]["steps"], "slot": _slot(v)})
        numbers["exploding"]["chance_loss"] = chance_loss
        if norm:
            clip_norm = [s for s in norm if s["label"] == "clipped"]
            numbers["exploding"]["median_norm_clipped"] = (float(np.nanmedian(clip_norm[0]["mean"]))
                                                           if clip_norm and len(clip_norm[0]["mean"]) else math.nan)
        ex = numbers["exploding"]
        figs += ctx.figure(
            "exploding", lambda: figures.exploding(loss, norm, diverged, chance_loss, ex["clip"]),
            f"Exploding regime (linear RNN, W_hh = {_num(ex['gain'])}·Q, plain SGD, length {ex['length']}). Left: "
            "training loss (mean over seeds; band: range), dotted: the loss of a uniform guess; ✕: a run whose loss "
            "became NaN/inf at that step. Right: global gradient norm before clipping (mean over seeds; band: range), "
            "dashed: the clipping threshold.",
            f"Without clipping {free['diverged'] if free else 0} of {free['runs'] if free else 0} runs diverged "
            f"(first at step {_num(free['first_step']) if free else 'n/a'}); with clipping "
            f"{clip['diverged'] if clip else 0} of {clip['runs'] if clip else 0} diverged, ending at a training loss of "
            f"{_num(_last_finite(loss, 'clipped'))} against {_num(chance_loss)} for a uniform guess; the median "
            f"gradient norm before clipping was {_num(ex.get('median_norm_clipped', math.nan))} against the "
            f"threshold {_num(ex['clip'])}.")
    else:
        parts.append(None)
    if ctx.enough_seeds("clip_vanishing"):
        fs = final_scores(ctx.part("clip_vanishing"), "clip_vanishing")
        rates = _cell_rates(ctx, "clip_vanishing", "trained")
        a = {v: fs[fs["variant"] == v].sort_values("seed")["score"].to_numpy(float) for v in ("clip_1", "no_clip")}
        r = {v: rates[rates["variant"] == v]["rate"].to_numpy(float) for v in ("clip_1", "no_clip")}
        acc_diff, rate_diff = welch(a["clip_1"], a["no_clip"]), welch(r["clip_1"], r["no_clip"])
        acc_same = _within({"lo": acc_diff["lo"], "hi": acc_diff["hi"]}, SAME_ACCURACY)
        if math.isfinite(rate_diff["lo"]):
            rate_same = True if rate_diff["lo"] <= 0 <= rate_diff["hi"] else False
        else:
            rate_same = None
        part = _both(acc_same, rate_same)
        parts.append(part)
        norms = select(ctx.part("clip_vanishing"), "clip_vanishing", stage="train", metric="grad_norm_total_max", variant="clip_1")
        clip = _clip_value(ctx, "clip_vanishing", "clip_1")
        active = float((norms["value"] > clip).mean()) if len(norms) and clip else math.nan
        length = int(fs["length"].max()) if len(fs) else 0
        numbers["vanishing"] = {"acc": {v: _bounded(interval(a[v])) for v in a}, "rate": {v: interval(r[v]) for v in r},
                                "acc_diff": acc_diff, "rate_diff": rate_diff, "acc_same": acc_same,
                                "rate_same": rate_same, "part": part, "length": length, "clip": clip,
                                "clip_active_share": active,
                                "chance": float(fs["chance"].iloc[0]) if len(fs) else math.nan,
                                "bound": {v: _mean_scalar(ctx, "clip_vanishing", "bound_log_rate", v, "trained")
                                          for v in ("no_clip", "clip_1")}}
        van = numbers["vanishing"]
        prof = _profile_series(ctx, "clip_vanishing", ["no_clip", "clip_1"], stage="trained",
                               label=lambda v: "no clipping" if v == "no_clip" else f"clipped at norm {_num(clip)}")
        bounds = [{"label": f"bound (γ·σ_max)^(T−k) after training, {'no clipping' if v == 'no_clip' else 'clipped'}",
                   "rate": van["bound"][v], "slot": _slot(v)} for v in ("no_clip", "clip_1")]
        figs += ctx.figure(
            "vanishing", lambda: figures.gradient_vs_lag(prof, bounds),
            f"Vanishing regime (tanh RNN with PyTorch's default init, length {length}): gradient norm relative to the "
            "last step after training, with and without clipping (geometric mean over seeds; band: range). Dashed: "
            "the Pascanu bound of each trained W_hh.",
            f"Two decaying curves: fitted rate {_num(van['rate']['no_clip']['mean'])} per step without and "
            f"{_num(van['rate']['clip_1']['mean'])} with clipping; final accuracy {_num(van['acc']['no_clip']['mean'], 2)} "
            f"and {_num(van['acc']['clip_1']['mean'], 2)}.")
    else:
        parts.append(None)
    verdict = combine(parts)
    bits = []
    if "exploding" in numbers:
        v = numbers["exploding"]["variants"]
        bits.append(f"exploding: {v.get('no_clip', {}).get('diverged', 'n/a')} of {v.get('no_clip', {}).get('runs', 'n/a')} "
                    f"unclipped and {v.get('clip_1', {}).get('diverged', 'n/a')} of {v.get('clip_1', {}).get('runs', 'n/a')} "
                    "clipped runs diverged")
    if "vanishing" in numbers:
        d = numbers["vanishing"]
        bits.append(f"vanishing: accuracy difference {_num(d['acc_diff']['diff'], 2)} [{_num(d['acc_diff']['lo'], 2)}, "
                    f"{_num(d['acc_diff']['hi'], 2)}], rate difference {_num(d['rate_diff']['diff'], 2)} "
                    f"[{_num(d['rate_diff']['lo'], 2)}, {_num(d['rate_diff']['hi'], 2)}]")
    return _Outcome(verdict, numbers, ctx.seeds(*names), names, figs, "; ".join(bits))


def _last_finite(series: list[dict], label: str) -> float:
    """The last finite mean of the curve with this label (e.g. a clipped run's final loss), or NaN."""
    for s in series:
        if s["label"] == label:
            values = np.asarray(s["mean"], float)
            values = values[np.isfinite(values)]
            return float(values[-1]) if len(values) else math.nan
    return math.nan


def _clip_value(ctx: _Context, experiment: str, variant: str) -> float | None:
    rows = select(ctx.part(experiment), experiment, variant=variant)["clip"].dropna()
    return float(rows.iloc[0]) if len(rows) else None


@_finding("C10",
          title="Attention avoids the recurrent product",
          claim="Attention avoids recurrent multiplication: the gradient does not shrink with distance.",
          criterion=("For the causal transformer at the longest length of 'architecture': (a) the per-step rate of "
                     f"log‖∂L/∂x_k‖ at initialisation has a 95% interval inside ±{FLAT_RATE} (flat: at most a factor "
                     f"e^({FLAT_RATE}·T) over the sequence; refuted when the interval lies wholly outside); (b) its accuracy "
                     f"interval lies above chance + {CHANCE_MARGIN} (refuted when below). Supported when both hold, partly "
                     "when one does."))
def _c10(ctx: _Context) -> _Outcome:
    exp = "architecture"
    _require(ctx, [exp])
    if "transformer" not in set(select(ctx.part(exp), exp)["variant"]):
        raise _Undecidable("the transformer variant of 'architecture' is not in this build", [exp])
    acc = _accuracy_table(ctx, exp)
    longest = int(acc["length"].max()) if len(acc) else int(select(ctx.part(exp), exp)["length"].max())
    rates = _rates(ctx, exp)
    rates = rates[rates["length"] == longest]
    t_rate, r_rate = _row(rates, "transformer"), _row(rates, "rnn_tanh")
    t_acc = _row(acc, "transformer", longest)
    flat = _within(t_rate, FLAT_RATE) if t_rate and t_rate["n"] >= 2 else None
    learns = t_acc["learned"] if t_acc else None
    verdict = combine([flat, learns])
    numbers = {"length": longest, "label": ctx.describe(exp, "transformer"), "flat_rate": FLAT_RATE,
               "rate": _interval_dict(t_rate), "rnn_rate": _interval_dict(r_rate),
               "rnn_label": ctx.describe(exp, "rnn_tanh"),
               "factor_over_length": math.exp(t_rate["mean"] * (longest - 1)) if t_rate else math.nan,
               "acc": _interval_dict(t_acc), "chance": t_acc["chance"] if t_acc else math.nan,
               "acc_by_length": {int(r["length"]): _interval_dict(r) for _, r in acc[acc["variant"] == "transformer"].iterrows()},
               "rnn_acc_by_length": {int(r["length"]): _interval_dict(r) for _, r in acc[acc["variant"] == "rnn_tanh"].iterrows()},
               "flat": flat, "learns": learns,
               "rnn_bound": _mean_scalar(ctx, exp, "bound_log_rate", "rnn_tanh", length=longest)}
    series = _profile_series(ctx, exp, ["rnn_tanh", "transformer"], longest)
    bounds = [{"label": "bound (γ·σ_max)^(T−k) of the tanh RNN", "rate": numbers["rnn_bound"]}]
    figs = ctx.figure(
        "flat", lambda: figures.gradient_vs_lag(series, bounds),
        f"Gradient norm relative to the last position against distance at initialisation, length {longest}: the causal "
        "transformer (gradient with respect to the embedded input at each position) and the tanh RNN (gradient with "
        "respect to its hidden state); geometric mean over seeds, band: range. Dashed: the RNN's Pascanu bound; "
        "attention has no product of per-step Jacobians, so no such bound applies to it.",
        f"Log-scale gradient against distance: the transformer's curve "
        f"{ {True: 'is flat', False: 'is not flat', None: 'is neither clearly flat nor clearly sloped'}[numbers['flat']]} "
        f"(rate {_num(numbers['rate']['mean'], 2)} per step); the RNN's rate is {_num(numbers['rnn_rate']['mean'])} "
        "per step.")
    acc_series = _score_series(acc, ctx, exp, ["rnn_tanh", "transformer"])
    figs += ctx.figure(
        "accuracy", lambda: figures.score_vs_x(acc_series, chance=numbers["chance"], xlabel="sequence length T",
                                               ylabel="recall accuracy", logx=True),
        "First-token recall accuracy against length, transformer and tanh RNN, same budget (mean and 95% interval "
        "over seeds); dotted: chance.",
        "Accuracy against length: " + "; ".join(
            f"transformer {_num(v['mean'], 2)} at T = {k}" for k, v in numbers["acc_by_length"].items()) + ".")
    reason = (f"transformer rate {_num(numbers['rate']['mean'], 2)} per step [{_num(numbers['rate']['lo'], 2)}, "
              f"{_num(numbers['rate']['hi'], 2)}], accuracy {_num(numbers['acc']['mean'], 2)} at length {longest}")
    return _Outcome(verdict, numbers, ctx.seeds(exp), [exp], figs, reason)


@_finding("G1",
          title="Gate initialisation decides whether an LSTM learns long dependencies",
          claim=("Within a CPU budget, an LSTM's gate initialisation, not gating alone, decides whether it learns "
                 "long dependencies."),
          criterion=(f"At the longest length of 'architecture': supported when the chrono-initialised LSTM's accuracy "
                     f"interval lies above chance + {CHANCE_MARGIN} while the default-initialised LSTM's lies below it; not "
                     "supported when the default LSTM's interval lies above it too (gating alone suffices) or the chrono "
                     "LSTM's lies below it (the initialisation does not rescue it); otherwise inconclusive."))
def _g1(ctx: _Context) -> _Outcome:
    exp = "architecture"
    acc, longest = _final_accuracies(ctx, exp)
    models = {}
    for v in ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru"):
        rows = acc[acc["variant"] == v].sort_values("length")
        if len(rows):
            models[v] = {"label": ctx.describe(exp, v),
                         "by_length": {int(r["length"]): _interval_dict(r) for _, r in rows.iterrows()},
                         "learned_longest": _row(acc, v, longest)["learned"] if _row(acc, v, longest) else None,
                         "longest_learned_length": max([int(r["length"]) for _, r in rows.iterrows() if r["learned"]],
                                                       default=None)}
    chrono, default = _row(acc, "lstm_chrono", longest), _row(acc, "lstm_default", longest)
    if chrono is None or default is None:
        verdict, why = "inconclusive", "the chrono or the default LSTM is not in this build"
    elif chrono["learned"] is True and default["learned"] is False:
        verdict, why = "supported", "the chrono LSTM learns where the default LSTM stays at chance"
    elif default["learned"] is True:
        verdict, why = "not supported", "the default LSTM learns the longest length too"
    elif chrono["learned"] is False:
        verdict, why = "not supported", "the chrono LSTM stays at chance as well"
    else:
        verdict, why = "inconclusive", "an interval straddles chance + margin"
    numbers = {"length": longest, "models": models, "chance": float(acc["chance"].iloc[0]),
               "lengths": sorted(int(x) for x in acc["length"].unique()), "why": why,
               "forget_bias_chrono_range": [0.0, math.log(max(longest - 1, 2))]}
    variants = [v for v in ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru") if v in models]
    series = _score_series(acc, ctx, exp, variants)
    figs = ctx.figure(
        "gates", lambda: figures.score_vs_x(series, chance=numbers["chance"], xlabel="sequence length T",
                                            ylabel="recall accuracy", logx=True),
        "Recall accuracy against length for the LSTM with three gate initialisations and the GRU, same budget "
        "(mean and 95% interval over seeds); dotted: chance.",
        "Accuracy against length at the longest length: " + "; ".join(
            f"{m['label']}: {_num(m['by_length'].get(longest, {}).get('mean'), 2)}" for m in models.values()) + ".")
    reason = (f"{why}: chrono LSTM {_num(chrono['mean'], 2)}, default LSTM {_num(default['mean'], 2)} at length {longest}"
              if chrono is not None and default is not None else why)
    return _Outcome(verdict, numbers, ctx.seeds(exp), [exp], figs, reason)


@_finding("G2",
          title="The gain sweep: from vanishing to exploding at γ·g = 1",
          claim=("With W_hh = g·Q (Q orthogonal), the per-step rate of the gradient is log g for a linear RNN and at "
                 "most log(γ·g) with tanh: vanishing below γ·g = 1, growing above it only where the activation allows."),
          criterion=("Supported when (a) the identity activation's measured rate equals log g at every gain to within "
                     "1e-6 (the analytic case, ‖∂L/∂h_k‖ = g^(T−k)·‖∂L/∂h_T‖), (b) its rate interval lies below 0 for "
                     "every g < 1 and above 0 for every g > 1 (the transition sits at γ·g = 1), and (c) tanh's rate "
                     f"interval never exceeds log g + {GAIN_TOLERANCE} (the bound). Not supported when any check fails."))
def _g2(ctx: _Context) -> _Outcome:
    exp = "gain_sweep"
    _require(ctx, [exp])
    rates = _rates(ctx, exp).sort_values("gain")
    sweep = []
    exact, transition, below = [], [], []
    for gain, rows in rates.groupby("gain", sort=True):
        theory = math.log(gain)
        entry = {"gain": float(gain), "theory": theory}
        for _, r in rows.iterrows():
            entry[r["variant"]] = {"rate": r["mean"], "lo": r["lo"], "hi": r["hi"], "r2": r["r2_min"],
                                   "error": r["mean"] - theory}
            fitted = math.isfinite(r["mean"])  # a failed fit decides nothing, refutes nothing
            if r["variant"] == "identity":
                exact.append(abs(r["mean"] - theory) < 1e-6 if fitted else None)
                if gain != 1.0:
                    side = _above(r, 0.0)
                    transition.append(None if side is None else side == (gain > 1))
            elif r["variant"] == "tanh":
                top = r["hi"] if math.isfinite(r["hi"]) else r["mean"]
                below.append(bool(top <= theory + GAIN_TOLERANCE) if fitted else None)
        sweep.append(entry)
    tanh = rates[rates["variant"] == "tanh"].sort_values("gain")
    crossing = None  # the gain where tanh's rate turns positive, if the sweep brackets it
    g, m = tanh["gain"].to_numpy(float), tanh["mean"].to_numpy(float)
    for i in range(len(g) - 1):
        if m[i] < 0 <= m[i + 1]:
            # interpolate in log g, where the rate is close to linear
            t = -m[i] / (m[i + 1] - m[i])
            crossing = float(math.exp(math.log(g[i]) + t * (math.log(g[i + 1]) - math.log(g[i]))))
            break
    ident = [e["identity"]["error"] for e in sweep if "identity" in e]
    numbers: dict[str, Any] = {"sweep": sweep, "gains": [e["gain"] for e in sweep],
                               "max_identity_error": max((abs(x) for x in ident if math.isfinite(x)), default=math.nan),
                               "tanh_crossing": crossing, "tanh_grows": bool(np.any(m >= 0)),
                               "tolerance": GAIN_TOLERANCE,
                               "length": int(select(ctx.part(exp), exp)["length"].max())}
    checks = [_both(*exact) if exact else None,
              None if not transition or any(t is None for t in transition) and not any(t is False for t in transition)
              else all(t is True for t in transition),
              _both(*below) if below else None]
    numbers.update({"exact": checks[0], "transition": checks[1], "tanh_under_bound": checks[2]})
    if any(c is False for c in checks):
        verdict = "not supported"
    elif all(c is True for c in checks):
        verdict = "supported"
    else:
        verdict = "inconclusive"
    series = []
    for v, rows in rates.groupby("variant", sort=False):
        series.append({"label": "identity (linear RNN)" if v == "identity" else f"{v} RNN", "slot": _slot(v),
                       "x": np.log(rows["gain"].to_numpy(float)), "mean": rows["mean"].to_numpy(float),
                       "lo": rows["lo"].to_numpy(float), "hi": rows["hi"].to_numpy(float)})
    gains = numbers["gains"]
    figs = ctx.figure(
        "sweep", lambda: figures.rate_vs_theory(series),
        f"Measured per-step rate of log‖∂L/∂h_k‖ at initialisation (length {numbers['length']}) against log(γ·g) for "
        f"W_hh = g·Q, gains {_num(min(gains, default=math.nan))} to {_num(max(gains, default=math.nan))} (mean and 95% "
        "interval over seeds). Dashed: the bound rate = log(γ·σ_max) = log(γ·g), exact for the linear RNN.",
        f"Rate against log gain: the identity points {'lie on' if checks[0] else 'depart from'} the diagonal "
        f"(largest error {_num(numbers['max_identity_error'], 2)}); tanh {'lies' if checks[2] else 'does not lie'} "
        "on or below it and " + (f"turns positive near gain {_num(crossing)}." if crossing is not None else
                                 "is positive at some gains." if numbers["tanh_grows"] else
                                 "stays negative at every gain."))
    reason = (f"identity error ≤ {_num(numbers['max_identity_error'], 2)}; transition at g = 1: "
              f"{_state_yes(checks[1])}; tanh under the bound: {_state_yes(checks[2])}")
    return _Outcome(verdict, numbers, ctx.seeds(exp), [exp], figs, reason)


def _state_yes(state: bool | None) -> str:
    return {True: "yes", False: "no", None: "undetermined"}[state]


_REFERENCES = {
    "pascanu": "R. Pascanu, T. Mikolov, Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013.",
    "le": "Q. V. Le, N. Jaitly, G. E. Hinton. A simple way to initialize recurrent networks of rectified linear units. arXiv:1504.00941, 2015.",
    "tallec": "C. Tallec, Y. Ollivier. Can recurrent neural networks warp time? ICLR 2018.",
    "arjovsky": "M. Arjovsky, A. Shah, Y. Bengio. Unitary evolution recurrent neural networks. ICML 2016.",
}


def _match(state: bool | None) -> str:
    return {True: "match", False: "mismatch", None: "undetermined"}[state]


@_finding("L1",
          title="Against the literature",
          claim="Our outcomes agree with published results where this battery can check them.",
          criterion=("Each item is computed from this build: 'match' when our interval agrees with the published outcome, "
                     "'mismatch' when it contradicts it, 'undetermined' when the interval straddles the threshold, 'not "
                     "measured' when the battery has no such experiment. Supported when every determined item matches, "
                     "partly when some do, not supported when none does."))
def _l1(ctx: _Context) -> _Outcome:
    items = []
    frame = ctx.frame
    rnn = frame[(frame["arch"] == "rnn") & (frame["stage"] == "init")]
    enough = ctx.enough_seeds(*sorted(set(rnn["experiment"]))) if len(rnn) else False
    if len(rnn) and enough:
        grads = rnn[rnn["metric"] == "grad_norm_state"]
        cell = ["experiment", "variant", "length", "gain", "seed"]
        bounds = rnn[rnn["metric"] == "bound_log_rate"].set_index(cell)["value"]
        total, violations = 0, 0
        for key, g in grads.groupby(cell):
            g = g.sort_values("time_lag")
            last = g["value"].iloc[0]
            if not last > 0 or key not in bounds.index:
                continue
            limit = np.exp(bounds.loc[key] * g["time_lag"].to_numpy()) * last * (1 + 1e-9)
            total += 1
            violations += int((g["value"].to_numpy() > limit).any())
        items.append({"key": "pascanu_bound", "source": "Pascanu, Mikolov & Bengio 2013", "reference": _REFERENCES["pascanu"],
                      "published": "‖∂L/∂h_k‖ ≤ (γ·σ_max(W_hh))^(T−k)·‖∂L/∂h_T‖ for a plain RNN",
                      "ours": f"{total - violations} of {total} plain-RNN cells stay under the bound at every step",
                      "cells": total, "violations": violations,
                      "match": _match(None if total == 0 else violations == 0)})
        # Their sufficient condition for vanishing: gamma*sigma_max < 1 means the gradient must decay.
        per_cell = []
        for exp_name in sorted(set(rnn["experiment"])):
            rates = _cell_rates(ctx, exp_name, "init")
            b = bounds.reset_index()
            per_cell.append(rates.merge(b[b["experiment"] == exp_name], on=cell))
        cells = pd.concat(per_cell) if per_cell else pd.DataFrame()
        if len(cells):
            vanish = cells[cells["value"] < -1e-9]
            grow = cells[cells["rate"] > 1e-6]
            ok_v = int((vanish["rate"] < 0).sum())
            ok_g = int((grow["value"] > 1e-9).sum())
            items.append({"key": "pascanu_sufficient", "source": "Pascanu, Mikolov & Bengio 2013",
                          "reference": _REFERENCES["pascanu"],
                          "published": "σ_max(W_hh) < 1/γ is sufficient for the gradient to vanish",
                          "ours": f"{ok_v} of {len(vanish)} cells with γ·σ_max < 1 have a decaying gradient (fitted rate < 0)",
                          "match": _match(None if len(vanish) == 0 else ok_v == len(vanish))})
            items.append({"key": "pascanu_necessary", "source": "Pascanu, Mikolov & Bengio 2013",
                          "reference": _REFERENCES["pascanu"],
                          "published": "σ_max(W_hh) > 1/γ is necessary for the gradient to explode",
                          "ours": f"{ok_g} of {len(grow)} cells whose gradient grows with distance have γ·σ_max > 1",
                          "match": _match(None if len(grow) == 0 else ok_g == len(grow))})
    else:
        items.append({"key": "pascanu_bound", "source": "Pascanu, Mikolov & Bengio 2013", "reference": _REFERENCES["pascanu"],
                      "published": "the vanishing bound (γ·σ_max)^(T−k)", "ours": "no plain-RNN cells with 2 seeds in this build",
                      "match": "not measured"})
    if ctx.enough_seeds("adding_length"):
        acc = _accuracy_table(ctx, "adding_length")
        longest = int(acc["length"].max())
        for variant, published, expected, note in (
                ("rnn_tanh", "the tanh RNN fails (MSE stays at the baseline) at long T", False, ""),
                ("irnn", "the IRNN solves it (MSE far below the baseline)", True,
                 "Le et al. trained for far longer than our CPU budget"),
                ("lstm_chrono", "the LSTM solves it (MSE far below the baseline)", True,
                 "our LSTM uses chrono init; Le et al. tuned the LSTM's initial forget-gate bias")):
            r = _row(acc, variant, longest)
            if r is None:
                continue
            state = r["learned"]
            match = _match(None if state is None else state == expected)
            items.append({"key": f"le_{variant}", "source": "Le, Jaitly & Hinton 2015 (adding problem)",
                          "reference": _REFERENCES["le"], "model": ctx.describe("adding_length", variant),
                          "published": published, "note": note,
                          "ours": f"{ctx.describe('adding_length', variant)}: MSE {_num(r['mean'])} "
                                  f"[{_num(r['lo'])}, {_num(r['hi'])}] at T = {longest} (baseline {_num(ADDING_BASELINE_MSE)})",
                          "match": match})
    else:
        items.append({"key": "le_adding", "source": "Le, Jaitly & Hinton 2015 (adding problem)", "reference": _REFERENCES["le"],
                      "published": "the IRNN and the LSTM solve the adding problem where the tanh RNN fails",
                      "ours": "the adding experiment with 2 seeds is not in this build", "match": "not measured"})
    if ctx.enough_seeds("architecture"):
        acc = _accuracy_table(ctx, "architecture")
        longest = int(acc["length"].max()) if len(acc) else 0
        chrono, default = _row(acc, "lstm_chrono", longest), _row(acc, "lstm_default", longest)
        if chrono is not None and default is not None:
            state = _both(chrono["learned"], _not(default["learned"]))
            items.append({"key": "tallec_chrono", "source": "Tallec & Ollivier 2018", "reference": _REFERENCES["tallec"],
                          "published": "chrono initialisation lets an LSTM learn dependencies that the standard "
                                       "initialisation misses at long range",
                          "ours": f"recall at T = {longest}: chrono LSTM {_num(chrono['mean'], 2)} "
                                  f"[{_num(chrono['lo'], 2)}, {_num(chrono['hi'], 2)}], default LSTM "
                                  f"{_num(default['mean'], 2)} [{_num(default['lo'], 2)}, {_num(default['hi'], 2)}]",
                          "match": _match(state)})
    items.append({"key": "arjovsky_copy", "source": "Arjovsky, Shah & Bengio 2016 (copy task)",
                  "reference": _REFERENCES["arjovsky"],
                  "published": f"memoryless baseline 10·log 8/(T+20) nats per step ({_num(copy_baseline_nats(100))} at T = 100)",
                  "ours": "the copy task is not in this battery", "match": "not measured"})
    # Undetermined and unmeasured items neither support nor refute: the verdict reads the rest.
    determined = [i["match"] == "match" for i in items if i["match"] in ("match", "mismatch")]
    verdict = combine(determined)
    numbers = {"items": items, "matches": sum(determined), "determined": len(determined),
               "references": _REFERENCES,
               "counts": {k: sum(i["match"] == k for i in items) for k in ("match", "mismatch", "undetermined", "not measured")}}
    reason = f"{sum(determined)} of {len(determined)} determined items match"
    return _Outcome(verdict, numbers, ctx.seeds(*ctx.present) if ctx.present else [],
                   sorted(ctx.present & {"activation", "init", "gain_sweep", "adding_length", "architecture",
                                         "clip_exploding", "clip_vanishing", "recall_length", "budget"}), [], reason)


if tuple(make.id for make in _FINDINGS) != CLAIM_IDS:
    raise RuntimeError("findings registered out of report order")


def evaluate(frame: pd.DataFrame, battery=None, with_figures: bool = True,
             ids: tuple[str, ...] | None = None) -> list[Finding]:
    """All findings, in report order: C1..C10, then G1, G2 and the literature comparison L1.

    `battery` (vgreport.specs.Battery) names each model with its initialisation; without it the
    names come from the records. `with_figures=False` skips drawing (fast verdict checks);
    `ids` picks a subset of findings by id, in report order."""
    ctx = _Context(frame, battery, with_figures)
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for make in _FINDINGS:
            if ids is not None and make.id not in ids:
                continue
            finding = make(ctx)
            finding.numbers = _plain(finding.numbers)
            out.append(finding)
    return out
