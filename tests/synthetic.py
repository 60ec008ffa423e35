"""Synthetic record sets in the documented schema, for testing verdict logic without training.

Each builder returns the records one experiment of the battery would produce, with the
quantities the findings read (decay rates, bounds, accuracies, divergence) set by arguments.
Gradient profiles are exact exponentials exp(rate * lag); per-seed values get a small,
deterministic spread so that t-intervals across seeds are narrow but not degenerate.
"""
from __future__ import annotations

import math

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
         deriv_mean: float = 0.9, train_logs: list[tuple[int, float, float]] | None = None) -> list[dict]:
    """All records of one cell: init probe, training curve, trained probe and final scalars."""
    base = {"experiment": experiment, "variant": variant, "arch": arch,
            "activation": activation if arch == "rnn" else "", "init": init, "gain": gain, "hidden": 16,
            "task": task, "length": length, "clip": NAN if clip is None else clip, "budget": budget, "seed": seed}
    records: list[dict] = []

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
                              ("act_deriv_p90", min(1.0, 1.05 * deriv_mean)), ("act_deriv_frac_small", 0.0)):
            add("init", metric, value)
    score_name = "accuracy" if task == "recall" else "mse"
    chance = CHANCE if task == "recall" else ADDING_BASELINE
    if score is None:
        score = chance
    if budget and diverged_step is None:
        for step, loss, norm in train_logs or []:
            add("train", "train_loss", loss, step)
            add("train", "grad_norm_total", norm, step)
            add("train", "grad_norm_total_max", 2 * norm, step)
        for step, value in curve or [(budget, score)]:
            add("train", f"eval_{score_name}", value, step)
        t_rate = rate if trained_rate is None else trained_rate
        for lag in lags:
            add("trained", "grad_norm_state", math.exp(t_rate * lag), budget, lag)
            sens = 10 ** (sens_log10 * lag / (length - 1)) if sens_log10 is not None else math.exp(t_rate * lag)
            add("trained", "sensitivity_input", sens, budget, lag)
        if arch == "rnn":
            add("trained", "bound_log_rate", bound if trained_bound is None else trained_bound, budget)
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


def activation(seeds=3, rates=None, accs=None, derivs=None, chain_err=0.0, length=20) -> list[dict]:
    rates = {"sigmoid": -1.45, "tanh": -0.045, "relu": -0.35, "identity": 0.0, **(rates or {})}
    accs = {"sigmoid": 0.13, "tanh": 0.75, "relu": 0.13, "identity": 0.85, **(accs or {})}
    derivs = {"sigmoid": 0.235, "tanh": 0.96, "relu": 0.5, "identity": 1.0, **(derivs or {})}
    out = []
    for v in ("sigmoid", "tanh", "relu", "identity"):
        gamma = 0.25 if v == "sigmoid" else 1.0
        for seed in range(seeds):
            out += cell("activation", v, seed, activation=v, init="orthogonal", length=length,
                        rate=rates[v] - 0.001 * seed, bound=math.log(gamma), gamma=gamma, chain_err=chain_err,
                        score=_clip01(_per_seed(accs[v], seed) + spread(seed, 0.01)), deriv_mean=derivs[v])
    return out


ARCH_MODELS = {"rnn_tanh": ("rnn", "default"), "lstm_default": ("lstm", "default"),
               "lstm_forget_bias_1": ("lstm", "forget_bias_1"), "lstm_chrono": ("lstm", "chrono"),
               "gru": ("gru", "default"), "transformer": ("transformer", "default")}


def architecture(seeds=3, lengths=(5, 10, 20), rates=None, accs=None, sens=None) -> list[dict]:
    rates = {"rnn_tanh": -0.5, "lstm_default": -0.44, "lstm_forget_bias_1": -0.15, "lstm_chrono": -0.02,
             "gru": -0.42, "transformer": 0.0, **(rates or {})}
    fail = {5: 1.0, 10: 0.125, 20: 0.125}
    accs = {"rnn_tanh": {5: 1.0, 10: 0.6, 20: 0.125}, "lstm_default": fail, "lstm_forget_bias_1": fail,
            "lstm_chrono": 1.0, "gru": fail, "transformer": 1.0, **(accs or {})}
    sens = {"rnn_tanh": -16.0, "lstm_default": -30.0, "lstm_forget_bias_1": -16.0, "lstm_chrono": 1.0,
            "gru": -16.0, "transformer": 1.0, **(sens or {})}
    out = []
    for v, (arch, init) in ARCH_MODELS.items():
        for length in lengths:
            for seed in range(seeds):
                jitter = 0.0005 * (seed - 1) if v == "transformer" else -0.002 * seed
                acc = _per_seed(_per_length(accs[v], length), seed)
                out += cell("architecture", v, seed, arch=arch, init=init, length=length, rate=rates[v] + jitter,
                            bound=0.1, score=_clip01(acc + spread(seed, 0.005)), sens_log10=sens[v] + spread(seed, 0.5),
                            trained_bound=0.3)
    return out


def recall_length(seeds=3, accs=None, lengths=(5, 10, 20, 50)) -> list[dict]:
    accs = {5: 1.0, 10: 1.0, 20: 0.6, 50: 0.125, **(accs or {})}
    return [r for length in lengths for seed in range(seeds)
            for r in cell("recall_length", "base", seed, length=length, rate=-0.5,
                          score=_clip01(_per_seed(accs[length], seed) + spread(seed, 0.005)))]


