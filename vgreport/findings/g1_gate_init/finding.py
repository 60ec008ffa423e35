"""Finding G1: an LSTM's gate initialisation, not gating alone, decides whether it solves long
dependencies within the training budget — and the default LSTM's failure is not a matter of tuning.

Two clauses: the chrono-initialised LSTM solves the long length; the LSTM as PyTorch initialises it
stays at chance there. "Stays at chance" counts only beside its own short control (the default LSTM
at the shortest length, the same steps) rising above chance in most seeds, and the chrono LSTM
solving the long length: so the failure is the initialisation's at this length, not the task's or
the model's at any length. The takeaway names the initialisation that solved (chrono), not "a
forget-gate bias": forget-bias 1 is shown as context."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of, upper_first
from ..tables import (
    CHANCE_MARGIN,
    SOLVED,
    at_chance_given,
    budget_of,
    config_outcome,
    config_outcomes,
    keyed,
    rates,
    solves_given,
    solves_state,
    with_control,
)

TUNING = ("lr_low", "lr_high", "wide")

SPEC = Spec(
    id="G1", kind="finding", title="Within the training budget, gate initialisation decides if an LSTM solves the long dependency tested",
    claim=("Within the training budget, an LSTM's gate initialisation, not gating alone, decides whether it solves the long "
           "dependency tested."),
    criterion=("At the longest length of 'architecture' (core; clauses: chrono, default): (a) most chrono-LSTM seeds "
               "solve it (refuted when most do not); (b) most seeds of the LSTM as PyTorch initialises it stay at chance "
               "(refuted when most do not), counting only where its own short control (the default LSTM at the shortest "
               "length, same steps) rises above chance in most seeds and (a) holds. Context: (c) in 'lstm_tuning' the "
               "default LSTM still stays at chance with a three times smaller or larger learning rate or twice the "
               "width (the same controls); (d) the forget-bias-1 LSTM."),
    needs={"architecture": ("lstm_default", "lstm_forget_bias_1", "lstm_chrono"), "lstm_tuning": TUNING},
    clauses={"chrono": "with chrono initialisation the LSTM solves the long dependency",
             "default": "as PyTorch initialises it, the LSTM stays at chance on it"},
    question='Within the training budget, does gate initialisation decide if an LSTM solves the long dependency tested?',
    found={
        'chrono': {
            'holds': 'with chrono initialisation the LSTM solved the long dependency',
            'refuted': 'with chrono initialisation the LSTM did not solve the long dependency',
            'untested': 'whether the chrono LSTM solves it was not decided',
        },
        'default': {
            'holds': 'as PyTorch initialises it, the LSTM stayed at chance',
            'refuted': 'as PyTorch initialises it, the LSTM rose above chance too',
            'untested': 'whether the default LSTM stays at chance was not decided',
        },
    })


@dataclass
class Numbers:
    length: int = 0
    short: int = 0
    steps: int = 0
    chance: float = math.nan
    solved_bar: float = SOLVED
    margin: float = CHANCE_MARGIN
    models: dict = field(default_factory=dict)     # architecture variant -> {label, by_length{T: acc, solved, above, at_chance}}
    tuning: dict = field(default_factory=dict)     # lstm_tuning variant -> {label, what, acc, at_chance, solved}
    rates: dict = field(default_factory=dict)      # default and chrono LSTM: gradient rate at initialisation (Interval)


_WHAT = {"lr_low": "learning rate ÷ 3", "lr_high": "learning rate × 3", "wide": "width × 2"}


def _default_at_chance(outcome, short, chrono) -> bool | None:
    """The default LSTM stays at chance at the long length, beside its own short control rising above chance and
    the chrono LSTM solving the long length (both controls must hold for a True)."""
    state = at_chance_given(outcome, short)
    if state is True and (chrono is None or chrono.solves is not True):
        return None
    return state


def decide(ctx: Context) -> Outcome:
    ctx.require(["architecture"])
    table = config_outcomes(ctx, "architecture")
    if not table:
        raise Undecidable("no training outcomes in 'architecture'", ["architecture"])
    longest = max(c.length for c in table)
    numbers = Numbers(length=longest, steps=budget_of(ctx, "architecture"))
    for v in ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru"):
        rows = [o for _, o in sorted(keyed({c: o for c, o in table.items() if c.variant == v}, "length").items())]
        if rows:
            numbers.chance = rows[0].chance
            numbers.models[v] = {"label": rows[0].label,
                                 "by_length": {o.config.length: {"acc": o.score, "solved": o.solved, "above": o.above,
                                                                 "at_chance": o.at_chance} for o in rows}}
    at_init = keyed({c: r["rate"] for c, r in rates(ctx, "architecture").items() if c.length == longest}, "variant")
    numbers.rates = {v: at_init[v] for v in ("lstm_default", "lstm_chrono")  # for the mechanism's sentence
                     if v in at_init and v in numbers.models and at_init[v].n >= 2}
    chrono, default = config_outcome(ctx, "architecture", "lstm_chrono", longest), config_outcome(
        ctx, "architecture", "lstm_default", longest)
    lengths = sorted(c.length for c in table if c.variant == "lstm_default")
    short = config_outcome(ctx, "architecture", "lstm_default", lengths[0]) if lengths and lengths[0] < longest else None
    numbers.short = short.config.length if short is not None else 0
    parts = []
    if chrono is not None:
        parts.append(Part("chrono_learns", f"most chrono-LSTM seeds solve length {longest} within {numbers.steps} steps",
                          solves_state(chrono), reads=(chrono.config,), core=True, clause="chrono",
                          evidence=chrono.solved, detail=f"{of(chrono.solved)} seeds solve"))
    controls = with_control(short, need="above_chance") + with_control(chrono)
    if default is not None:
        parts.append(Part("default_fails", f"most default-LSTM seeds stay at chance at length {longest} within "
                          f"{numbers.steps} steps", _default_at_chance(default, short, chrono),
                          reads=(default.config,) + controls, core=True, clause="default", evidence=default.at_chance,
                          detail=f"{of(default.at_chance)} seeds at chance" + (
                              f"; at length {short.config.length}, {of(short.above)} above chance" if short else
                              "; no short control in this build")))
    if short is not None:
        parts.append(Part("default_control", f"most default-LSTM seeds rise above chance at length {short.config.length} "
                          f"within the same {numbers.steps} steps (its positive control)", short.above_chance,
                          reads=(short.config,), core=False, detail=f"{of(short.above)} seeds above chance, "
                                                                     f"{of(short.solved)} solve"))
    fb1 = config_outcome(ctx, "architecture", "lstm_forget_bias_1", longest)
    if fb1 is not None:
        parts.append(Part("forget_bias_1_learns", f"most forget-bias-1 LSTM seeds solve length {longest} within "
                          f"{numbers.steps} steps", solves_given(fb1, chrono), reads=(fb1.config,) + with_control(chrono),
                          core=False, detail=f"{of(fb1.solved)} seeds solve"))
    if ctx.has("lstm_tuning") and len(ctx.seeds("lstm_tuning")) >= 2:
        for c, o in keyed({c: (c, o) for c, o in sorted(config_outcomes(ctx, "lstm_tuning").items())}, "variant").values():
            what = _WHAT.get(c.variant, c.variant)
            numbers.tuning[c.variant] = {"label": o.label, "what": what, "length": c.length, "acc": o.score,
                                         "at_chance": o.at_chance, "solved": o.solved}
            parts.append(Part(f"tuning_{c.variant}", f"with {what}, most default-LSTM seeds still stay at chance at length "
                              f"{c.length}", _default_at_chance(o, short, chrono), reads=(c,) + controls, core=False,
                              detail=f"{of(o.at_chance)} seeds at chance"))
    if not parts:
        raise Undecidable("neither the chrono nor the default LSTM is in this build", ["architecture"])
    bits = []
    if chrono is not None and default is not None:
        bits.append(f"at length {longest} the chrono LSTM solves in {of(chrono.solved)} seeds, the default LSTM stays at "
                    f"chance in {of(default.at_chance)}")
    if numbers.tuning:
        bits.append("retuned, the default LSTM is still at chance in " + ", ".join(
            f"{of(t['at_chance'])} ({t['what']})" for t in numbers.tuning.values())
            + " seeds, with no control at those settings (the budget may be what failed)")
    return Outcome(parts, numbers, upper_first("; ".join(bits)) or "LSTM gate initialisation",
                   "; ".join(f"{p.question}: {p.detail}" for p in parts),
                   [e for e in SPEC.needs if ctx.has(e)])


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    series = []
    slots = ctx.slots("architecture", list(n.models))
    for v, m in n.models.items():
        lengths = sorted(m["by_length"])
        series.append({"label": m["label"], "slot": slots[v], "x": [float(t) for t in lengths],
                       "mean": [m["by_length"][t]["acc"].mean for t in lengths],
                       "lo": [m["by_length"][t]["acc"].lo for t in lengths],
                       "hi": [m["by_length"][t]["acc"].hi for t in lengths]})
    return ctx.figure(
        "gates", lambda: figures.score_vs_x(series, chance=n.chance, xlabel="sequence length T", ylabel="recall accuracy",
                                            logx=True),
        "Recall accuracy against length for the LSTM with three gate initialisations and the GRU, same budget (mean "
        "over seeds with its interval); dotted: chance. What to see: at length " + f"{n.length}, " + "; ".join(
            f"{m['label']} {num(m['by_length'][n.length]['acc'].mean, 2)}" for m in sorted(
                (m for m in n.models.values() if n.length in m["by_length"]),
                key=lambda m: -m["by_length"][n.length]["acc"].mean)) + " (mean accuracy, highest first).",
        "Accuracy against length at the longest length: " + "; ".join(
            f"{m['label']}: {num(m['by_length'][n.length]['acc'].mean, 2)}" for m in n.models.values()
            if n.length in m["by_length"]) + ".")
