"""Finding C5: more training does not fix a plain RNN at long range.

One run of eight times a base budget, read at 1×, 2×, 4× and 8× (the held-out accuracy at that
step, and the best it reached so far: a run can learn and then lose it). Each seed is counted as
learned, ambiguous or failed by its best accuracy so far; "rescued" means learned: an ambiguous
seed is not rescued, and it is not a failure either. "Not rescued" is a failure statement, so it
counts only beside a positive control: the same model learning a short length ('recall_length').
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ...aggregate import eval_curves
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..tables import (
    BUDGET_MULTIPLES,
    CHANCE_MARGIN,
    MOST,
    budget_curve,
    config_at,
    config_outcomes,
    keyed,
    with_control,
)

SPEC = Spec(
    id="C5", kind="finding", title="More training does not rescue a plain RNN at long range",
    claim="More data or longer training does not fix a plain RNN.",
    criterion=("Experiment 'budget': the tanh RNN with PyTorch's default init at a long length, trained for eight times "
               "its base budget (the steps of 1×, printed with the results) and read at 1×, 2×, 4× and 8× it. A seed is rescued when it has learned by then: the "
               f"95% interval of the best held-out accuracy it reached lies above chance + {CHANCE_MARGIN} (failed: below; "
               "ambiguous: neither, and not rescued). Core: at 8× most seeds are not rescued, i.e. the Wilson interval of "
               "the share of rescued seeds lies below one half; refuted when it lies above one half (most seeds learn with "
               "more training). Holding needs a positive control: the same model learns the shortest length of "
               "'recall_length' (most seeds) within its budget; without one the part is undetermined."),
    needs={"budget": ("rnn_tanh",), "recall_length": ("base",)})


@dataclass
class Numbers:
    length: int = 0
    standard: int = 0                 # the standard budget (steps): the run is 8 times it
    chance: float = math.nan
    margin: float = CHANCE_MARGIN
    seeds: int = 0
    curve: dict = field(default_factory=dict)      # multiple -> {steps, learned_best, ambiguous, failed, mean}
    control: dict = field(default_factory=dict)    # recall_length's shortest length: {length, steps, learned}
    others: dict = field(default_factory=dict)     # other variants, descriptive: label -> curve
    # Which way the seeds at 8x lean while the core part is undecided: "against" the claim (most rescued),
    # "towards" it (most not rescued, beside a control that learns) or "" (neither); the take-away says so.
    lean: str = ""
    none_failed: bool = False                      # no seed clearly failed by 8x


def decide(ctx: Context) -> Outcome:
    ctx.require(["budget"])
    curves = eval_curves(ctx.part("budget"), "budget")
    chance_rows = ctx.part("budget")
    chance_rows = chance_rows[chance_rows["metric"] == "chance"]["value"]
    if curves.empty or chance_rows.empty:
        raise Undecidable("no accuracy curves recorded in 'budget'", ["budget"])
    chance = float(chance_rows.iloc[0])
    budget = int(ctx.part("budget")["budget"].max())
    standard = budget // BUDGET_MULTIPLES[-1]
    numbers = Numbers(length=int(curves["length"].max()), standard=standard, chance=chance)
    main = curves[curves["variant"] == "rnn_tanh"]
    if main.empty:
        raise Undecidable("the default tanh RNN is not in 'budget'", ["budget"])
    numbers.curve = budget_curve(ctx, "budget", main, standard, chance)
    numbers.seeds = int(main["seed"].nunique())
    for variant, group in curves.groupby("variant"):
        if variant != "rnn_tanh":
            numbers.others[variant] = {"label": ctx.describe("budget", variant),
                                       "curve": budget_curve(ctx, "budget", group, standard, chance)}
    end = numbers.curve[BUDGET_MULTIPLES[-1]]
    rescued = end["learned_best"]
    reads = [config_at(ctx, "budget", "rnn_tanh")]
    control = None
    if ctx.has("recall_length") and len(ctx.seeds("recall_length")) >= 2:
        table = [o for _, o in sorted(keyed({c: o for c, o in config_outcomes(ctx, "recall_length").items()
                                             if c.variant == "base"}, "length").items())]
        if table:
            control = table[0]
            reads += list(with_control(control))
            numbers.control = {"length": control.config.length, "learned": control.learned,
                               "steps": int(ctx.part("recall_length")["budget"].max())}
    few = None if rescued.n < 2 or not rescued.known else (True if rescued.hi < MOST else False if rescued.lo > MOST else None)
    numbers.none_failed = end["failed"].n > 0 and end["failed"].k == 0
    if 2 * rescued.k > rescued.n:
        numbers.lean = "against"
    elif 2 * rescued.k < rescued.n and control is not None and control.learns is True:
        numbers.lean = "towards"
    state = False if few is False else (True if few and control is not None and control.learns is True else None)
    part = Part("never", f"with {BUDGET_MULTIPLES[-1]}× the budget ({end['steps']} steps) most seeds are still not rescued "
                "(have not learned)", state, reads=tuple(reads), core=True,
                detail=f"by {end['steps']} steps {of(rescued)} seeds learned, {of(end['ambiguous'])} ambiguous, "
                       f"{of(end['failed'])} failed ({of(numbers.curve[1]['learned_best'])} learned within {standard})"
                       + (f"; control: {of(control.learned)} seeds learn length {control.config.length}" if control else
                          "; no positive control in this build"))
    parts = [part]
    if control is not None:
        parts.append(Part("control", f"the same model learns length {control.config.length} within "
                          f"{numbers.control['steps']} steps (the positive control)", control.learns, core=False,
                          reads=(control.config,), detail=f"{of(control.learned)} seeds learn"))
    headline = (f"{of(end['learned_best'])} seeds of the tanh RNN learn length {numbers.length} within {end['steps']} "
                f"steps ({of(numbers.curve[1]['learned_best'])} within {standard})")
    return Outcome(parts, numbers, headline, part.detail, [e for e in SPEC.needs if ctx.has(e)], data=curves)


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n, curves = outcome.numbers, outcome.data
    series = []
    slots = ctx.slots("budget", list(curves["variant"].unique()))
    for variant, group in curves.groupby("variant", sort=False):
        wide = group.pivot_table(index="step", columns="seed", values="value", aggfunc="first")
        series.append({"label": ctx.describe("budget", variant), "slot": slots[variant],
                       "x": wide.index.to_numpy(float), "mean": wide.mean(axis=1).to_numpy(),
                       "lo": wide.min(axis=1).to_numpy(), "hi": wide.max(axis=1).to_numpy()})
    marks = [{"x": m * n.standard, "label": f"{m}×"} for m in BUDGET_MULTIPLES[:-1]]
    return ctx.figure(
        "budget", lambda: figures.curves(series, chance=n.chance, xlabel="training step", ylabel="held-out accuracy",
                                         marks=marks),
        f"Held-out recall accuracy during training at length {n.length}, up to {BUDGET_MULTIPLES[-1] * n.standard} steps "
        f"({BUDGET_MULTIPLES[-1]} × {n.standard}) (mean over seeds; band: range over seeds). Dotted vertical lines: 1×, 2× and 4× "
        "the budget; dotted horizontal line: chance.",
        "Accuracy against training step. " + "; ".join(
            f"{m}×: {of(c['learned_best'])} seeds had learned, mean accuracy {num(c['mean_last'], 2)}"
            for m, c in n.curve.items()) + ".")
