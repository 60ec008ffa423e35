"""Finding C5: more training does not fix a plain RNN at long range.

One run of eight times a base budget, read at 1×, 2×, 4× and 8× (the held-out accuracy at that
step, and the best it reached so far: a run can solve and then lose it). "Rescued" means solved: a
seed's best accuracy so far has its 95% interval above the solving bar (tables.SOLVED). "Not rescued"
means unsolved (that interval below the bar): a seed that rose above chance without solving is not
rescued, and the section counts those apart. "Most seeds are not rescued" is a failure statement,
so it counts only beside a positive control: the same model solving a short length ('recall_length').
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
    SOLVED,
    budget_curve,
    config_at,
    config_outcomes,
    keyed,
    most,
    with_control,
)

SPEC = Spec(
    id="C5", kind="finding", title="Within the budgets tested, more training does not make the default tanh RNN solve the long dependency tested",
    claim="Within the budgets tested, more training (more steps, each on fresh data) does not fix the default tanh RNN at a long length.",
    criterion=("Experiment 'budget': the tanh RNN with PyTorch's default init at a long length, trained for eight times "
               "its base budget and read at 1×, 2×, 4× and 8× it. A seed is rescued when the 95% interval of the best "
               f"held-out accuracy it reached lies above {SOLVED} (solved), not rescued when it lies below (a seed above "
               "chance without solving is counted apart). Core: at 8× most seeds are not rescued (Wilson interval of the "
               "share above one half); refuted when that share lies below one half. Holding needs a positive control: "
               "the same model solves the shortest length of 'recall_length' in most seeds; without one the part is "
               "undetermined."),
    needs={"budget": ("rnn_tanh",), "recall_length": ("base",)},
    clauses={"budget": "more training does not fix the plain RNN at long range"},
    question='Does more training rescue a plain RNN at long range?',
    found={
        'budget': {
            'holds': 'within the budgets tested, more training did not make the default tanh RNN solve the long dependency tested',
            'refuted': 'with more training, most seeds of the default tanh RNN solved the long range',
            'untested': 'whether more training rescues it was not decided',
        },
    })


@dataclass
class Numbers:
    length: int = 0
    standard: int = 0                 # the standard budget (steps): the run is 8 times it
    chance: float = math.nan
    margin: float = CHANCE_MARGIN
    solved_bar: float = SOLVED
    seeds: int = 0
    # multiple -> {steps, solved_best, solved_last, unsolved, above, partial, at_chance, mean_last, ...}
    curve: dict = field(default_factory=dict)
    control: dict = field(default_factory=dict)    # recall_length's shortest length: {length, steps, solved}
    others: dict = field(default_factory=dict)     # other variants, descriptive: label -> curve
    # Which way the seeds at 8x lean while the core part is undecided: "against" the claim (most rescued),
    # "towards" it (most not rescued, beside a control that solves) or "" (neither); the take-away says so.
    lean: str = ""


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
    rescued, unrescued = end["solved_best"], end["unsolved"]
    reads = [config_at(ctx, "budget", "rnn_tanh")]
    control = None
    if ctx.has("recall_length") and len(ctx.seeds("recall_length")) >= 2:
        table = [o for _, o in sorted(keyed({c: o for c, o in config_outcomes(ctx, "recall_length").items()
                                             if c.variant == "base"}, "length").items())]
        if table:
            control = table[0]
            reads += list(with_control(control))
            numbers.control = {"length": control.config.length, "solved": control.solved,
                               "steps": int(ctx.part("recall_length")["budget"].max())}
    few = most(unrescued)
    if 2 * rescued.k > rescued.n:
        numbers.lean = "against"
    elif 2 * unrescued.k > unrescued.n and control is not None and control.solves is True:
        numbers.lean = "towards"
    state = False if few is False else (True if few and control is not None and control.solves is True else None)
    part = Part("never", f"with {BUDGET_MULTIPLES[-1]}× the budget ({end['steps']} steps) most seeds are still not rescued "
                "(have not solved the task)", state, reads=tuple(reads), core=True, clause="budget", evidence=unrescued,
                detail=f"by {end['steps']} steps {of(rescued)} seeds solved, {of(end['partial'])} rose above chance "
                       f"without solving, {of(end['at_chance'])} stayed at chance ({of(numbers.curve[1]['solved_best'])} "
                       f"solved within {standard})"
                       + (f"; control: {of(control.solved)} seeds solve length {control.config.length}" if control else
                          "; no positive control in this build"))
    parts = [part]
    if control is not None:
        parts.append(Part("control", f"the same model solves length {control.config.length} within "
                          f"{numbers.control['steps']} steps (the positive control)", control.solves, core=False,
                          reads=(control.config,), detail=f"{of(control.solved)} seeds solve"))
    headline = (f"{of(end['solved_best'])} seeds of the tanh RNN solve length {numbers.length} within {end['steps']} "
                f"steps ({of(numbers.curve[1]['solved_best'])} within {standard}); {of(end['partial'])} rise above chance "
                "without solving")
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
            f"{m}×: {of(c['solved_best'])} seeds had solved, mean accuracy {num(c['mean_last'], 2)}"
            for m, c in n.curve.items()) + ".")
