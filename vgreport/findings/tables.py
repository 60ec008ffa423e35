"""Tables several results read, computed once per evaluation (Context.memo): per-seed training
outcomes and their shares per configuration, decay rates and gradient profiles.

A seed's outcome is `solved`, `partial`, `chance`, `ambiguous` or `diverged`:
- recall and copy: from the Wilson 95% interval of its held-out accuracy (eval_size answers): solved
  when it lies above SOLVED (0.9, near solving the task), at chance when it lies below chance +
  CHANCE_MARGIN, partial when it lies between the two bars, ambiguous when it straddles one;
- adding (point thresholds on the held-out MSE against the predict-1 baseline 1/6, the target's
  variance): solved below ADDING_SOLVED x 1/6 (80% of the variance explained), at chance above
  ADDING_CHANCE x 1/6, partial between;
- diverged (a NaN or infinite loss): its own outcome, counted as not solved and not above chance.
Each seed is also *unsolved* when its interval lies below the solving bar (or it diverged), and
*above chance* when it lies above chance + CHANCE_MARGIN.

A configuration's decisions are about shares of seeds (Wilson intervals against one half, at the
experiment's look level): `solves` (most seeds solve), `fails_to_solve` (most are unsolved),
`above_chance` (most rise above chance), `stays_at_chance` (most stay at chance); each True, False or
None (undetermined). Seeds are the unit: a t-interval of mean accuracies assumes a normal spread that
bimodal training outcomes (a run solves or it does not) do not have, and it declares "at chance"
after three failing seeds even when one run in three would solve.

Failure statements need a positive control: "does not solve" counts only beside a control that
solves (unsolved_given), "stays at chance" only beside one that rises above chance (at_chance_given).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..aggregate import CELL_KEYS, decay_rates, eval_curves, final_scores, lag_profiles, scalar_by_cell
from ..configs import KEY, varying
from .base import Config, Context, Undecidable
from .stats import LEVEL, Interval, Share, share, t_interval, wilson

__all__ = ["SOLVED", "CHANCE_MARGIN", "ADDING_SOLVED", "ADDING_CHANCE", "MOST", "ConfigOutcome", "outcomes",
           "seed_flags", "solves_given", "solves_state", "unsolved_given", "at_chance_given", "budget_of", "with_control", "keyed",
           "one_config", "config_at", "rows_of", "config_outcomes", "config_outcome", "rates", "at_longest",
           "cell_rates", "gradient_ratios", "mean_scalar", "configs_of", "profile_series", "BUDGET_MULTIPLES", "budget_curve", "most"]

# "Solved": the seed's accuracy interval lies above 0.9 (a model that solved recall reaches ≈ 1).
SOLVED = 0.9
# "Above chance": its interval lies above chance + 0.1: ten binomial standard errors of an accuracy
# near 1/8 at n = 1024.
CHANCE_MARGIN = 0.1
# Adding problem (point thresholds on the MSE, as fractions of the predict-1 baseline 1/6). Solved below 0.2
# (80% of the target's variance explained): a bar at 0.1 fell inside the spread of the tanh RNN's seeds at
# length 10 (0.015–0.024 MSE in the standard build), so one seed more or less would have moved the
# verdict; 0.2 lies in the gap between those and the next best configuration (0.04).
ADDING_SOLVED, ADDING_CHANCE = 0.2, 0.8
MOST = 0.5  # "most seeds": the share's interval lies above one half
FLAGS = ("solved", "unsolved", "above", "at_chance")


def seed_flags(task: str, score: float, chance: float, diverged: bool, n_eval: int) -> dict:
    """One seed's outcome word and its four flags (solved, unsolved, above chance, at chance), see the
    module text."""
    if diverged or not math.isfinite(score):
        return {"outcome": "diverged", "solved": False, "unsolved": True, "above": False, "at_chance": False}
    if task == "adding":
        solved, above = score < ADDING_SOLVED * chance, score < ADDING_CHANCE * chance
        flags = {"solved": solved, "unsolved": not solved, "above": above, "at_chance": not above}
    else:
        hits = min(max(int(round(score * n_eval)), 0), n_eval)
        lo, hi = wilson(hits, n_eval, LEVEL)
        bar = chance + CHANCE_MARGIN
        flags = {"solved": lo > SOLVED, "unsolved": hi < SOLVED, "above": lo > bar, "at_chance": hi < bar}
    word = ("solved" if flags["solved"] else "chance" if flags["at_chance"] else
            "partial" if flags["above"] and flags["unsolved"] else "ambiguous")
    return {"outcome": word, **flags}


def outcomes(ctx: Context, experiment: str) -> pd.DataFrame:
    """One row per cell that trained: CELL_KEYS, task, final score, best held-out score during
    training (max accuracy / min MSE), chance, diverged, the seed's outcome and flags by its final score
    (outcome, solved, unsolved, above, at_chance) and by its best (best_outcome, best_solved, ...)."""
    return ctx.memo(("outcomes", experiment), lambda: _outcomes(ctx, experiment))


def _outcomes(ctx: Context, experiment: str) -> pd.DataFrame:
    scores = final_scores(ctx.part(experiment), experiment)
    columns = (CELL_KEYS + ["task", "score", "best", "chance", "diverged", "outcome"] + list(FLAGS) + ["best_outcome"]
               + [f"best_{f}" for f in FLAGS])
    if scores.empty:
        return pd.DataFrame(columns=columns)
    n_eval = ctx.eval_size(experiment)
    best = {}
    for metric, pick in (("eval_accuracy", "max"), ("eval_mse", "min")):
        curves = eval_curves(ctx.part(experiment), experiment, metric)
        if len(curves):
            for key, value in curves.groupby(CELL_KEYS)["value"].agg(pick).items():
                best[key] = float(value)
    rows = []
    for _, r in scores.iterrows():
        key = tuple(r[k] for k in CELL_KEYS)
        diverged = bool(r["diverged"] == 1)
        score = float(r["score"])
        top = best.get(key, score)
        final = seed_flags(r["task"], score, float(r["chance"]), diverged, n_eval)
        at_best = seed_flags(r["task"], top, float(r["chance"]), diverged, n_eval)
        rows.append({**{k: r[k] for k in CELL_KEYS}, "task": r["task"], "score": score, "best": top,
                     "chance": float(r["chance"]), "diverged": diverged, **final,
                     "best_outcome": at_best["outcome"], **{f"best_{f}": at_best[f] for f in FLAGS}})
    return pd.DataFrame(rows, columns=columns)


def most(s: Share) -> bool | None:
    """Most seeds (share interval above 1/2: True), a minority (below: False), or undetermined."""
    if s.n < 2 or not s.known:
        return None
    return True if s.lo > MOST else False if s.hi < MOST else None


@dataclass
class ConfigOutcome:
    """The training outcome of one configuration across its seeds."""
    config: Config
    label: str
    task: str
    chance: float
    seeds: list[int]
    scores: list[float]                 # final held-out score per seed (seed order)
    best: list[float]                   # best held-out score during training per seed
    outcomes: list[str]                 # solved / partial / chance / ambiguous / diverged per seed
    score: Interval                     # mean final score with its t-interval (descriptive only)
    solved: Share                       # seeds that solved, Wilson interval at the look level
    unsolved: Share                     # seeds clearly below the solving bar (or diverged)
    above: Share                        # seeds clearly above chance
    at_chance: Share                    # seeds clearly at chance
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def solves(self) -> bool | None:
        """Most seeds solve (True), most do not (False), or undetermined."""
        return most(self.solved)

    @property
    def fails_to_solve(self) -> bool | None:
        """Most seeds are unsolved (True), most are not (False), or undetermined."""
        return most(self.unsolved)

    @property
    def above_chance(self) -> bool | None:
        """Most seeds rise above chance (True), most do not (False), or undetermined."""
        return most(self.above)

    @property
    def stays_at_chance(self) -> bool | None:
        """Most seeds stay at chance (True), most do not (False), or undetermined."""
        return most(self.at_chance)

    def decision(self, name: str) -> bool | None:
        return getattr(self, name)


def configs_of(ctx: Context, experiment: str, variant: str | None = None) -> list[Config]:
    """The configurations of an experiment present in the records (configs.Config)."""
    rows = ctx.part(experiment)
    if rows.empty:
        return []
    if variant is not None:
        rows = rows[rows["variant"] == variant]
    return sorted(Config.of(row) for row in rows[KEY].drop_duplicates().to_dict("records"))


def keyed(table: dict[Config, Any], *fields: str) -> dict:
    """A per-configuration table keyed by the fields a result tells configurations apart by ("variant";
    "variant", "length"; "gain"): one entry per key. Two configurations with the same key differ in a
    field the result does not read (a sweep it was not written for): that is Undecidable, naming the
    field, never a silent pick of one of them."""
    out: dict = {}
    first: dict = {}
    for config, value in table.items():
        key = tuple(getattr(config, f) for f in fields)
        key = key[0] if len(fields) == 1 else key
        if key in first:
            other = [f for f in varying([first[key], config]) if f not in fields]
            raise Undecidable(f"'{config.experiment}' has several configurations with {', '.join(fields)} "
                              f"{key!r}: they differ in {', '.join(other)}, which this result does not tell apart",
                              [config.experiment])
        first[key] = config
        out[key] = value
    return out


def rows_of(frame: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The rows of a table (with the KEY columns) that belong to one configuration."""
    mask = np.ones(len(frame), bool)
    for name in KEY:
        mask &= (np.isclose(frame[name], config.gain) if name == "gain" else frame[name] == getattr(config, name))
    return frame[mask]


