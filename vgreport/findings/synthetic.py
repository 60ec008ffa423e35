"""Synthetic record sets in the documented schema, for testing verdict logic without training.

Each result's examples.py (in its folder) lists worlds built here, each with the verdict it must
produce (see Example); one generic test runs them all. An experiment that only one result reads
has its builder in that result's examples.py (BUILDERS), built from `cell` and the helpers here.

Each builder returns the records one experiment of the battery would produce, with the
quantities the findings read (decay rates, bounds, accuracies, divergence) set by arguments.
Gradient profiles are exact exponentials exp(rate * lag); per-seed values get a small,
deterministic spread so that t-intervals across seeds are narrow but not degenerate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vgreport.aggregate import records_frame

NAN = float("nan")
CHANCE = 1 / 8
ADDING_BASELINE = 1 / 6


def cell(experiment: str, variant: str, seed: int, *, arch: str = "rnn", activation: str = "tanh",
         init: str = "default", gain: float = 1.0, length: int = 20, task: str = "recall", clip: float | None = 1.0,
         budget: int = 100, rate: float = -0.1, bound: float = 0.0, gamma: float = 1.0, chain_err: float = 0.0,
         score: float | None = None, curve: list[tuple[int, float]] | None = None, sens_log10: float | None = None,
         trained_rate: float | None = None, trained_bound: float | None = None, diverged_step: int | None = None,
         deriv_mean: float | None = None, deriv_sq: float | None = None,
         train_logs: list[tuple] | None = None, eval_loss: float | None = None,
         influence: float | None = None) -> list[dict]:
    """All records of one cell: init probe, training curve, trained probe and final scalars."""
    base = {"experiment": experiment, "variant": variant, "arch": arch,
            "activation": activation if arch == "rnn" else "", "init": init, "gain": gain, "hidden": 16,
            "task": task, "length": length, "clip": NAN if clip is None else clip, "budget": budget, "seed": seed}
    records: list[dict] = []
    deriv_mean = min(0.9, gamma) if deriv_mean is None else deriv_mean

    def add(stage, metric, value, step=0, lag=NAN):
        records.append({**base, "stage": stage, "metric": metric, "step": step, "time_lag": lag, "value": float(value)})

    lags = np.arange(length, dtype=float)
    grads = np.exp(rate * lags)
    for lag, g in zip(lags, grads):
        add("init", "grad_norm_state", g, 0, lag)
        add("init", "sensitivity_input", g, 0, lag)
    if arch == "rnn":
        for lag, g in zip(lags, grads):
            add("init", "jacobian_chain_norm", g * (1 + chain_err), 0, lag)
            add("init", "grad_norm_state_sub", g, 0, lag)
            add("init", "jacobian_product_opnorm", math.exp(bound * lag), 0, lag)
        sigma = math.exp(bound) / gamma
        for metric, value in (("sigma_max_whh", sigma), ("spectral_radius_whh", sigma), ("bound_gamma", gamma),
                              ("bound_log_rate", bound), ("act_deriv_mean", deriv_mean),
                              ("act_deriv_p10", 0.9 * deriv_mean), ("act_deriv_p50", deriv_mean),
                              ("act_deriv_p90", min(gamma, 1.05 * deriv_mean)), ("act_deriv_frac_small", 0.0),
                              ("act_deriv_sq_mean", deriv_mean ** 2 if deriv_sq is None else deriv_sq)):
            add("init", metric, value)
    score_name = "mse" if task == "adding" else "accuracy"
    chance = ADDING_BASELINE if task == "adding" else CHANCE
    if score is None:
        score = chance
    if budget and diverged_step is None:
        for step, loss, norm, *fraction in train_logs or []:
            add("train", "train_loss", loss, step)
            add("train", "grad_norm_total", norm, step)
            add("train", "grad_norm_total_max", 2 * norm, step)
            if fraction:
                add("train", "clip_fraction", fraction[0], step)
        for step, value in curve or [(budget, score)]:
            add("train", f"eval_{score_name}", value, step)
            if eval_loss is not None:
                add("train", "eval_loss", eval_loss, step)
        t_rate = rate if trained_rate is None else trained_rate
        for lag in lags:
            add("trained", "grad_norm_state", math.exp(t_rate * lag), budget, lag)
            sens = 10 ** (sens_log10 * lag / (length - 1)) if sens_log10 is not None else math.exp(t_rate * lag)
            add("trained", "sensitivity_input", sens, budget, lag)
        if arch == "rnn":
            add("trained", "bound_log_rate", bound if trained_bound is None else trained_bound, budget)
        if influence is not None and task == "recall":
            add("trained", "cue_influence", influence, budget)
    steps_done = (diverged_step - 1) if diverged_step else budget
    add("trained", f"final_{score_name}", NAN if diverged_step else score, steps_done)
    add("trained", "chance", chance, steps_done)
    add("trained", "diverged", 1.0 if diverged_step else 0.0, steps_done)
    add("trained", "diverged_step", diverged_step if diverged_step else NAN, steps_done)
    return records


def spread(seed: int, size: float) -> float:
    """A deterministic per-seed offset: -size, 0, +size, ... for seeds 0, 1, 2."""
    return size * (seed - 1)


def _per_length(value, length):
    return value[length] if isinstance(value, dict) else value


def _per_seed(value, seed):
    return value[seed] if isinstance(value, (list, tuple)) else value


def _clip01(x):
    return min(1.0, max(0.0, x))


def seed_score(value, seed):
    """A per-seed score: a number (with a small deterministic spread) or a list, one per seed."""
    if isinstance(value, (list, tuple)):
        return value[seed % len(value)]
    return _clip01(value + spread(seed % 3, 0.004)) if value <= 1 else value


SOLVE, PARTIAL, FAIL = 0.98, 0.5, 0.125  # a seed that solved, one above chance that did not, one at chance
MIXED = [SOLVE, FAIL, SOLVE, FAIL, SOLVE, FAIL]  # half the seeds solve: no share of them can be told from one half


@dataclass(frozen=True)
class Example:
    """A synthetic world and what a result must make of it.

    world: overrides of `world()` (experiment name -> builder kwargs, None drops the experiment);
    verdict: the verdict (a finding) or state (a check) it must produce; parts: part key -> the
    state (True holds, False refuted, None undetermined) that part must have (keys not named are
    not checked)."""
    name: str
    verdict: str
    world: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict)


def activation(seeds=6, rates=None, accs=None, derivs=None, sq=None, chain_err=0.0, lengths=(10, 20),
               bound_shift=0.0, rate_spread=0.001) -> list[dict]:
    """bound_shift > 0 plants a bug: each recorded bound lies below the gradient it must bound. accs:
    activation -> a score (every length) or {length: score}."""
    rates = {"sigmoid": -1.45, "tanh": -0.045, "relu": -0.35, "identity": 0.0, **(rates or {})}
    accs = {"sigmoid": FAIL, "tanh": SOLVE, "relu": FAIL, "identity": SOLVE, **(accs or {})}
    derivs = {"sigmoid": 0.235, "tanh": 0.96, "relu": 0.5, "identity": 1.0, **(derivs or {})}
    # the mean-field prediction 1/2 log mean f'^2 equals the rate unless told otherwise
    sq = {v: math.exp(2 * rates[v]) for v in rates} | (sq or {})
    out = []
    for v in ("sigmoid", "tanh", "relu", "identity"):
        gamma = 0.25 if v == "sigmoid" else 1.0
        for length in lengths:
            for seed in range(seeds):
                out += cell("activation", v, seed, activation=v, init="orthogonal", length=length,
                            rate=rates[v] - rate_spread * (seed % 3),
                            bound=max(math.log(gamma), rates[v]) - bound_shift, gamma=gamma, chain_err=chain_err,
                            score=seed_score(_per_length(accs[v], length), seed), deriv_mean=derivs[v], deriv_sq=sq[v])
    return out


def init(seeds=6, accs=None, rates=None, spread=0.002) -> list[dict]:
    accs = {"default": FAIL, "xavier": 0.6, "orthogonal": SOLVE, "irnn": 0.3, **(accs or {})}
    rates = {"default": -0.2, "xavier": -0.1, "orthogonal": -0.045, "irnn": -0.008, **(rates or {})}
    models = {"default": ("tanh", "default", 0.14), "xavier": ("tanh", "xavier", 0.69),
              "orthogonal": ("tanh", "orthogonal", 0.0), "irnn": ("relu", "identity", 0.0)}
    out = []
    for v, (act, ini, bound) in models.items():
        for seed in range(seeds):
            out += cell("init", v, seed, activation=act, init=ini, length=20, rate=rates[v] - spread * (seed % 3),
                        bound=max(bound, rates[v]), score=seed_score(accs[v], seed))
    return out


def gain_sweep(seeds=3, gains=(0.5, 0.9, 1.0, 1.1, 1.5), identity_error=0.0, tanh_excess=0.0, length=20) -> list[dict]:
    out = []
    for g in gains:
        log_g = math.log(g)
        for seed in range(seeds):
            out += cell("gain_sweep", "identity", seed, activation="identity", init="orthogonal", gain=g, length=length,
                        budget=0, rate=log_g + identity_error - 1e-9 * seed, bound=log_g + max(identity_error, 0))
            tanh_rate = min(log_g, 0.6 * log_g) - 0.03 + tanh_excess - 0.001 * seed
            out += cell("gain_sweep", "tanh", seed, activation="tanh", init="orthogonal", gain=g, length=length,
                        budget=0, rate=tanh_rate, bound=max(log_g, tanh_rate))
    return out






def recall_length(seeds=6, accs=None, lengths=(5, 10, 20, 50)) -> list[dict]:
    accs = {5: SOLVE, 10: SOLVE, 20: 0.6, 50: FAIL, **(accs or {})}
    return [r for length in lengths for seed in range(seeds)
            for r in cell("recall_length", "base", seed, length=length, rate=-0.2, bound=0.14,
                          score=seed_score(accs[length], seed))]




def adding_length(seeds=6, mse=None, lengths=(5, 10, 20)) -> list[dict]:
    mse = {"rnn_tanh": {5: 0.01, 10: 0.05, 20: 0.17}, "irnn": {5: 0.01, 10: 0.01, 20: 0.01},
           "lstm_chrono": {5: 0.002, 10: 0.002, 20: 0.002}, **(mse or {})}
    models = {"rnn_tanh": ("rnn", "tanh", "default"), "irnn": ("rnn", "relu", "identity"),
              "lstm_chrono": ("lstm", "tanh", "chrono")}
    out = []
    for v, (arch, act, init_) in models.items():
        for length in lengths:
            for seed in range(seeds):
                value = mse[v][length]
                out += cell("adding_length", v, seed, arch=arch, activation=act, init=init_, length=length, task="adding",
                            rate=-0.3, bound=0.0,
                            score=value[seed % len(value)] if isinstance(value, list) else value + 0.001 * (seed % 3))
    return out


def copy(seeds=6, accs=None, delays=(5, 30)) -> list[dict]:
    accs = {"rnn_tanh": {5: SOLVE, 30: FAIL}, **(accs or {})}
    out = []
    for v, by_delay in accs.items():
        for delay in delays:
            for seed in range(seeds):
                score = seed_score(by_delay[delay], seed)
                out += cell("copy", v, seed, task="copy", length=delay, rate=-0.2, bound=0.14, score=score,
                            eval_loss=10 * math.log(8) / (delay + 20) * (0.1 if score > 0.5 else 1.0))
    return out








ARCH_MODELS = {"rnn_tanh": ("rnn", "default"), "lstm_default": ("lstm", "default"),
               "lstm_forget_bias_1": ("lstm", "forget_bias_1"), "lstm_chrono": ("lstm", "chrono"),
               "gru": ("gru", "default"), "transformer": ("transformer", "default")}


def architecture(seeds=6, lengths=(5, 10, 20), rates=None, accs=None, sens=None, influence=None,
                 trained_rates=None) -> list[dict]:
    """trained_rates: variant -> the gradient's rate per step after training (default: its rate at
    initialisation, at most 0.3)."""
    rates = {"rnn_tanh": -0.5, "lstm_default": -0.3, "lstm_forget_bias_1": -0.15, "lstm_chrono": -0.02,
             "gru": -0.2, "transformer": 0.0, **(rates or {})}
    fail = {5: SOLVE, 10: FAIL, 20: FAIL}
    accs = {"rnn_tanh": {5: SOLVE, 10: 0.6, 20: FAIL}, "lstm_default": fail, "lstm_forget_bias_1": fail,
            "lstm_chrono": SOLVE, "gru": fail, "transformer": SOLVE, **(accs or {})}
    sens = {"rnn_tanh": -16.0, "lstm_default": -30.0, "lstm_forget_bias_1": -16.0, "lstm_chrono": 1.0,
            "gru": -16.0, "transformer": 1.0, **(sens or {})}
    # the share of answers that change with the cue after training (probes.cue_influence)
    influence = {"rnn_tanh": 0.05, "lstm_default": 0.05, "lstm_forget_bias_1": 0.05, "lstm_chrono": 0.95,
                 "gru": 0.05, "transformer": 0.95, **(influence or {})}
    out = []
    for v, (arch, init_) in ARCH_MODELS.items():
        for length in lengths:
            for seed in range(seeds):
                jitter = 0.0005 * ((seed % 3) - 1) if v == "transformer" else -0.002 * (seed % 3)
                acc = accs[v][length] if isinstance(accs[v], dict) else accs[v]
                out += cell("architecture", v, seed, arch=arch, init=init_, length=length, rate=rates[v] + jitter,
                            bound=0.1, score=seed_score(acc, seed), sens_log10=sens[v] + spread(seed % 3, 0.5),
                            trained_rate=(trained_rates or {}).get(v, min(rates[v], 0.3)) + jitter, trained_bound=0.3,
                            influence=_clip01(_per_seed(influence[v], seed) + spread(seed % 3, 0.01)))
    return out




# The builders of experiments that several results read (or the literature comparison); an experiment
# that only one result reads has its builder in that result's folder (examples.py, BUILDERS).
SHARED = {"activation": activation, "init": init, "gain_sweep": gain_sweep, "recall_length": recall_length,
          "adding_length": adding_length, "copy": copy, "architecture": architecture}
NOTHING = {"*": None}  # world(**NOTHING): no experiment at all (a result's "not tested" world)


def builders() -> dict:
    """Experiment name -> the builder of its records: the shared ones above, then each result folder's
    own (its examples.py's BUILDERS), in report order. Two builders for one experiment are an error."""
    from . import MODULES, _folder_module
    out = dict(SHARED)
    for module in MODULES:
        for name, build in getattr(_folder_module(module, "examples"), "BUILDERS", {}).items():
            if name in out:
                raise RuntimeError(f"{module.SPEC.id}'s examples.py builds {name!r}, which is built elsewhere too")
            out[name] = build
    return out


def frame(*record_lists):
    """One records DataFrame from any number of builder outputs."""
    return records_frame([r for records in record_lists for r in records])


def world(**overrides):
    """Every experiment with its supporting defaults; overrides: experiment name -> builder kwargs (None drops
    it; "*": None drops every experiment not named, see NOTHING)."""
    default = overrides.pop("*", {})
    unknown = set(overrides) - set(builders())
    if unknown:
        raise KeyError(f"no builder for {sorted(unknown)} (synthetic.SHARED or a result folder's BUILDERS)")
    parts = []
    for name, build in builders().items():
        kwargs = overrides.get(name, default)
        if kwargs is None:
            continue
        parts.append(build(**kwargs))
    return frame(*parts)
