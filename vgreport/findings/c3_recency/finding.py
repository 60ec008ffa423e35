"""Finding C3: early inputs stop influencing learning; a plain RNN is biased to recent inputs.

Measurements that length alone cannot confound: (a) after training, changing the cue (the first
token) changes few of the tanh RNN's answers, while it changes most answers of a model that learned
the task at the same length and budget (the positive control): the cue's influence by intervention;
(b) at one fixed sequence length, recalling the token a few steps back is learned while recalling
the token far back is not (the near token is the far one's control). The gradient ratio at the cue
is context: it can be 1e-14 in a seed whose answers still follow the cue, so it is no measure of
the cue's influence.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ... import figures
from ...aggregate import lag_profiles
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import above, below, t_interval
from ..tables import (
    CHANCE_MARGIN,
    budget_of,
    config_at,
    config_outcome,
    config_outcomes,
    fails_given,
    keyed,
    one_config,
    profile_series,
    with_control,
)

RATIO_LOG10 = -1.0  # "far less sensitive": the cue counts at least ten times less than the last input
INFLUENCE = 0.25    # "few answers follow the cue": changing it changes under a quarter of the answers
CONTROLS = ("lstm_chrono", "transformer")  # reference models at the same length and budget

SPEC = Spec(
    id="C3", kind="finding", title="A plain RNN is biased towards recent inputs",
    claim="Early inputs stop influencing learning: the model is biased to recent inputs.",
    criterion=("(a) Influence (core): after training at the longest length of 'architecture', replacing the cue token by "
               "another class changes the answer in a share of held-out sequences whose t-interval across seeds lies "
               f"below {INFLUENCE} (refuted above it); it holds only where a reference model (the chrono LSTM or the "
               f"transformer, same length and budget) has its interval above {INFLUENCE}, else it is undetermined. (b) In "
               "'recall_lag' (one sequence length, the token to recall a given number of steps back), most seeds learn "
               "the shortest lag (core) and most seeds fail at the longest (core; holds only where the shortest lag is "
               "learned): the Wilson interval of the share of seeds that learn (fail) lies above one half; refuted when "
               f"it lies below. A seed learns when its held-out accuracy's 95% interval lies above chance + {CHANCE_MARGIN}, "
               "fails when it lies below. Context: the tanh RNN's sensitivity ‖∂y/∂x_k‖ to the cue is more than ten "
               "times smaller than to the last input (interval of log10(cue/last) below −1)."),
    needs={"architecture": ("rnn_tanh",), "recall_lag": ()})


@dataclass
class Numbers:
    sensitivity_length: int = 0
    log10_ratio: object = None            # Interval of log10(cue/last) for the tanh RNN
    ratio_by_model: dict = field(default_factory=dict)
    lag_length: int = 0
    by_lag: dict = field(default_factory=dict)   # lag -> {acc Interval, learned Share, failed Share}
    short_lag: int = 0
    long_lag: int = 0
    chance: float = math.nan
    margin: float = CHANCE_MARGIN
    steps: int = 0                                  # architecture's budget
    lag_steps: int = 0                              # recall_lag's budget
    influence_max: float = INFLUENCE
    influence: dict = field(default_factory=dict)   # variant -> {label, share Interval}: answers the cue changes
    control: str = ""                               # the reference model's label whose answers follow the cue
    first_token: dict = field(default_factory=dict)  # variant -> {label, learned Share, learns, length}: 'architecture'


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
        for _, g in group.groupby("seed"):
            first = g.loc[g["time_lag"] == g["time_lag"].max(), "value"].iloc[0]
            last = g.loc[g["time_lag"] == 0, "value"]
            if len(last) and first > 0 and last.iloc[0] > 0:
                per_seed.append(math.log10(first / last.iloc[0]))
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


def _influence(ctx: Context, numbers: Numbers) -> Part | None:
    rows = ctx.part("architecture")
    rows = rows[(rows["metric"] == "cue_influence") & (rows["stage"] == "trained")]
    if rows.empty:
        return None
    longest = int(rows["length"].max())
    rows = rows[rows["length"] == longest]
    level = ctx.level_for("architecture")
    for variant, group in rows.groupby("variant"):
        one_config(group, f"the cue's influence on {variant}")
        numbers.influence[variant] = {"label": ctx.describe("architecture", variant),
                                      "share": t_interval(group["value"], level)}
    rnn = numbers.influence.get("rnn_tanh")
    if rnn is None:
        return None
    numbers.steps = budget_of(ctx, "architecture")
    controls = [v for v in CONTROLS if v in numbers.influence and above(numbers.influence[v]["share"], INFLUENCE)]
    numbers.control = numbers.influence[controls[0]]["label"] if controls else ""
    few = below(rnn["share"], INFLUENCE)
    state = False if few is False else (True if few and controls else None)
    reads = tuple(config_at(ctx, "architecture", v, longest) for v in ("rnn_tanh",) + CONTROLS
                  if v in numbers.influence)
    share = rnn["share"]
    return Part("influence", f"after {numbers.steps} steps at length {longest}, changing the cue changes fewer than "
                f"{INFLUENCE:.0%} of the tanh RNN's answers, while a reference model's follow it", state, reads=reads,
                core=True, detail=f"the cue changes {num(share.mean, 2)} [{num(share.lo, 2)}, {num(share.hi, 2)}] of the "
                f"answers; " + "; ".join(f"{d['label']}: {num(d['share'].mean, 2)}" for v, d in numbers.influence.items()
                                         if v in CONTROLS))


def decide(ctx: Context) -> Outcome:
    needed = [e for e in SPEC.needs if ctx.has(e)]
    if not needed:
        raise Undecidable("neither 'architecture' nor 'recall_lag' is in this build", list(SPEC.needs))
    numbers = Numbers()
    parts = []
    if ctx.has("architecture") and len(ctx.seeds("architecture")) >= 2:
        parts += [p for p in (_influence(ctx, numbers), _sensitivity(ctx, numbers)) if p is not None]
        for v in ("rnn_tanh", "lstm_chrono"):  # the first token (the largest lag) at the longest length: for the text
            o = config_outcome(ctx, "architecture", v)
            if o is not None:
                numbers.first_token[v] = {"label": o.label, "learned": o.learned, "learns": o.learns,
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
            numbers.by_lag = {lag: {"acc": o.score, "learned": o.learned, "failed": o.failed, "seeds": o.n}
                              for lag, o in sorted(by_lag.items())}
            s, l_ = by_lag[short], by_lag[long_]
            steps = numbers.lag_steps = budget_of(ctx, "recall_lag")
            parts.append(Part("short_lag", f"most seeds learn to recall the token {short} steps back within {steps} steps",
                              s.learns, reads=(s.config,), core=True, detail=f"{of(s.learned)} seeds learn at lag {short}"))
            parts.append(Part("long_lag", f"most seeds fail to recall the token {long_} steps back within {steps} steps",
                              fails_given(l_, s), reads=with_control(s, l_.config), core=True,
                              detail=f"{of(l_.failed)} seeds fail at lag {long_}"))
    if not parts:
        raise Undecidable("fewer than 2 seeds in the experiments this finding reads", needed)
    bits = []
    if numbers.by_lag:
        s, l_ = numbers.by_lag[numbers.short_lag], numbers.by_lag[numbers.long_lag]
        bits.append(f"at length {numbers.lag_length}, {of(s['learned'])} seeds recall the token {numbers.short_lag} "
                    f"steps back and {of(l_['learned'])} the token {numbers.long_lag} steps back")
    if "rnn_tanh" in numbers.influence:
        bits.append(f"changing the cue changes {num(numbers.influence['rnn_tanh']['share'].mean, 2)} of its answers "
                    "after training")
    if numbers.log10_ratio is not None:
        bits.append(f"after training the cue moves the output 10^{num(numbers.log10_ratio.mean, 2)} as much as the "
                    "last input")
    headline = "The tanh RNN: " + "; ".join(bits)
    return Outcome(parts, numbers, headline, "; ".join(p.detail for p in parts), needed)


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
            "lies: mean over seeds with its interval; dotted: chance.",
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
