"""Finding C3: early inputs stop influencing learning; a plain RNN is biased to recent inputs.

Two clauses, each measured so that length alone cannot confound it: (a) influence: after training,
changing the cue (the first token) changes few answers in most tanh RNN seeds, while most seeds of a
reference model at the same length and budget follow it (the positive control); each seed is
classified by the Wilson interval of its own share of changed answers, so bimodal seeds are counted,
never averaged; (b) recency: at one fixed sequence length, recalling the token a few steps back is
solved while the token far back stays at chance (the near token, above chance, is the far one's
control). The gradient ratio at the cue is context: it can be vanishingly small in a seed whose answers still
follow the cue, so it is no measure of the cue's influence.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ... import figures
from ...aggregate import lag_profiles
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import LEVEL, below, share, t_interval, wilson
from ..tables import (
    CHANCE_MARGIN,
    SOLVED,
    at_chance_given,
    budget_of,
    config_at,
    config_outcome,
    config_outcomes,
    keyed,
    most,
    one_config,
    profile_series,
    solves_state,
    with_control,
)

RATIO_LOG10 = -1.0  # "far less sensitive": the cue counts at least ten times less than the last input
INFLUENCE = 0.25    # a seed ignores the cue when changing it changes under a quarter of its answers
FOLLOWS = 0.5       # a seed follows the cue when changing it changes over half of its answers
CONTROLS = ("lstm_chrono", "transformer")  # reference models at the same length and budget

SPEC = Spec(
    id="C3", kind="finding", title="After training, early inputs no longer influence a plain RNN: it is biased towards recent inputs",
    claim="Early inputs stop influencing learning: the model is biased to recent inputs.",
    criterion=("(a) Influence: after training at the longest length of 'architecture', the cue is replaced by another "
               "class; a seed ignores it when the Wilson interval of its share of changed answers lies below "
               f"{INFLUENCE}, follows it when above {FOLLOWS}. Holds when most tanh RNN seeds ignore it and most seeds of "
               "a reference (the chrono LSTM or the transformer, same length and budget) follow it; refuted when most "
               "tanh RNN seeds do not ignore it. (b) Recency, in 'recall_lag' (one length, the token a given number of "
               "steps back): most seeds solve the shortest lag (refuted when most do not), and most stay at chance at "
               "the longest (refuted when most do not; only beside the shortest lag above chance, its control). "
               "Three core parts; clauses: influence, recency. Context: the trained tanh RNN's sensitivity to the cue is "
               "ten times below that to the last input (interval of log10(cue/last) below −1)."),
    needs={"architecture": ("rnn_tanh",), "recall_lag": ()},
    clauses={"influence": "after training, early inputs no longer influence the answer",
             "recency": "the trained model is biased to recent inputs"},
    question='Is a plain RNN biased towards recent inputs?',
    found={
        'influence': {
            'holds': "after training, early inputs no longer moved the plain RNN's answer",
            'refuted': "after training, early inputs still moved the plain RNN's answer",
            'untested': "the influence of early inputs after training was not decided",
        },
        'recency': {
            'holds': 'within the training budget the default tanh RNN recalled the nearest token tested, not the farthest',
            'refuted': 'the trained default tanh RNN showed no bias towards recent inputs',
            'untested': "the default tanh RNN's bias towards recent inputs was not decided",
        },
    })


@dataclass
class Numbers:
    sensitivity_length: int = 0
    log10_ratio: object = None            # Interval of log10(cue/last) for the tanh RNN
    ratio_by_model: dict = field(default_factory=dict)
    lag_length: int = 0
    by_lag: dict = field(default_factory=dict)   # lag -> {acc Interval, solved, above, at_chance Shares, seeds}
    short_lag: int = 0
    long_lag: int = 0
    chance: float = math.nan
    margin: float = CHANCE_MARGIN
    steps: int = 0                                  # architecture's budget
    lag_steps: int = 0                              # recall_lag's budget
    influence_max: float = INFLUENCE
    follows_min: float = FOLLOWS
    solved_bar: float = SOLVED
    # variant -> {label, share Interval (mean share of changed answers, descriptive), ignores Share, follows Share}
    influence: dict = field(default_factory=dict)
    control: str = ""                               # the reference model's label whose seeds follow the cue
    first_token: dict = field(default_factory=dict)  # variant -> {label, solved Share, solves, length}: 'architecture'
    # the trained tanh RNN seed that follows the cue (influence >= FOLLOWS) with the smallest sensitivity ratio:
    # {seed, influence, log10} (the size of a gradient is not the cue's influence); None when no seed follows it
    follower: dict | None = None
    ratio_by_seed: dict = field(default_factory=dict)      # seed -> log10(cue/last), the trained tanh RNN
    influence_by_seed: dict = field(default_factory=dict)  # seed -> share of its answers the cue changes


def lag_of(ctx: Context, experiment: str, variant: str, length: int) -> int:
    """The recall lag of a variant: from the battery, else from its name ('lag_5'), else the first token."""
    exp = ctx.experiments.get(experiment)
    if exp is not None:
        for cell in exp.cells():
            if cell.variant == variant:
                return cell.task.lag if cell.task.lag is not None else cell.task.length - 1
    match = re.fullmatch(r"lag_(\d+)", variant)
    return int(match.group(1)) if match else length - 1


def _sensitivity(ctx: Context, numbers: Numbers) -> Part | None:
    sens = lag_profiles(ctx.part("architecture"), "architecture", "sensitivity_input", "trained")
    if sens.empty:
        return None
    longest = int(sens["length"].max())
    sens = sens[sens["length"] == longest]
    numbers.sensitivity_length = longest
    for variant, group in sens.groupby("variant"):
        one_config(group, f"the sensitivity of {variant}")
        per_seed = []
        for seed, g in group.groupby("seed"):
            first = g.loc[g["time_lag"] == g["time_lag"].max(), "value"].iloc[0]
            last = g.loc[g["time_lag"] == 0, "value"]
            if len(last) and first > 0 and last.iloc[0] > 0:
                per_seed.append(math.log10(first / last.iloc[0]))
                if variant == "rnn_tanh":
                    numbers.ratio_by_seed[int(seed)] = per_seed[-1]
        numbers.ratio_by_model[variant] = {"label": ctx.describe("architecture", variant),
                                           "log10": t_interval(per_seed, ctx.level_for("architecture"))}
    rnn = numbers.ratio_by_model.get("rnn_tanh")
    if rnn is None:
        return None
    numbers.log10_ratio = rnn["log10"]
    return Part("sensitivity", "after training, the tanh RNN's output is ≥ 10× less sensitive to the cue than to the "
                "last input", below(rnn["log10"], RATIO_LOG10), core=False,
                reads=(config_at(ctx, "architecture", "rnn_tanh", longest),),
                detail=f"log10(cue/last) = {num(rnn['log10'].mean, 2)} [{num(rnn['log10'].lo, 2)}, "
                       f"{num(rnn['log10'].hi, 2)}] at length {longest}")


def _follower(numbers: Numbers) -> dict | None:
    """The seed that follows the cue (its answers change in at least FOLLOWS of sequences when the cue is
    swapped) while its output is least sensitive to the cue: a measured case of influence without gradient."""
    seeds = [s for s, v in numbers.influence_by_seed.items() if v >= FOLLOWS and s in numbers.ratio_by_seed]
    if not seeds:
        return None
    seed = min(seeds, key=lambda s: numbers.ratio_by_seed[s])
    return {"seed": seed, "influence": numbers.influence_by_seed[seed], "log10": numbers.ratio_by_seed[seed]}


def _influence(ctx: Context, numbers: Numbers) -> Part | None:
    rows = ctx.part("architecture")
    rows = rows[(rows["metric"] == "cue_influence") & (rows["stage"] == "trained")]
    if rows.empty:
        return None
    longest = int(rows["length"].max())
    rows = rows[rows["length"] == longest]
    level, n_eval = ctx.level_for("architecture"), ctx.eval_size("architecture")
    for variant, group in rows.groupby("variant"):
        one_config(group, f"the cue's influence on {variant}")
        if variant == "rnn_tanh":
            numbers.influence_by_seed = {int(k): float(v) for k, v in zip(group["seed"], group["value"])}
        seeds = [wilson(min(max(int(round(v * n_eval)), 0), n_eval), n_eval, LEVEL) for v in group["value"]]
        n = len(seeds)
        numbers.influence[variant] = {"label": ctx.describe("architecture", variant),
                                      "share": t_interval(group["value"], level),
                                      "ignores": share(sum(hi < INFLUENCE for _, hi in seeds), n, level),
                                      "follows": share(sum(lo > FOLLOWS for lo, _ in seeds), n, level)}
    rnn = numbers.influence.get("rnn_tanh")
    if rnn is None:
        return None
    numbers.steps = budget_of(ctx, "architecture")
    controls = [v for v in CONTROLS if v in numbers.influence and most(numbers.influence[v]["follows"]) is True]
    numbers.control = numbers.influence[controls[0]]["label"] if controls else ""
    ignores = most(rnn["ignores"])
    state = False if ignores is False else (True if ignores and controls else None)
    reads = tuple(config_at(ctx, "architecture", v, longest) for v in ("rnn_tanh",) + CONTROLS
                  if v in numbers.influence)
    return Part("influence", f"after {numbers.steps} steps at length {longest}, most tanh RNN seeds ignore the cue "
                f"(changing it changes under {INFLUENCE:.0%} of their answers), while most seeds of a reference model "
                "follow it", state, reads=reads, core=True, clause="influence", evidence=rnn["ignores"],
                detail=f"{of(rnn['ignores'])} tanh RNN seeds ignore the cue (mean share of answers changed "
                       f"{num(rnn['share'].mean, 2)}); " + "; ".join(
                           f"{d['label']}: {of(d['follows'])} seeds follow it" for v, d in numbers.influence.items()
                           if v in CONTROLS))


def decide(ctx: Context) -> Outcome:
    needed = [e for e in SPEC.needs if ctx.has(e)]
    if not needed:
        raise Undecidable("neither 'architecture' nor 'recall_lag' is in this build", list(SPEC.needs))
    numbers = Numbers()
    parts = []
    if ctx.has("architecture") and len(ctx.seeds("architecture")) >= 2:
        parts += [p for p in (_influence(ctx, numbers), _sensitivity(ctx, numbers)) if p is not None]
        numbers.follower = _follower(numbers)
        for v in ("rnn_tanh", "lstm_chrono"):  # the first token (the largest lag) at the longest length: for the text
            o = config_outcome(ctx, "architecture", v)
            if o is not None:
                numbers.first_token[v] = {"label": o.label, "solved": o.solved, "above": o.above, "solves": o.solves,
                                          "length": o.config.length}
    if ctx.has("recall_lag") and len(ctx.seeds("recall_lag")) >= 2:
        table = config_outcomes(ctx, "recall_lag")
        by_lag = keyed({c: o for c, o in table.items()}, "variant", "length")
        by_lag = {lag_of(ctx, "recall_lag", v, length): o for (v, length), o in by_lag.items()}
        if len(by_lag) >= 2:
            short, long_ = min(by_lag), max(by_lag)
            numbers.lag_length = next(iter(table)).length
            numbers.short_lag, numbers.long_lag = short, long_
            numbers.chance = by_lag[short].chance
            numbers.by_lag = {lag: {"acc": o.score, "solved": o.solved, "above": o.above, "at_chance": o.at_chance,
                                    "seeds": o.n} for lag, o in sorted(by_lag.items())}
            s, l_ = by_lag[short], by_lag[long_]
            steps = numbers.lag_steps = budget_of(ctx, "recall_lag")
            solves = solves_state(s)
            parts.append(Part("short_lag", f"most seeds solve recalling the token {short} steps back within {steps} "
                              "steps", solves, reads=(s.config,), core=True, clause="recency", evidence=s.solved,
                              detail=f"{of(s.solved)} seeds solve at lag {short}"))
            parts.append(Part("long_lag", f"most seeds stay at chance recalling the token {long_} steps back within "
                              f"{steps} steps", at_chance_given(l_, s), reads=with_control(s, l_.config, need="above_chance"),
                              core=True, clause="recency", evidence=l_.at_chance,
                              detail=f"{of(l_.at_chance)} seeds at chance at lag {long_}; {of(s.above)} above chance at "
                                     f"lag {short}"))
    if not parts:
        raise Undecidable("fewer than 2 seeds in the experiments this finding reads", needed)
    bits = []
    if numbers.by_lag:
        s, l_ = numbers.by_lag[numbers.short_lag], numbers.by_lag[numbers.long_lag]
        bits.append(f"at length {numbers.lag_length}, {of(s['solved'])} seeds solve recalling the token "
                    f"{numbers.short_lag} steps back and {of(l_['solved'])} the token {numbers.long_lag} steps back")
    if "rnn_tanh" in numbers.influence:
        bits.append(f"after training {of(numbers.influence['rnn_tanh']['ignores'])} seeds ignore the cue")
    if numbers.log10_ratio is not None:
        bits.append(f"after training the cue moves the output 10^{num(numbers.log10_ratio.mean, 2)} as much as the "
                    "last input")
    headline = "The tanh RNN: " + "; ".join(bits)
    return Outcome(parts, numbers, headline, "; ".join(p.detail for p in parts), needed)


def _lag_trend(by_lag: dict) -> str:
    """The figure's point in one sentence, from the records: the mean accuracy nearest and farthest back."""
    (k0, d0), (k1, d1) = next(iter(by_lag.items())), list(by_lag.items())[-1]
    return (f"the mean accuracy is {num(d0['acc'].mean, 2)} for the token {k0} steps back and "
            f"{num(d1['acc'].mean, 2)} for the one {k1} steps back.")


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    out = []
    if n.by_lag:
        series = [{"label": ctx.describe("recall_lag", next(iter(config_outcomes(ctx, "recall_lag"))).variant),
                   "slot": 0, "x": [float(k) for k in n.by_lag], "mean": [d["acc"].mean for d in n.by_lag.values()],
                   "lo": [d["acc"].lo for d in n.by_lag.values()], "hi": [d["acc"].hi for d in n.by_lag.values()]}]
        out += ctx.figure(
            "lags", lambda: figures.score_vs_x(series, chance=n.chance, xlabel="steps back to the token to recall",
                                               ylabel="recall accuracy", logx=True),
            f"Recall accuracy at one sequence length ({n.lag_length}) against how many steps back the token to recall "
            "lies: mean over seeds with its interval; dotted: chance. What to see: " + _lag_trend(n.by_lag),
            "Recall accuracy against lag: " + "; ".join(f"{num(d['acc'].mean, 2)} at {k} steps"
                                                       for k, d in n.by_lag.items()) + ".")
    if n.ratio_by_model:
        variants = [v for v in ("rnn_tanh", "lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru", "transformer")
                    if v in n.ratio_by_model]
        series = profile_series(ctx, "architecture", variants, n.sensitivity_length, "sensitivity_input", "trained")
        out += ctx.figure(
            "sensitivity", lambda: figures.gradient_vs_lag(series, [], ylabel="‖∂y/∂x_k‖ / ‖∂y/∂x_T‖",
                                                           xlabel="lag of the input (steps before the output)"),
            f"After training at length {n.sensitivity_length}: sensitivity of the output to the input at each lag, "
            "relative to the last input (geometric mean over seeds; band: range over seeds). The cue sits at the "
            "largest lag.",
            "Log-scale sensitivity against input lag after training. Cue-to-last ratios: " + "; ".join(
                f"{r['label']}: 10^{num(r['log10'].mean, 2)}" for r in n.ratio_by_model.values() if r["log10"].n) + ".")
    return out