def one_config(rows: pd.DataFrame, what: str) -> pd.DataFrame:
    """`rows` (with the KEY columns), checked to belong to one configuration: rows of several, which a
    result would pool as one, are Undecidable (naming the fields that differ)."""
    configs = [Config.of(r) for r in rows[KEY].drop_duplicates().to_dict("records")]
    if len(configs) > 1:
        raise Undecidable(f"{what} spans {len(configs)} configurations of '{configs[0].experiment}' that differ in "
                          f"{', '.join(varying(configs))}, which this result does not tell apart",
                          [configs[0].experiment])
    return rows


def config_at(ctx: Context, experiment: str, variant: str, length: int | None = None) -> Config | None:
    """The configuration of a variant at `length` (default: its longest), or None when absent."""
    table = keyed({c: c for c in configs_of(ctx, experiment, variant)}, "length")
    if not table:
        return None
    return table[max(table)] if length is None else table.get(length)


def config_outcomes(ctx: Context, experiment: str) -> dict[Config, ConfigOutcome]:
    return ctx.memo(("config_outcomes", experiment), lambda: _config_outcomes(ctx, experiment))


def _config_outcomes(ctx: Context, experiment: str) -> dict[Config, ConfigOutcome]:
    table = outcomes(ctx, experiment)
    out = {}
    level = ctx.level_for(experiment)
    for _, group in table.groupby(KEY[1:], sort=True):
        group = group.sort_values("seed")
        config = Config.of(group.iloc[0])
        counts = {k: int((group["outcome"] == k).sum()) for k in ("solved", "partial", "chance", "ambiguous", "diverged")}
        n = len(group)
        shares = {f: share(int(group[f].astype(bool).sum()), n, level) for f in FLAGS}
        task = group["task"].iloc[0]
        bounded = (0.0, 1.0) if task != "adding" else (0.0, math.inf)
        s = t_interval(group["score"], level)
        s = Interval(s.mean, max(s.lo, bounded[0]) if math.isfinite(s.lo) else s.lo,
                     min(s.hi, bounded[1]) if math.isfinite(s.hi) else s.hi, s.n)
        out[config] = ConfigOutcome(
            config=config, label=ctx.describe(experiment, config.variant), task=task, chance=float(group["chance"].iloc[0]),
            seeds=[int(x) for x in group["seed"]], scores=[float(x) for x in group["score"]],
            best=[float(x) for x in group["best"]], outcomes=list(group["outcome"]), score=s, counts=counts, **shares)
    return out


