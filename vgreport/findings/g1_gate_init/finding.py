"""Finding G1: an LSTM's gate initialisation, not gating alone, decides whether it learns long
dependencies within the training budget — and the default LSTM's failure is not a matter of tuning.

The default LSTM's failure, retuned or not, is a statement about the budget: it counts only beside
the chrono LSTM learning the same length within the same steps (the reference model, the positive
control). The takeaway names the initialisation that learned (chrono), not "a forget-gate bias":
forget-bias 1 is shown as context."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of, upper_first
from ..tables import (
    CHANCE_MARGIN,
    budget_of,
    config_outcome,
    config_outcomes,
    fails_given,
    keyed,
    learns_given,
    rates,
    with_control,
)

TUNING = ("lr_low", "lr_high", "wide")

SPEC = Spec(
    id="G1", kind="finding", title="Within the training budget, gate initialisation decides if an LSTM learns long dependencies",
    claim=("Within the training budget, an LSTM's gate initialisation, not gating alone, decides whether it learns long "
           "dependencies."),
    criterion=("At the longest length of 'architecture': (a) most seeds of the chrono-initialised LSTM learn and (b) most "
               "seeds of the LSTM with PyTorch's default initialisation fail (Wilson interval of the share against one "
               "half; refuted when on the other side), the failure counting only where (a) holds: the chrono LSTM, at "
               "the same length and budget, is the positive control. Both are core. Context: (c) in 'lstm_tuning' (the "
               "same budget) the default LSTM still fails at that length with a three times smaller and a three times "
               "larger learning rate and with twice the width (one part each, with the same control); (d) the "
               "forget-bias-1 LSTM's outcome. A seed learns (fails) when its held-out accuracy's 95% interval lies "
               f"above (below) chance + {CHANCE_MARGIN}."),
    needs={"architecture": ("lstm_default", "lstm_forget_bias_1", "lstm_chrono"), "lstm_tuning": TUNING})


@dataclass
class Numbers:
    length: int = 0
    steps: int = 0
    chance: float = math.nan
    models: dict = field(default_factory=dict)     # architecture variant -> {label, by_length{T: acc, learned}}
    tuning: dict = field(default_factory=dict)     # lstm_tuning variant -> {label, what, acc, failed, learned}
    rates: dict = field(default_factory=dict)      # default and chrono LSTM: gradient rate at initialisation (Interval)


_WHAT = {"lr_low": "a three times smaller learning rate", "lr_high": "a three times larger learning rate",
         "wide": "twice the width"}


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
                                 "by_length": {o.config.length: {"acc": o.score, "learned": o.learned} for o in rows}}
    at_init = keyed({c: r["rate"] for c, r in rates(ctx, "architecture").items() if c.length == longest}, "variant")
    numbers.rates = {v: at_init[v] for v in ("lstm_default", "lstm_chrono")  # for the mechanism's sentence
                     if v in at_init and v in numbers.models and at_init[v].n >= 2}
    chrono, default = config_outcome(ctx, "architecture", "lstm_chrono", longest), config_outcome(
        ctx, "architecture", "lstm_default", longest)
    parts = []
    if chrono is not None:
        parts.append(Part("chrono_learns", f"most chrono-LSTM seeds learn length {longest} within {numbers.steps} steps",
                          chrono.learns, reads=(chrono.config,), core=True, detail=f"{of(chrono.learned)} seeds learn"))
    control = with_control(chrono)
    if default is not None:
        parts.append(Part("default_fails", f"most default-LSTM seeds fail at length {longest} within {numbers.steps} "
                          "steps", fails_given(default, chrono), reads=(default.config,) + control, core=True,
                          detail=f"{of(default.failed)} seeds fail"))
    bias_1 = config_outcome(ctx, "architecture", "lstm_forget_bias_1", longest)
    if bias_1 is not None:
        parts.append(Part("forget_bias_1_learns", f"most forget-bias-1 LSTM seeds learn length {longest} within "
                          f"{numbers.steps} steps", learns_given(bias_1, chrono),
                          reads=(bias_1.config,) + control, core=False, detail=f"{of(bias_1.learned)} seeds learn"))
    if ctx.has("lstm_tuning") and len(ctx.seeds("lstm_tuning")) >= 2:
        for c, o in keyed({c: (c, o) for c, o in sorted(config_outcomes(ctx, "lstm_tuning").items())}, "variant").values():
            what = _WHAT.get(c.variant, c.variant)
            numbers.tuning[c.variant] = {"label": o.label, "what": what, "length": c.length, "acc": o.score,
                                         "failed": o.failed, "learned": o.learned}
            parts.append(Part(f"tuning_{c.variant}", f"with {what}, most default-LSTM seeds still fail at length "
                              f"{c.length}", fails_given(o, chrono), reads=(c,) + control, core=False,
                              detail=f"{of(o.failed)} seeds fail"))
    if not parts:
        raise Undecidable("neither the chrono nor the default LSTM is in this build", ["architecture"])
    bits = []
    if chrono is not None and default is not None:
        bits.append(f"at length {longest} the chrono LSTM learns in {of(chrono.learned)} seeds, the default LSTM in "
                    f"{of(default.learned)}")
    if numbers.tuning:
        bits.append("retuned, the default LSTM learns in " + ", ".join(
            f"{of(t['learned'])} ({t['what']})" for t in numbers.tuning.values()))
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
        "over seeds with its interval); dotted: chance.",
        "Accuracy against length at the longest length: " + "; ".join(
            f"{m['label']}: {num(m['by_length'][n.length]['acc'].mean, 2)}" for m in n.models.values()
            if n.length in m["by_length"]) + ".")
