"""Finding C6: LSTM and GRU gates preserve gradients over long spans (and so learn them).

Stated per gated model, each with its initialisation. Whether a gate *initialisation* decides the
outcome is G1's question; C6's claim is about the models as PyTorch builds them (the LSTM and the
GRU with their default initialisation): those parts are core, the LSTM's other initialisations
are context. A training part says what happened within this budget: a failure at the long length
counts only where the same model learns the short length within the same steps (its positive
control); otherwise the part is budget-limited (undetermined), never an architecture fact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import above, welch
from ..tables import (
    CHANCE_MARGIN,
    at_longest,
    budget_of,
    config_outcome,
    configs_of,
    learns_given,
    profile_series,
    rates,
    with_control,
)

GATED = ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru")
AS_SHIPPED = ("lstm_default", "gru")  # PyTorch's own initialisation: the claim's models
# "Preserves": over the whole span the gradient keeps at least a tenth of its size at initialisation. A
# rate merely slower than the RNN's is not enough: −0.45 against −0.54 per step leaves 1e-8 against 1e-10.
KEEPS = 0.1

SPEC = Spec(
    id="C6", kind="finding", title="PyTorch-initialised gated cells preserve gradients over long spans",
    claim="LSTM and GRU gates, as PyTorch initialises them, preserve gradients over long spans.",
    criterion=("At the longest length T of 'architecture'. (a) Preserves: at initialisation the gated model's gradient "
               f"keeps at least {KEEPS:g} of its size over the span: the 95% interval across seeds of its fitted per-step "
               f"rate lies above log({KEEPS:g})/(T − 1) (refuted below it; a rate merely slower than the tanh RNN's is not "
               "enough). "
               "(b) Learns: most seeds learn length T within the experiment's budget (Wilson interval of the share of "
               "seeds above one half). A failure (the share below one half) refutes it only when the same model learns "
               "the shortest length within the same steps (its positive control); otherwise it is undetermined, "
               "limited by the budget. A seed learns when its held-out accuracy's 95% interval lies above chance + "
               f"{CHANCE_MARGIN}. Core: (a) and (b) for the LSTM and the GRU as PyTorch initialises them; context: (a) "
               "for the forget-bias-1 and chrono LSTMs, and each control."),
    needs={"architecture": ("rnn_tanh",) + GATED})


@dataclass
class Numbers:
    length: int = 0
    short: int = 0
    steps: int = 0
    chance: float = 0.0
    keeps: float = KEEPS
    min_rate: float = math.nan                   # log(KEEPS)/(T − 1): the slowest decay per step that still preserves
    rnn: dict = field(default_factory=dict)      # {label, rate, learned, control}: the tanh RNN, for comparison
    models: dict = field(default_factory=dict)   # variant -> {label, rate, diff, kept, rnn_kept, preserves, learned, ...}
    rnn_kept: float = math.nan                    # the tanh RNN's gradient over the span, as a fraction
    # the plain RNN, whose gradient decays fastest, learned the long length in a larger share of its
    # seeds than every gated cell as PyTorch ships it: the rate at initialisation is not the whole story
    rnn_learns_more: bool = False


def decide(ctx: Context) -> Outcome:
    ctx.require(["architecture"])
    longest, by_variant = at_longest(rates(ctx, "architecture"))
    if "rnn_tanh" not in by_variant:
        raise Undecidable("the tanh RNN is not in 'architecture'", ["architecture"])
    rnn_rate = by_variant["rnn_tanh"]
    steps = budget_of(ctx, "architecture")
    min_rate = math.log(KEEPS) / max(1, longest - 1)
    span = max(1, longest - 1)
    numbers = Numbers(length=longest, steps=steps, min_rate=min_rate,
                      rnn={"label": ctx.describe("architecture", "rnn_tanh"), "rate": rnn_rate["rate"]},
                      rnn_kept=math.exp(rnn_rate["rate"].mean * span) if math.isfinite(rnn_rate["rate"].mean) else math.nan)
    rnn_outcome = config_outcome(ctx, "architecture", "rnn_tanh", longest)
    if rnn_outcome is not None:  # descriptive, for the table's comparison row: no part of the claim
        numbers.rnn["learned"] = rnn_outcome.learned
        rnn_lengths = sorted(c.length for c in configs_of(ctx, "architecture", "rnn_tanh"))
        if rnn_lengths and rnn_lengths[0] < longest:
            numbers.rnn["control"] = config_outcome(ctx, "architecture", "rnn_tanh", rnn_lengths[0]).learned
    parts = []
    for v in GATED:
        if v not in by_variant:
            continue
        core = v in AS_SHIPPED
        diff = welch(by_variant[v]["per_seed"], rnn_rate["per_seed"], ctx.init_level)
        rate = by_variant[v]["rate"]
        preserves = above(rate, min_rate)
        label = ctx.describe("architecture", v)
        kept = math.exp(rate.mean * span) if math.isfinite(rate.mean) else math.nan
        entry = {"label": label, "rate": by_variant[v]["rate"], "diff": diff, "kept": kept, "preserves": preserves}
        parts.append(Part(f"{v}_preserves", f"{label}: over {longest} steps the gradient keeps at least {KEEPS:g} of its "
                          "size at initialisation", preserves, training=False, core=core,
                          detail=f"rate {num(rate.mean)} [{num(rate.lo)}, {num(rate.hi)}] per step (above {num(min_rate)} "
                                 f"needed): {num(kept, 2)} of the gradient left over the span; the tanh RNN's rate "
                                 f"{num(rnn_rate['rate'].mean)} (difference {num(diff.mean)})"))
        outcome = config_outcome(ctx, "architecture", v, longest)
        lengths = sorted(c.length for c in configs_of(ctx, "architecture", v))
        control = config_outcome(ctx, "architecture", v, lengths[0]) if lengths and lengths[0] < longest else None
        if outcome is not None:
            numbers.chance = outcome.chance
            entry.update({"acc": outcome.score, "learned": outcome.learned, "learns": outcome.learns,
                          "counts": outcome.counts})
            if control is not None:
                entry["control"] = {"length": control.config.length, "learned": control.learned}
            if core:
                numbers.short = control.config.length if control is not None else 0
                state = learns_given(outcome, control)
                entry["learns_state"] = state
                reads = with_control(control, outcome.config)
                parts.append(Part(f"{v}_learns", f"{label}: most seeds learn length {longest} within {steps} steps",
                                  state, reads=reads, core=True,
                                  detail=f"{of(outcome.learned)} seeds learn" + (
                                      f"; at length {control.config.length}, {of(control.learned)}" if control else "")))
                if control is not None:
                    parts.append(Part(f"{v}_control", f"{label}: most seeds learn length {control.config.length} within "
                                      f"the same {steps} steps (the positive control)", control.learns,
                                      reads=(control.config,), core=False, detail=f"{of(control.learned)} seeds learn"))
        numbers.models[v] = entry
    if not parts:
        raise Undecidable("no gated model in this build", ["architecture"])
    shipped = [numbers.models[v] for v in AS_SHIPPED if v in numbers.models and "learned" in numbers.models[v]]
    rnn_share = numbers.rnn.get("learned")
    numbers.rnn_learns_more = bool(shipped and rnn_share is not None and rnn_share.n and rnn_share.k
                                   and all(rnn_share.k / rnn_share.n > m["learned"].k / max(m["learned"].n, 1)
                                           for m in shipped))
    preserving = [m["label"] for m in numbers.models.values() if m["preserves"]]
    headline = (f"Within {steps} steps, as PyTorch initialises them, " + " and ".join(
        f"the {m['label'].split(' (')[0]} learns length {longest} in {of(m['learned'])} seeds" for m in shipped) + "; "
        + f"{len(preserving)} of {len(numbers.models)} gated models keep at least {KEEPS:g} of the gradient over {longest} "
          "steps")
    return Outcome(parts, numbers, headline, "; ".join(f"{p.question}: {p.detail}" for p in parts), ["architecture"])


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    variants = ["rnn_tanh"] + [v for v in GATED if v in n.models]
    series = profile_series(ctx, "architecture", variants, n.length)
    return ctx.figure(
        "gradients", lambda: figures.gradient_vs_lag(series, []),
        f"Gradient norm relative to the last step against distance at initialisation, length {n.length}: the tanh RNN "
        "and the gated cells, each with its initialisation named (geometric mean over seeds; band: range).",
        "Log-scale gradient against distance. Fitted rates per step: " + "; ".join(
            [f"{n.rnn['label']}: {num(n.rnn['rate'].mean)}"] + [f"{m['label']}: {num(m['rate'].mean)}"
                                                                for m in n.models.values()]) + ".")
