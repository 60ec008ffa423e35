"""Finding C6: LSTM and GRU gates, as PyTorch initialises them, preserve gradients over long spans
(and so solve long dependencies).

Stated per gated model, each with its initialisation. Whether a gate *initialisation* decides the
outcome is G1's question; C6's claim is about the models as PyTorch builds them (the LSTM and the
GRU with their default initialisation): those parts are core, the LSTM's other initialisations
are context. Two clauses. *Preserves* is judged after training, on the measured ratio of the
gradient at the first input to the gradient at the last step: at initialisation it follows from
arithmetic (a forget gate near σ(0) = 0.5 halves the cell path each step, and keeping a tenth over
39 steps needs at least 0.943 a step), so the ratio at initialisation is shown, not judged.
*Learns* is a training part: a failure at the long length counts only where the same model solves
the short length within the same steps (its positive control); otherwise the part is budget-limited
(undetermined), never an architecture fact. Every "left after k steps" number is a measured ratio.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import above
from ..tables import (
    CHANCE_MARGIN,
    SOLVED,
    at_longest,
    budget_of,
    config_outcome,
    configs_of,
    gradient_ratios,
    profile_series,
    rates,
    solves_given,
    with_control,
)

GATED = ("lstm_default", "lstm_forget_bias_1", "lstm_chrono", "gru")
AS_SHIPPED = ("lstm_default", "gru")  # PyTorch's own initialisation: the claim's models
# "Preserves": over the whole span at least a tenth of the gradient reaches the first input. A rate merely
# slower than the RNN's is not enough: −0.45 against −0.54 per step leaves 1e-8 against 1e-10.
KEEPS = 0.1

SPEC = Spec(
    id="C6", kind="finding", title="PyTorch-initialised gated cells preserve gradients over long spans",
    claim="LSTM and GRU gates, as PyTorch initialises them, preserve gradients over long spans.",
    criterion=("At the longest length T of 'architecture', for the LSTM and the GRU as PyTorch initialises them (core; "
               "clauses: preserves, learns). (a) Preserves: after training the measured ratio ‖∂L/∂h_0‖/‖∂L/∂h_(T−1)‖ "
               f"keeps at least {KEEPS:g}: the interval across seeds (at the look's level) of its log10 lies above log10({KEEPS:g}) (refuted "
               "below). At initialisation the ratio is shown, not judged: gate biases near 0 make it small by arithmetic. "
               "(b) Learns: most seeds solve length T (Wilson interval of the share above one half); most unsolved "
               "refutes it only where the same model solves the shortest length within the same steps (its positive "
               "control), else it is undetermined. Context: (a) for the forget-bias-1 and chrono LSTMs; each control."),
    needs={"architecture": ("rnn_tanh",) + GATED},
    clauses={"preserves": "as PyTorch initialises them, gated cells keep the gradient over a long span",
             "learns": "so they solve long dependencies"},
    question='Do gated cells, as PyTorch initialises them, preserve gradients over long spans?',
    found={
        'preserves': {
            'holds': "PyTorch's default LSTM and GRU kept their gradient over a long span",
            'refuted': "{refuted}, as PyTorch initialises {them}, lost the gradient over a long span",
            'untested': 'whether they keep their gradient was not decided',
        },
        'learns': {
            'holds': 'they solved the long dependency',
            'refuted': '{refuted} did not solve the long dependency within the training budget',
            'untested': 'whether they solve it within the training budget was not decided',
        },
    })


@dataclass
class Numbers:
    length: int = 0
    short: int = 0
    steps: int = 0
    chance: float = 0.0
    keeps: float = KEEPS
    solved_bar: float = SOLVED
    margin: float = CHANCE_MARGIN
    rnn: dict = field(default_factory=dict)      # {label, rate, kept_init, kept_trained, solved, control}: the tanh RNN
    # variant -> {label, rate, kept_init, kept_trained (measured ratios: {geo_mean, min, max, log10}), preserves,
    # solved, control ...}
    models: dict = field(default_factory=dict)
    # the plain RNN, whose gradient decays fastest, solved the long length in a larger share of its
    # seeds than every gated cell as PyTorch ships it: the rate at initialisation is not the whole story
    rnn_solves_more: bool = False


def decide(ctx: Context) -> Outcome:
    ctx.require(["architecture"])
    longest, by_variant = at_longest(rates(ctx, "architecture"))
    if "rnn_tanh" not in by_variant:
        raise Undecidable("the tanh RNN is not in 'architecture'", ["architecture"])
    steps = budget_of(ctx, "architecture")
    _, at_init = at_longest(gradient_ratios(ctx, "architecture", "init"))
    _, trained = at_longest(gradient_ratios(ctx, "architecture", "trained", level=ctx.level_for("architecture")))
    numbers = Numbers(length=longest, steps=steps,
                      rnn={"label": ctx.describe("architecture", "rnn_tanh"), "rate": by_variant["rnn_tanh"]["rate"],
                           "kept_init": at_init.get("rnn_tanh"), "kept_trained": trained.get("rnn_tanh")})
    rnn_outcome = config_outcome(ctx, "architecture", "rnn_tanh", longest)
    if rnn_outcome is not None:  # descriptive, for the table's comparison row: no part of the claim
        numbers.rnn["solved"] = rnn_outcome.solved
        rnn_lengths = sorted(c.length for c in configs_of(ctx, "architecture", "rnn_tanh"))
        if rnn_lengths and rnn_lengths[0] < longest:
            numbers.rnn["control"] = config_outcome(ctx, "architecture", "rnn_tanh", rnn_lengths[0]).solved
    parts = []
    for v in GATED:
        if v not in by_variant:
            continue
        core = v in AS_SHIPPED
        label = ctx.describe("architecture", v)
        entry = {"label": label, "rate": by_variant[v]["rate"], "kept_init": at_init.get(v),
                 "kept_trained": trained.get(v), "preserves": None}
        outcome = config_outcome(ctx, "architecture", v, longest)
        after = trained.get(v)
        if after is not None:
            preserves = above(after["log10"], math.log10(KEEPS))
            entry["preserves"] = preserves
            parts.append(Part(f"{v}_preserves", f"{label}: after training, at least {KEEPS:g} of the gradient at the last "
                              f"step reaches the first input ({longest - 1} steps back)", preserves, core=core,
                              clause="preserves" if core else "", evidence=after["log10"],
                              reads=(outcome.config,) if outcome is not None else (),
                              detail=f"measured ratio {num(after['geo_mean'], 2)} (geometric mean; seeds "
                                     f"{num(after['min'], 2)} to {num(after['max'], 2)}), log10 "
                                     f"[{num(after['log10'].lo, 2)}, {num(after['log10'].hi, 2)}]"
                                     + (f"; at initialisation {num(at_init[v]['geo_mean'], 2)}" if v in at_init else "")))
        lengths = sorted(c.length for c in configs_of(ctx, "architecture", v))
        control = config_outcome(ctx, "architecture", v, lengths[0]) if lengths and lengths[0] < longest else None
        if outcome is not None:
            numbers.chance = outcome.chance
            entry.update({"acc": outcome.score, "solved": outcome.solved, "solves": outcome.solves,
                          "counts": outcome.counts})
            if control is not None:
                entry["control"] = {"length": control.config.length, "solved": control.solved}
            if core:
                numbers.short = control.config.length if control is not None else 0
                state = solves_given(outcome, control)
                entry["learns_state"] = state
                parts.append(Part(f"{v}_learns", f"{label}: most seeds solve length {longest} within {steps} steps",
                                  state, reads=with_control(control, outcome.config), core=True, clause="learns",
                                  evidence=outcome.solved,
                                  detail=f"{of(outcome.solved)} seeds solve" + (
                                      f"; at length {control.config.length}, {of(control.solved)}" if control else "")))
                if control is not None:
                    parts.append(Part(f"{v}_control", f"{label}: most seeds solve length {control.config.length} within "
                                      f"the same {steps} steps (the positive control)", control.solves,
                                      reads=(control.config,), core=False, detail=f"{of(control.solved)} seeds solve"))
        if entry["kept_init"] and math.isfinite(entry["rate"].mean):
            # what the per-step factor alone would leave at the first input, and whether less was measured
            # there (the steps nearest the output cost more than the fitted slope): the prose says so
            entry["by_rate"] = math.exp(entry["rate"].mean * (longest - 1))
            entry["below_slope"] = entry["kept_init"]["geo_mean"] < entry["by_rate"]
        numbers.models[v] = entry
    if not parts:
        raise Undecidable("no gated model in this build", ["architecture"])
    shipped = [numbers.models[v] for v in AS_SHIPPED if v in numbers.models and "solved" in numbers.models[v]]
    rnn_share = numbers.rnn.get("solved")
    numbers.rnn_solves_more = bool(shipped and rnn_share is not None and rnn_share.n and rnn_share.k
                                   and all(rnn_share.k / rnn_share.n > m["solved"].k / max(m["solved"].n, 1)
                                           for m in shipped))
    preserving = [m["label"] for m in numbers.models.values() if m["preserves"]]
    headline = (f"Within {steps} steps, as PyTorch initialises them, " + " and ".join(
        f"the {m['label'].split(' (')[0]} solves length {longest} in {of(m['solved'])} seeds" for m in shipped) + "; "
        + f"after training {len(preserving)} of {len(numbers.models)} gated models keep at least {KEEPS:g} of the gradient "
          f"over {longest - 1} steps")
    return Outcome(parts, numbers, headline, "; ".join(f"{p.question}: {p.detail}" for p in parts), ["architecture"])


def _slopes(models: list) -> str:
    """The figure's point in one sentence, from the records: the steepest and the flattest line."""
    ranked = sorted((m for m in models if m["rate"].known), key=lambda m: m["rate"].mean)
    if len(ranked) < 2:
        return "one line per model."
    return (f"the steepest line is {ranked[0]['label']} (slope {num(ranked[0]['rate'].mean)} per step, natural log), the "
            f"flattest {ranked[-1]['label']} ({num(ranked[-1]['rate'].mean)}).")


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    variants = ["rnn_tanh"] + [v for v in GATED if v in n.models]
    series = profile_series(ctx, "architecture", variants, n.length)
    out = ctx.figure(
        "gradients", lambda: figures.gradient_vs_lag(series, []),
        f"Gradient norm relative to the last step against distance at initialisation, length {n.length}: the tanh RNN "
        "and the gated cells, each with its initialisation named (geometric mean over seeds; band: range). What to "
        "see: " + _slopes(([n.rnn] if n.rnn else []) + list(n.models.values())),
        "Log-scale gradient against distance. Fitted rates per step: " + "; ".join(
            [f"{n.rnn['label']}: {num(n.rnn['rate'].mean)}"] + [f"{m['label']}: {num(m['rate'].mean)}"
                                                                for m in n.models.values()]) + ".")
    trained = profile_series(ctx, "architecture", variants, n.length, stage="trained")
    if trained:
        out += ctx.figure(
            "trained", lambda: figures.gradient_vs_lag(trained, []),
            f"The same after {n.steps} steps of training, length {n.length} (geometric mean over seeds; band: range): "
            "the ratio at the largest distance is what part (a) judges.",
            "Log-scale gradient against distance after training. Measured ratio at the first input: " + "; ".join(
                f"{m['label']}: {num(m['kept_trained']['geo_mean'], 2)}" for m in n.models.values()
                if m.get("kept_trained")) + ".")
    return out