def solves_given(outcome: ConfigOutcome | None, control: ConfigOutcome | None) -> bool | None:
    """"Most seeds solve", where a refutation (most unsolved) counts only beside a positive control that
    solves (the same model at a short length, or a reference model at this length, same task and budget):
    otherwise a failure may be the budget's, not the model's, and the part stays undetermined."""
    if outcome is None:
        return None
    if outcome.solves is True:
        return True
    if outcome.fails_to_solve is True and control is not None and control.solves is True:
        return False
    return None


def solves_state(outcome: ConfigOutcome | None) -> bool | None:
    """"Most seeds solve" for a configuration that is its own easiest case (no control to lean on): True
    when most solve, False when most are unsolved, else undetermined."""
    if outcome is None:
        return None
    return True if outcome.solves else False if outcome.fails_to_solve else None


def unsolved_given(outcome: ConfigOutcome | None, control: ConfigOutcome | None) -> bool | None:
    """"Most seeds do not solve", decided only beside a positive control that solves.

    False (refuted) when most seeds are not unsolved (the share of unsolved seeds lies below one half);
    True only when most are unsolved and the control solves; otherwise undetermined (budget-limited)."""
    if outcome is None:
        return None
    if outcome.fails_to_solve is False:
        return False
    if outcome.fails_to_solve is True and control is not None and control.solves is True:
        return True
    return None


