"""Finding C10: attention avoids the recurrent product, so the gradient does not shrink with distance.

Two clauses. *Flat*: judged after training, on the measured ratio of the gradient at the farthest
input to the gradient one step back (the last position also reaches the output directly through the
residual path, so the profile starts with a drop; from one step back it is attention alone). At
initialisation near-uniform attention makes the profile flat by construction: that rate is context.
*Solves*: most seeds solve the long dependency, beside the same model at the shortest length.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import above, within
from ..tables import (
    CHANCE_MARGIN,
    SOLVED,
    at_longest,
    budget_of,
    config_outcome,
    config_outcomes,
    gradient_ratios,
    profile_series,
    rates,
    solves_given,
    with_control,
)

FLAT_RATE = 0.01  # |rate| per step below this is "flat": at most a factor e^(0.01·T) over T steps
KEEPS = 0.1       # "does not shrink": at least a tenth of the gradient one step back reaches the farthest input

SPEC = Spec(
    id="C10", kind="finding", title="Within the training budget, attention avoids the recurrent product",
    claim=("Attention avoids recurrent multiplication: after training, the gradient reaching the farthest input "
           f"keeps at least {KEEPS:g} of its size one step back, and attention solves the long dependency."),
    criterion=("The causal transformer at the longest length T of 'architecture' (core; clauses: flat, solves). (a) After "
               "training, the measured ratio of the gradient at the farthest input to the gradient one step back keeps "
               f"at least {KEEPS:g}: the interval across seeds (at the look's level) of its log10 lies above log10({KEEPS:g}) (refuted "
               f"below). Context: at initialisation the rate over lags 1 … T − 1 lies within ±{FLAT_RATE} per step "
               "(near-uniform attention gives that by construction). (b) Most seeds solve length T; most unsolved refutes "
               "it only where the transformer solves the shortest length within the same steps (its control)."),
    needs={"architecture": ("rnn_tanh", "transformer")},
    clauses={"flat": "the gradient reaching the farthest input keeps its size from one step back",
             "solves": "so attention solves the long dependency"},
    question='Does attention avoid the recurrent product?',
    found={
        'flat': {
            'holds': "the transformer's gradient did not shrink with distance",
            'refuted': "the transformer's gradient shrank with distance",
            'untested': 'whether its gradient shrinks with distance was not decided',
        },
        'solves': {
            'holds': 'the transformer solved the long dependency',
            'refuted': 'the transformer did not solve the long dependency',
            'untested': 'whether it solves the long dependency was not decided',
        },
    })


@dataclass
class Numbers:
    length: int = 0
    label: str = ""
    rate: object = None                    # the rate at initialisation over lags 1 … T − 1 (context)
    rnn_rate: object = None
    first_step: float = math.nan           # at initialisation, the gradient one step back over the last position's
    kept: dict = field(default_factory=dict)   # after training: measured ratio farthest / one step back (tables.gradient_ratios)
    kept_init: dict = field(default_factory=dict)  # the same at initialisation
    keeps: float = KEEPS
    acc: object = None
    solved: object = None
    chance: float = math.nan
    rnn_solved: object = None
    flat_rate: float = FLAT_RATE
    solved_bar: float = SOLVED
    margin: float = CHANCE_MARGIN
    steps: int = 0
    control: dict = field(default_factory=dict)
    by_length: dict = field(default_factory=dict)


def decide(ctx: Context) -> Outcome:
    ctx.require(["architecture"])
    longest, row = at_longest(rates(ctx, "architecture"))
    if "transformer" not in row:
        raise Undecidable("the transformer is not in 'architecture'", ["architecture"])
    r = row["transformer"]["rate"]
    numbers = Numbers(length=longest, label=ctx.describe("architecture", "transformer"), rate=r,
                      rnn_rate=row.get("rnn_tanh", {}).get("rate"), steps=budget_of(ctx, "architecture"))
    profile = profile_series(ctx, "architecture", ["transformer"], longest)
    if profile and 1.0 in list(profile[0]["lags"]):
        numbers.first_step = float(profile[0]["mean"][list(profile[0]["lags"]).index(1.0)])
    _, trained = at_longest(gradient_ratios(ctx, "architecture", "trained", near_lag=1,
                                            level=ctx.level_for("architecture")))
    _, at_init = at_longest(gradient_ratios(ctx, "architecture", "init", near_lag=1))
    numbers.kept, numbers.kept_init = trained.get("transformer", {}), at_init.get("transformer", {})
    outcome = config_outcome(ctx, "architecture", "transformer", longest)
    parts = []
    if numbers.kept:
        k = numbers.kept
        parts.append(Part("flat", f"after training, at least {KEEPS:g} of the transformer's gradient one step back reaches "
                          f"the farthest input ({k['lags']} steps further)", above(k["log10"], math.log10(KEEPS)),
                          core=True, clause="flat", evidence=k["log10"],
                          reads=(outcome.config,) if outcome is not None else (),
                          detail=f"measured ratio {num(k['geo_mean'], 2)} (geometric mean; seeds {num(k['min'], 2)} to "
                                 f"{num(k['max'], 2)}), log10 [{num(k['log10'].lo, 2)}, {num(k['log10'].hi, 2)}]"))
    parts.append(Part("flat_init", f"at initialisation the transformer's gradient is flat with distance (|rate| < "
                      f"{FLAT_RATE} per step over lags 1 … {longest - 1})", within(r, FLAT_RATE), training=False,
                      core=False, detail=f"rate {num(r.mean, 2)} [{num(r.lo, 2)}, {num(r.hi, 2)}] per step"))
    if outcome is not None:
        numbers.acc, numbers.solved, numbers.chance = outcome.score, outcome.solved, outcome.chance
        rnn = config_outcome(ctx, "architecture", "rnn_tanh", longest)
        numbers.rnn_solved = rnn.solved if rnn else None
        shortest = min(c.length for c in config_outcomes(ctx, "architecture") if c.variant == "transformer")
        control = config_outcome(ctx, "architecture", "transformer", shortest) if shortest < longest else None
        parts.append(Part("solves", f"most transformer seeds solve length {longest} within {numbers.steps} steps",
                          solves_given(outcome, control), core=True, clause="solves", evidence=outcome.solved,
                          reads=with_control(control, outcome.config),
                          detail=f"{of(outcome.solved)} seeds solve" + (
                              f"; {of(control.solved)} at length {control.config.length}" if control else "")))
        if control is not None:
            numbers.control = {"length": control.config.length, "solved": control.solved}
            parts.append(Part("control", f"most transformer seeds solve length {control.config.length} within the same "
                              f"{numbers.steps} steps (the positive control)", control.solves, core=False,
                              reads=(control.config,), detail=f"{of(control.solved)} seeds solve"))
        for c, o in sorted(config_outcomes(ctx, "architecture").items()):
            if c.variant == "transformer":
                numbers.by_length[c.length] = {"acc": o.score, "solved": o.solved}
    headline = ("After training, the transformer's gradient at the farthest input is "
                f"{num(numbers.kept.get('geo_mean', math.nan), 2)} of its gradient one step back"
                + (f", and it solves length {longest} in {of(numbers.solved)} seeds" if numbers.solved else ""))
    return Outcome(parts, numbers, headline, "; ".join(p.detail for p in parts), ["architecture"])


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    series = profile_series(ctx, "architecture", ["rnn_tanh", "transformer"], n.length)
    return ctx.figure(
        "flat", lambda: figures.gradient_vs_lag(series, []),
        f"Gradient norm relative to the last position against distance at initialisation, length {n.length}: the causal "
        "transformer (gradient with respect to the embedded input at each position) and the tanh RNN (with respect to "
        "its hidden state); geometric mean over seeds, band: range. The last input also reaches the output directly (the "
        f"residual path), earlier ones only through attention: hence the drop to {num(n.first_step, 2)} one step back, "
        f"from where its rate is fitted. What to see: beyond that step the transformer's line has slope "
        f"{num(n.rate.mean, 2)} per step (natural log), the RNN's {num(n.rnn_rate.mean if n.rnn_rate else math.nan, 2)}.",
        f"Log-scale gradient against distance: the transformer's rate is {num(n.rate.mean, 2)} per step, the RNN's "
        f"{num(n.rnn_rate.mean if n.rnn_rate else math.nan)}.")
