"""Finding C4: a plain RNN solves short dependencies, and stays at chance on long ones.

First-token recall and the adding problem (Le et al.'s variant: U[0,1] values, target their sum),
each at a short and a long distance between cue and answer, with the same budget at both. Two
clauses: short dependencies are solved; long ones stay at chance. The short length is the long
one's positive control: "stays at chance at the long length" counts only where the short one rises
above chance within the same steps, and it is a fact about those steps (C5 trains longer and shows
what more steps do). The copy task stays in the literature comparison: at the standard budget even
its short delay is not learned, so it cannot serve as its own control.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import figures
from ...aggregate import eval_curves
from ...tasks import ADDING_BASELINE_MSE
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..tables import (
    ADDING_CHANCE,
    ADDING_SOLVED,
    BUDGET_MULTIPLES,
    CHANCE_MARGIN,
    SOLVED,
    at_chance_given,
    budget_curve,
    budget_of,
    config_at,
    config_outcome,
    config_outcomes,
    keyed,
    most,
    solves_state,
    with_control,
)

TASKS = (("recall_length", "base", "first-token recall"), ("adding_length", "rnn_tanh", "the adding problem"))

SPEC = Spec(
    id="C4", kind="finding", title="Within the training budget, the default tanh RNN solves short recall and adding dependencies, not the longest tested",
    claim="Within a fixed training budget, the default tanh RNN solves short dependencies but stays at chance on long ones.",
    criterion=("The tanh RNN on each task ('recall_length', 'adding_length'), the same steps at every length: at the "
               "shortest length most seeds solve the task, and at the longest most stay at chance (Wilson interval of "
               "the share against one half; refuted on the other side). Staying at chance counts only where the short "
               "length rises above chance in most seeds (its positive control); else it is undetermined, limited by the "
               f"budget. The adding problem is solved below an MSE of {ADDING_SOLVED} × the predict-1 baseline 1/6 and at "
               f"chance above {ADDING_CHANCE} × 1/6. Four core parts; clauses: short dependencies are solved, long ones "
               "stay at chance. Context: with the longer budget of 'budget' (C5), most seeds still do not solve it."),
    needs={"recall_length": ("base",), "adding_length": ("rnn_tanh",)},
    clauses={"short": "short dependencies are solved", "long": "long dependencies stay at chance"},
    question='Within the training budget, does the default tanh RNN solve short recall and adding dependencies but not the longest tested?',
    found={
        'short': {
            'holds': 'within the training budget the default tanh RNN solved short recall and adding dependencies',
            'refuted': 'within the training budget the default tanh RNN did not solve even short recall and adding dependencies',
            'untested': 'whether it solves short dependencies was not decided',
        },
        'long': {
            'holds': 'it stayed at chance on the longest tested',
            'refuted': 'it rose above chance on the longest tested',
            'untested': 'whether it stays at chance on the longest was not decided',
        },
    })


@dataclass
class Numbers:
    tasks: dict = field(default_factory=dict)   # experiment -> {label, task, chance, by_length, short, long, steps}
    more: dict = field(default_factory=dict)    # C5's curve at its length: {length, points: [{steps, solved, ...}]}
    elsewhere: dict = field(default_factory=dict)  # the tanh RNN on recall in 'architecture': {length, solved}
    baseline: float = ADDING_BASELINE_MSE
    margin: float = CHANCE_MARGIN
    solved_bar: float = SOLVED
    adding_solved: float = ADDING_SOLVED
    adding_chance: float = ADDING_CHANCE


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
            "by_length": {o.config.length: {"score": o.score, "solved": o.solved, "above": o.above,
                                            "at_chance": o.at_chance} for o in table}}
        solves = solves_state(short)
        parts.append(Part(f"{experiment}_short", f"{words}: most seeds solve length {short.config.length} within {steps} "
                          "steps", solves, reads=(short.config,), core=True, clause="short", evidence=short.solved,
                          detail=f"{of(short.solved)} seeds solve"))
        parts.append(Part(f"{experiment}_long", f"{words}: most seeds stay at chance at length {long_.config.length} "
                          f"within {steps} steps", at_chance_given(long_, short), core=True, clause="long",
                          reads=with_control(short, long_.config, need="above_chance"), evidence=long_.at_chance,
                          detail=f"{of(long_.at_chance)} seeds at chance; {of(short.above)} above chance at the short "
                                 "length"))
    if not parts:
        raise Undecidable("no task ran at two lengths", present)
    if ctx.has("architecture"):  # the same model and task at another length: quoted by an answer
        o = config_outcome(ctx, "architecture", "rnn_tanh")
        if o is not None:
            numbers.elsewhere = {"length": o.config.length, "solved": o.solved}
    if ctx.has("budget"):
        numbers.more = _more_steps(ctx)
        recall = numbers.tasks.get("recall_length")
        if numbers.more and recall is not None:
            end = numbers.more["points"][-1]
            short = config_outcome(ctx, "recall_length", "base", recall["short"])
            unsolved = most(end["unsolved"])
            state = False if unsolved is False else (True if unsolved and short.solves is True else None)
            parts.append(Part("more_steps", f"first-token recall at length {numbers.more['length']}: with "
                              f"{end['steps']} steps ('budget', C5) most seeds still do not solve it", state, core=False,
                              reads=with_control(short, config_at(ctx, "budget", "rnn_tanh", numbers.more["length"])),
                              detail=f"{of(end['solved'])} seeds had solved by {end['steps']} steps, "
                                     f"{of(end['unsolved'])} had not"))
    bits = [f"{t['words']}: {of(t['by_length'][t['short']]['solved'])} seeds solve length {t['short']}, "
            f"{of(t['by_length'][t['long']]['at_chance'])} stay at chance at {t['long']} within {t['steps']} steps"
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
            "points": [{"steps": c["steps"], "solved": c["solved_best"], "unsolved": c["unsolved"],
                        "partial": c["partial"]} for c in curve.values()]}


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
            + ("the predict-1 baseline 1/6." if adding else "chance.") + " What to see: " + "; ".join(
                f"{s['label']}'s mean {'MSE' if adding else 'accuracy'} is {num(s['mean'][0], 2)} at length "
                f"{int(s['x'][0])} and {num(s['mean'][-1], 2)} at length {int(s['x'][-1])}" for s in series) + ".",
            f"{t['words'].capitalize()}, score against length: " + "; ".join(
                f"{s['label']} {num(s['mean'][0], 2)} at {int(s['x'][0])} and {num(s['mean'][-1], 2)} at {int(s['x'][-1])}"
                for s in series) + ".")
    return out