def adding_length(seeds=3, mse=None, lengths=(5, 10, 20)) -> list[dict]:
    mse = {"rnn_tanh": {5: 0.01, 10: 0.05, 20: 0.17}, "irnn": {5: 0.01, 10: 0.01, 20: 0.01},
           "lstm_chrono": {5: 0.002, 10: 0.002, 20: 0.002}, **(mse or {})}
    models = {"rnn_tanh": ("rnn", "tanh", "default"), "irnn": ("rnn", "relu", "identity"),
              "lstm_chrono": ("lstm", "tanh", "chrono")}
    out = []
    for v, (arch, act, init) in models.items():
        for length in lengths:
            for seed in range(seeds):
                out += cell("adding_length", v, seed, arch=arch, activation=act, init=init, length=length, task="adding",
                            rate=-0.3, bound=0.0,
                            score=max(0.0, _per_seed(_per_length(mse[v], length), seed) + spread(seed, 0.002)))
    return out


def budget(seeds=3, runs=None, steps=400) -> list[dict]:
    """runs: variant -> (accuracy at the quarter, accuracy at the end), each a number or a list per seed."""
    runs = {"rnn_tanh": (0.125, 0.125), "rnn_orthogonal": (0.125, 0.125), "irnn": (0.125, 0.125), **(runs or {})}
    models = {"rnn_tanh": ("tanh", "default"), "rnn_orthogonal": ("tanh", "orthogonal"), "irnn": ("relu", "identity")}
    out = []
    for v, (act, init) in models.items():
        for seed in range(seeds):
            q, end = (_clip01(_per_seed(x, seed) + spread(seed, 0.004)) for x in runs[v])
            curve = [(s, q if s <= steps // 4 else q + (end - q) * (s - steps // 4) / (steps - steps // 4))
                     for s in range(steps // 4, steps + 1, steps // 4)]
            out += cell("budget", v, seed, activation=act, init=init, length=20, budget=steps, rate=-0.4,
                        bound=0.1, score=curve[-1][1], curve=curve)
    return out


def init(seeds=3, accs=None, rates=None) -> list[dict]:
    accs = {"default": 0.2, "xavier": 0.6, "orthogonal": 0.9, "irnn": 0.3, **(accs or {})}
    rates = {"default": -0.5, "xavier": -0.1, "orthogonal": -0.045, "irnn": -0.008, **(rates or {})}
    models = {"default": ("tanh", "default", 0.1), "xavier": ("tanh", "xavier", 0.66),
              "orthogonal": ("tanh", "orthogonal", 0.0), "irnn": ("relu", "identity", 0.0)}
    out = []
    for v, (act, ini, bound) in models.items():
        for seed in range(seeds):
            out += cell("init", v, seed, activation=act, init=ini, length=20, rate=rates[v] - 0.002 * seed,
                        bound=bound, score=_clip01(_per_seed(accs[v], seed) + spread(seed, 0.01)))
    return out


def gain_sweep(seeds=3, gains=(0.5, 0.9, 1.0, 1.1, 1.5), identity_error=0.0, tanh_excess=0.0) -> list[dict]:
    out = []
    for g in gains:
        log_g = math.log(g)
        for seed in range(seeds):
            out += cell("gain_sweep", "identity", seed, activation="identity", init="orthogonal", gain=g, length=20,
                        budget=0, rate=log_g + identity_error - 1e-9 * seed, bound=log_g + max(identity_error, 0))
            tanh_rate = min(log_g, 0.6 * log_g) - 0.03 + tanh_excess - 0.001 * seed
            out += cell("gain_sweep", "tanh", seed, activation="tanh", init="orthogonal", gain=g, length=20,
                        budget=0, rate=tanh_rate, bound=max(log_g, tanh_rate))
    return out


def clip_exploding(seeds=3, unclipped_diverge=True, clipped_diverge=False) -> list[dict]:
    out = []
    logs = [(s, 400 / s, 1000 / s) for s in range(5, 101, 5)]
    for v, clip, diverge in (("no_clip", None, unclipped_diverge), ("clip_1", 1.0, clipped_diverge)):
        for seed in range(seeds):
            out += cell("clip_exploding", v, seed, activation="identity", init="orthogonal", gain=1.2, length=20,
                        clip=clip, rate=math.log(1.2), bound=math.log(1.2), score=1.0,
                        diverged_step=2 + seed if diverge else None, train_logs=logs)
    return out


def clip_vanishing(seeds=3, accs=None, trained_rates=None) -> list[dict]:
    accs = {"no_clip": 0.13, "clip_1": 0.13, **(accs or {})}
    trained_rates = {"no_clip": -0.4, "clip_1": -0.4, **(trained_rates or {})}
    logs = [(s, 2.0, 0.8) for s in range(25, 101, 25)]
    out = []
    for v, clip in (("no_clip", None), ("clip_1", 1.0)):
        for seed in range(seeds):
            out += cell("clip_vanishing", v, seed, length=20, clip=clip, rate=-0.5, bound=0.1,
                        score=_clip01(accs[v] + spread(seed, 0.005)),
                        trained_rate=trained_rates[v] + spread(seed, 0.01), train_logs=logs)
    return out


BUILDERS = {"activation": activation, "architecture": architecture, "recall_length": recall_length,
            "adding_length": adding_length, "budget": budget, "init": init, "gain_sweep": gain_sweep,
            "clip_exploding": clip_exploding, "clip_vanishing": clip_vanishing}


def frame(*record_lists):
    """One records DataFrame from any number of builder outputs."""
    return records_frame([r for records in record_lists for r in records])


def world(seeds: int = 3, **overrides):
    """Every experiment with its supporting defaults; overrides: experiment name -> builder kwargs (None drops it)."""
    parts = []
    for name, build in BUILDERS.items():
        kwargs = overrides.get(name, {})
        if kwargs is None:
            continue
        parts.append(build(seeds=seeds, **kwargs))
    return frame(*parts)
