"""Finding C10: attention avoids the recurrent product, so the gradient does not shrink with distance."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import within
from ..tables import (
    CHANCE_MARGIN,
    at_longest,
    budget_of,
    config_outcome,
    config_outcomes,
    learns_given,
    profile_series,
    rates,
    with_control,
)

FLAT_RATE = 0.01  # |rate| per step below this is "flat": at most a factor e^(0.01·T) over T steps

SPEC = Spec(
    id="C10", kind="finding", title="Attention avoids the recurrent product",
    claim="Attention avoids recurrent multiplication: the gradient does not shrink with distance.",
    criterion=("For the causal transformer at the longest length of 'architecture': (a) the per-step rate of "
               f"log‖∂L/∂x_k‖ at initialisation has a 95% interval inside ±{FLAT_RATE} (flat; refuted when it lies wholly "
               "outside); (b) most seeds learn the task within the experiment's budget (Wilson interval of the share above "
               "one half), a seed learning when its held-out accuracy's 95% interval lies above chance + "
               f"{CHANCE_MARGIN}; a failure refutes (b) only where the transformer learns the shortest length within the "
               "same steps (its positive control), else it is undetermined. Both parts are core."),
    needs={"architecture": ("rnn_tanh", "transformer")})


@dataclass
class Numbers:
    length: int = 0
    label: str = ""
    rate: object = None
    rnn_rate: object = None
    factor_over_length: float = math.nan   # e^(r·(T − 2)): over the fitted lags 1 … T − 1
    first_step: float = math.nan           # the gradient one step back over the last position's (geometric mean over seeds)
    acc: object = None
    learned: object = None
    chance: float = math.nan
    rnn_learned: object = None
    flat_rate: float = FLAT_RATE
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
                      rnn_rate=row.get("rnn_tanh", {}).get("rate"),
                      factor_over_length=math.exp(r.mean * (longest - 2)) if math.isfinite(r.mean) else math.nan)
    profile = profile_series(ctx, "architecture", ["transformer"], longest)
    if profile and 1.0 in list(profile[0]["lags"]):
        numbers.first_step = float(profile[0]["mean"][list(profile[0]["lags"]).index(1.0)])
    parts = [Part("flat", f"the transformer's gradient is flat with distance (|rate| < {FLAT_RATE} per step)",
                  within(r, FLAT_RATE), training=False, core=True,
                  detail=f"rate {num(r.mean, 2)} [{num(r.lo, 2)}, {num(r.hi, 2)}] per step")]
    outcome = config_outcome(ctx, "architecture", "transformer", longest)
    if outcome is not None:
        numbers.acc, numbers.learned, numbers.chance = outcome.score, outcome.learned, outcome.chance
        rnn = config_outcome(ctx, "architecture", "rnn_tanh", longest)
        numbers.rnn_learned = rnn.learned if rnn else None
        shortest = min(c.length for c in config_outcomes(ctx, "architecture") if c.variant == "transformer")
        control = config_outcome(ctx, "architecture", "transformer", shortest) if shortest < longest else None
        numbers.steps = budget_of(ctx, "architecture")
        parts.append(Part("learns", f"most transformer seeds learn length {longest} within {numbers.steps} steps",
                          learns_given(outcome, control), core=True,
                          reads=with_control(control, outcome.config),
                          detail=f"{of(outcome.learned)} seeds learn" + (
                              f"; {of(control.learned)} at length {control.config.length}" if control else "")))
        if control is not None:
            numbers.control = {"length": control.config.length, "learned": control.learned}
            parts.append(Part("control", f"most transformer seeds learn length {control.config.length} within the same "
                              f"{numbers.steps} steps (the positive control)", control.learns, core=False,
                              reads=(control.config,), detail=f"{of(control.learned)} seeds learn"))
        for c, o in sorted(config_outcomes(ctx, "architecture").items()):
            if c.variant == "transformer":
                numbers.by_length[c.length] = {"acc": o.score, "learned": o.learned}
    headline = (f"One step back the transformer's gradient is {num(numbers.first_step, 2)} of the last position's; from "
                f"there it changes by a factor {num(numbers.factor_over_length, 2)} over {longest - 2} steps" + (f" and it learns length {longest} in {of(numbers.learned)} seeds" if numbers.learned else ""))
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
        "from where its rate is fitted.",
        f"Log-scale gradient against distance: the transformer's rate is {num(n.rate.mean, 2)} per step, the RNN's "
        f"{num(n.rnn_rate.mean if n.rnn_rate else math.nan)}.")