def at_chance_given(outcome: ConfigOutcome | None, control: ConfigOutcome | None) -> bool | None:
    """"Most seeds stay at chance", decided only beside a positive control that rises above chance.

    False (refuted) when most seeds do not stay at chance; True only when most do and the control
    rises above chance in most seeds; otherwise undetermined."""
    if outcome is None:
        return None
    if outcome.stays_at_chance is False:
        return False
    if outcome.stays_at_chance is True and control is not None and control.above_chance is True:
        return True
    return None


def with_control(control: ConfigOutcome | None, *configs: Config, need: str = "solves") -> tuple[Config, ...]:
    """The configurations a control-gated part reads: its own, and its control's only while the control's
    decision (`need`: "solves" or "above_chance") is undetermined (more seeds there could decide the part;
    a decided control needs none)."""
    return configs + ((control.config,) if control is not None and control.decision(need) is None else ())


def budget_of(ctx: Context, experiment: str) -> int:
    """The training budget of an experiment in steps (from its records: every cell's `budget`)."""
    rows = ctx.part(experiment)
    return int(rows["budget"].max()) if len(rows) else 0


def config_outcome(ctx: Context, experiment: str, variant: str, length: int | None = None) -> ConfigOutcome | None:
    """The outcome of one variant (at `length`, default its longest) or None when absent; Undecidable
    when the variant has several configurations at that length (keyed)."""
    table = keyed({c: o for c, o in config_outcomes(ctx, experiment).items() if c.variant == variant}, "length")
    if not table:
        return None
    if length is None:
        return table[max(table)]
    return table.get(length)


def cell_rates(ctx: Context, experiment: str, stage: str = "init") -> pd.DataFrame:
    """The decay rate fitted in each cell (aggregate.decay_rates)."""
    return ctx.memo(("cell_rates", experiment, stage), lambda: decay_rates(ctx.part(experiment), experiment, stage))


def rates(ctx: Context, experiment: str, stage: str = "init", level: float | None = None) -> dict[Config, dict]:
    """Per configuration: the t-interval across seeds of the fitted per-step rate, and the fits' R²
    (mean and minimum)."""
    level = ctx.init_level if level is None else level
    per_cell = cell_rates(ctx, experiment, stage)
    out = {}
    for _, group in per_cell.groupby(KEY[1:], sort=True):
        r2 = group["r2"].dropna()
        out[Config.of(group.iloc[0])] = {
            "rate": t_interval(group["rate"], level), "per_seed": [float(x) for x in group["rate"]],
            "r2": float(r2.mean()) if len(r2) else math.nan, "r2_min": float(r2.min()) if len(r2) else math.nan}
    return out


def gradient_ratios(ctx: Context, experiment: str, stage: str = "init", near_lag: int = 0,
                    level: float | None = None) -> dict[Config, dict]:
    """Per configuration: the measured ratio ‖∂L/∂h‖ at its farthest lag (the first input, T − 1 steps
    back) over the value at `near_lag` (0: the last step; 1: one step back), per seed, and the t-interval
    across seeds of its log10 (at `level`, default the level of initialisation probes). A number printed
    as "left after k steps" is this ratio, never e^(k·r) from a fitted slope."""
    level = ctx.init_level if level is None else level
    profiles = lag_profiles(ctx.part(experiment), experiment, "grad_norm_state", stage)
    out: dict[Config, dict] = {}
    if profiles.empty:
        return out
    for _, group in profiles.groupby(KEY[1:], sort=True):
        per_seed = []
        for _, g in group.groupby("seed", sort=True):
            far = g.loc[g["time_lag"] == g["time_lag"].max(), "value"]
            near = g.loc[g["time_lag"] == near_lag, "value"]
            if len(far) and len(near) and float(near.iloc[0]) > 0 and float(far.iloc[0]) > 0:
                per_seed.append(float(far.iloc[0]) / float(near.iloc[0]))
        if not per_seed:
            continue
        logs = [math.log10(r) for r in per_seed]
        out[Config.of(group.iloc[0])] = {"per_seed": per_seed, "lags": int(group["time_lag"].max()) - near_lag,
                                         "log10": t_interval(logs, level), "min": min(per_seed), "max": max(per_seed),
                                         "geo_mean": float(10 ** np.mean(logs))}
    return out


def at_longest(table: dict[Config, Any]) -> tuple[int, dict[str, Any]]:
    """The longest length of a per-configuration table and its entries there, by variant
    (0 and {} for an empty table; Undecidable where a variant has several configurations there)."""
    longest = max((c.length for c in table), default=0)
    return longest, keyed({c: value for c, value in table.items() if c.length == longest}, "variant")


