"""Finding C6: LSTM and GRU gates preserve gradients over long spans (and so learn them).

Stated per gated model, each with its initialisation. Whether a gate *initialisation* decides the
outcome is G1's question; C6 counts the learning outcome of the models as PyTorch builds them only,
so no comparison is counted twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import figures
from ..base import SLOTS, Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import above, welch
from ..tables import CHANCE_MARGIN, at_longest, config_outcome, profile_series, rates

GATED = ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru")
AS_SHIPPED = ("lstm_default", "gru")  # PyTorch's own initialisation

SPEC = Spec(
    id="C6", kind="finding", title="Gated cells preserve gradients over long spans",
    claim="LSTM and GRU gates preserve gradients over long spans.",
    criterion=("At the longest length of 'architecture': (a) for each gated model (the LSTM with PyTorch's default, "
               "forget-bias-1 and chrono gate initialisation; the GRU) its gradient decays more slowly than the tanh "
               "RNN's at initialisation: the 95% Welch interval of the difference of fitted per-step rates (gated − RNN) "
               "lies above 0 (refuted below 0); (b) each gated model as PyTorch initialises it (LSTM, GRU) learns the "
               "task: most seeds learn (Wilson interval of the share above one half; refuted below). A seed learns when "
               f"its held-out accuracy's 95% interval lies above chance + {CHANCE_MARGIN}. Supported when every part holds, "
               "partly when some do."),
    needs={"architecture": ("rnn_tanh",) + GATED})


@dataclass
class Numbers:
    length: int = 0
    chance: float = 0.0
    rnn: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)   # variant -> {label, rate, diff, preserves, learned, learns}


def decide(ctx: Context) -> Outcome:
    ctx.require(["architecture"])
    longest, by_variant = at_longest(rates(ctx, "architecture"))
    if "rnn_tanh" not in by_variant:
        raise Undecidable("the tanh RNN is not in 'architecture'", ["architecture"])
    rnn_rate = by_variant["rnn_tanh"]
    numbers = Numbers(length=longest, rnn={"label": ctx.describe("architecture", "rnn_tanh"), "rate": rnn_rate["rate"]})
    parts = []
    for v in GATED:
        if v not in by_variant:
            continue
        diff = welch(by_variant[v]["per_seed"], rnn_rate["per_seed"], ctx.init_level)
        preserves = above(diff, 0.0)
        label = ctx.describe("architecture", v)
        entry = {"label": label, "rate": by_variant[v]["rate"], "diff": diff, "preserves": preserves}
        parts.append(Part(f"{v}_preserves", f"{label}: the gradient decays more slowly than the tanh RNN's", preserves,
                          training=False, detail=f"rate {num(by_variant[v]['rate'].mean)} against the RNN's "
                          f"{num(rnn_rate['rate'].mean)} per step (difference {num(diff.mean)} [{num(diff.lo)}, {num(diff.hi)}])"))
        outcome = config_outcome(ctx, "architecture", v, longest)
        if outcome is not None:
            numbers.chance = outcome.chance
            entry.update({"acc": outcome.score, "learned": outcome.learned, "learns": outcome.learns})
            if v in AS_SHIPPED:
                parts.append(Part(f"{v}_learns", f"{label}: most seeds learn length {longest}", outcome.learns,
                                  reads=(outcome.config,), detail=f"{of(outcome.learned)} seeds learn"))
        numbers.models[v] = entry
    if not parts:
        raise Undecidable("no gated model in this build", ["architecture"])
    shipped = [numbers.models[v] for v in AS_SHIPPED if v in numbers.models and "learned" in numbers.models[v]]
    preserving = [m["label"] for m in numbers.models.values() if m["preserves"]]
    headline = ("As PyTorch initialises them, " + " and ".join(f"the {m['label'].split(' (')[0]} learns length {longest} "
                f"in {of(m['learned'])} seeds" for m in shipped) + "; "
                + (f"{len(preserving)} of {len(numbers.models)} gated models keep the gradient longer than the tanh RNN"
                   if numbers.models else ""))
    return Outcome(parts, numbers, headline, "; ".join(f"{p.question}: {p.detail}" for p in parts), ["architecture"])


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    variants = ["rnn_tanh"] + [v for v in GATED if v in n.models]
    series = profile_series(ctx, "architecture", variants, SLOTS, n.length)
    return ctx.figure(
        "gradients", lambda: figures.gradient_vs_lag(series, []),
        f"Gradient norm relative to the last step against distance at initialisation, length {n.length}: the tanh RNN "
        "and the gated cells, each with its initialisation named (geometric mean over seeds; band: range).",
        "Log-scale gradient against distance. Fitted rates per step: " + "; ".join(
            [f"{n.rnn['label']}: {num(n.rnn['rate'].mean)}"] + [f"{m['label']}: {num(m['rate'].mean)}"
                                                                for m in n.models.values()]) + ".")
