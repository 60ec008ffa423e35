"""Finding C4: a plain RNN learns short dependencies but not long ones, on three tasks.

First-token recall and the adding problem (Le et al.'s variant: U[0,1] values, target their sum),
each at a short and a long distance between cue and answer, with the same budget at both. The
short length is the long one's positive control: "fails at the long length" counts only where the
short one is learned within the same steps, and it is a fact about those steps (C5 trains longer
and shows what more steps do). The copy task stays in the literature comparison: at the standard
budget even its short delay is not learned, so it cannot serve as its own control.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import figures
from ...aggregate import eval_curves
from ...tasks import ADDING_BASELINE_MSE
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..tables import (
    ADDING_FAILED,
    ADDING_LEARNED,
    BUDGET_MULTIPLES,
    CHANCE_MARGIN,
    MOST,
    budget_curve,
    budget_of,
    config_at,
    config_outcome,
    config_outcomes,
    fails_given,
    keyed,
    with_control,
)

TASKS = (("recall_length", "base", "first-token recall"), ("adding_length", "rnn_tanh", "the adding problem"))

SPEC = Spec(
    id="C4", kind="finding", title="Within the training budget, the default tanh RNN learns short dependencies, not the longest tested",
    claim="Within a fixed training budget, a plain RNN learns short dependencies but not long ones.",
    criterion=("For the tanh RNN on each task ('recall_length', 'adding_length'), with the same training steps at every "
               "length: at the shortest length most seeds learn, and at the longest most seeds fail (the Wilson interval "
               "of the share of seeds lies above one half; refuted when it lies below). The long length's failure holds "
               "only where the short length is learned (its positive control); otherwise it is undetermined, limited by "
               "the budget. A seed learns when its held-out accuracy's 95% interval lies above "
               f"chance + {CHANCE_MARGIN} (recall), or its MSE lies below {ADDING_LEARNED} × the predict-1 baseline 1/6 "
               f"(adding); it fails below chance + {CHANCE_MARGIN}, or above {ADDING_FAILED} × 1/6. Every part is core; "
               "context: with the longer budget of 'budget' (C5) at its long length, most seeds still fail (the same control)."),
    needs={"recall_length": ("base",), "adding_length": ("rnn_tanh",)})


@dataclass
class Numbers:
    tasks: dict = field(default_factory=dict)   # experiment -> {label, task, chance, by_length, short, long, steps}
    more: dict = field(default_factory=dict)    # C5's curve at its length: {length, points: [{steps, learned}]}
    elsewhere: dict = field(default_factory=dict)  # the tanh RNN on recall in 'architecture': {length, learned}
    baseline: float = ADDING_BASELINE_MSE
    margin: float = CHANCE_MARGIN


def decide(ctx: Context) -> Outcome:
    present = [e for e, _, _ in TASKS if ctx.has(e) and len(ctx.seeds(e)) >= 2]
    if not present:
        raise Undecidable("none of 'recall_length', 'adding_length', 'copy' ran with at least 2 seeds", list(SPEC.needs))
    numbers, parts = Numbers(), []
    for experiment, variant, words in TASKS:
        if experiment not in present:
            continue
        by_length = keyed({c: o for c, o in config_outcomes(ctx, experiment).items() if c.variant == variant}, "length")
        table = [o for _, o in sorted(by_length.items())]
        if len(table) < 2:
            continue
        short, long_ = table[0], table[-1]
        steps = budget_of(ctx, experiment)
        numbers.tasks[experiment] = {
            "words": words, "label": short.label, "task": short.task, "chance": short.chance,
            "short": short.config.length, "long": long_.config.length, "steps": steps,
            "by_length": {o.config.length: {"score": o.score, "learned": o.learned, "failed": o.failed} for o in table}}
        parts.append(Part(f"{experiment}_short", f"{words}: most seeds learn length {short.config.length} within {steps} "
                          "steps", short.learns, reads=(short.config,), core=True,
                          detail=f"{of(short.learned)} seeds learn"))
        parts.append(Part(f"{experiment}_long", f"{words}: most seeds fail at length {long_.config.length} within {steps} "
                          "steps", fails_given(long_, short), reads=with_control(short, long_.config), core=True,
                          detail=f"{of(long_.failed)} seeds fail; {of(short.learned)} learn the short length"))
    if not parts:
        raise Undecidable("no task ran at two lengths", present)
    if ctx.has("architecture"):  # the same model and task at another length: quoted by an answer
        o = config_outcome(ctx, "architecture", "rnn_tanh")
        if o is not None:
            numbers.elsewhere = {"length": o.config.length, "learned": o.learned}
    if ctx.has("budget"):
        numbers.more = _more_steps(ctx)
        recall = numbers.tasks.get("recall_length")
        if numbers.more and recall is not None:
            end = numbers.more["points"][-1]
            short = config_outcome(ctx, "recall_length", "base", recall["short"])
            failed = end["failed"]
            most = None if failed.n < 2 or not failed.known else (
                True if failed.lo > MOST else False if failed.hi < MOST else None)
            state = False if most is False else (True if most and short.learns is True else None)
            parts.append(Part("more_steps", f"first-token recall at length {numbers.more['length']}: with "
                              f"{end['steps']} steps ('budget', C5) most seeds still fail", state, core=False,
                              reads=with_control(short, config_at(ctx, "budget", "rnn_tanh", numbers.more["length"])),
                              detail=f"{of(end['learned'])} seeds had learned by {end['steps']} steps, {of(failed)} failed"))
    bits = [f"{t['words']}: {of(t['by_length'][t['short']]['learned'])} seeds learn at length {t['short']}, "
            f"{of(t['by_length'][t['long']]['learned'])} at {t['long']} within {t['steps']} steps"
            for t in numbers.tasks.values()]
    headline = "The tanh RNN — " + "; ".join(bits)
    return Outcome(parts, numbers, headline, "; ".join(f"{p.question}: {p.detail}" for p in parts), present)


def _more_steps(ctx: Context) -> dict:
    """C5's budget curve, quoted as the evidence of what more steps do (its own finding decides on it)."""
    curves = eval_curves(ctx.part("budget"), "budget")
    chance = ctx.part("budget")
    chance = chance[chance["metric"] == "chance"]["value"]
    main = curves[curves["variant"] == "rnn_tanh"] if len(curves) else curves
    if main.empty or chance.empty:
        return {}
    standard = int(ctx.part("budget")["budget"].max()) // BUDGET_MULTIPLES[-1]
    curve = budget_curve(ctx, "budget", main, standard, float(chance.iloc[0]))
    return {"length": int(main["length"].max()),
            "points": [{"steps": c["steps"], "learned": c["learned_best"], "failed": c["failed"],
                        "ambiguous": c["ambiguous"]} for c in curve.values()]}