def mean_scalar(ctx: Context, experiment: str, metric: str, variant: str | None = None, stage: str = "init",
                length: int | None = None, gain: float | None = None) -> float:
    rows = ctx.memo(("scalar", experiment, metric, stage),
                    lambda: scalar_by_cell(ctx.part(experiment), experiment, metric, stage))
    if variant is not None:
        rows = rows[rows["variant"] == variant]
    if length is not None:
        rows = rows[rows["length"] == length]
    if gain is not None:
        rows = rows[np.isclose(rows["gain"], gain)]
    values = one_config(rows, f"'{metric}' of {variant or 'every variant'}")["value"].dropna()
    return float(values.mean()) if len(values) else math.nan


def profile_series(ctx: Context, experiment: str, variants: list[str], length: int | None = None,
                   metric: str = "grad_norm_state", stage: str = "init", label=None,
                   slots: dict[str, int] | None = None) -> list[dict]:
    """Geometric mean over seeds (band: min to max) of value(lag)/value(0), one series per variant, each
    in its model's style (Context.slots, unless `slots` gives them)."""
    series = []
    slots = ctx.slots(experiment, variants) if slots is None else slots
    profiles = lag_profiles(ctx.part(experiment), experiment, metric, stage)
    for variant in variants:
        rows = profiles[profiles["variant"] == variant]
        if length is not None:
            rows = rows[rows["length"] == length]
        if rows.empty:
            continue
        one_config(rows, f"the profile of {variant}")
        wide = rows.pivot_table(index="time_lag", columns="seed", values="value", aggfunc="first")
        ratio = wide / wide.iloc[0].where(wide.iloc[0] > 0)
        logs = np.log(ratio.where(ratio > 0))
        series.append({"label": label(variant) if label else ctx.describe(experiment, variant),
                       "slot": slots.get(variant, len(series)), "lags": wide.index.to_numpy(float),
                       "mean": np.exp(logs.mean(axis=1)).to_numpy(), "lo": np.exp(logs.min(axis=1)).to_numpy(),
                       "hi": np.exp(logs.max(axis=1)).to_numpy()})
    return series


# 'budget' trains for the last multiple of a base budget and is read at each (C5 decides on it, C4 quotes it).
BUDGET_MULTIPLES = (1, 2, 4, 8)


def budget_curve(ctx: Context, experiment: str, group: pd.DataFrame, standard: int, chance: float) -> dict:
    """A long run read at each of BUDGET_MULTIPLES times the base budget `standard`: per multiple, each
    seed's held-out accuracy at its last evaluation by then and the best it reached so far (a run can
    solve and lose it again), and the shares of seeds, at the experiment's level, that had solved (by the
    last or the best accuracy), were unsolved by their best (its interval below the solving bar), had
    risen above chance without solving (partial) or stayed at chance. `group`: its eval_curves rows of
    one variant."""
    n_eval, level = ctx.eval_size(experiment), ctx.level_for(experiment)
    one_config(group, "the training curve")
    out = {}
    seeds = sorted(group["seed"].unique())
    for m in BUDGET_MULTIPLES:
        steps = m * standard
        last, best = [], []
        for s in seeds:
            g = group[(group["seed"] == s) & (group["step"] <= steps)]
            if g.empty:
                continue
            last.append(float(g.loc[g["step"].idxmax(), "value"]))
            best.append(float(g["value"].max()))
        at_last = [seed_flags("recall", a, chance, False, n_eval) for a in last]
        at_best = [seed_flags("recall", a, chance, False, n_eval) for a in best]
        n = len(last)

        def count(flags, what):
            return share(sum(1 for f in flags if f[what]), n, level)
        out[m] = {"steps": steps, "n": n, "mean_last": sum(last) / n if n else math.nan,
                  "mean_best": sum(best) / n if n else math.nan,
                  "solved_last": count(at_last, "solved"), "solved_best": count(at_best, "solved"),
                  "unsolved": count(at_best, "unsolved"), "above": count(at_best, "above"),
                  "partial": share(sum(1 for f in at_best if f["outcome"] == "partial"), n, level),
                  "at_chance": count(at_best, "at_chance"), "last": last, "best": best,
                  # in none of those three: an interval that touches the chance margin or the solving bar
                  "ambiguous": sum(1 for f in at_best if f["outcome"] == "ambiguous")}
    return out