def figures_of(ctx: Context, outcome: Outcome) -> list:
    out = []
    for experiment, t in outcome.numbers.tasks.items():
        table = config_outcomes(ctx, experiment)
        slots = ctx.slots(experiment, list(dict.fromkeys(c.variant for c in table)))
        series = []
        for v in sorted(slots, key=slots.get):
            rows = [o for _, o in sorted(keyed({c: o for c, o in table.items() if c.variant == v}, "length").items())]
            series.append({"label": rows[0].label, "slot": slots[v],
                           "x": [float(o.config.length) for o in rows], "mean": [o.score.mean for o in rows],
                           "lo": [o.score.lo for o in rows], "hi": [o.score.hi for o in rows]})
        adding = t["task"] == "adding"
        ylabel = "test MSE" if adding else ("accuracy on the copied symbols" if t["task"] == "copy" else "recall accuracy")
        out += ctx.figure(
            experiment, lambda series=series, t=t, adding=adding, ylabel=ylabel: figures.score_vs_x(
                series, chance=t["chance"], xlabel="sequence length T" if t["task"] != "copy" else "delay T",
                ylabel=ylabel, logx=True, chance_label="predict-1 baseline MSE 1/6" if adding else "chance 1/K",
                lower_is_better=adding),
            f"{t['words'].capitalize()}: final score against length (mean over seeds with its interval); dotted: "
            + ("the predict-1 baseline 1/6." if adding else "chance."),
            f"{t['words'].capitalize()}, score against length: " + "; ".join(
                f"{s['label']} {num(s['mean'][0], 2)} at {int(s['x'][0])} and {num(s['mean'][-1], 2)} at {int(s['x'][-1])}"
                for s in series) + ".")
    return out
