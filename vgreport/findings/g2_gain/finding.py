"""Finding G2: the gain of an orthogonal W_hh = g·Q decides trainability: a window of gains trains.

Stated over every gain of the sweep, not one pair: which gains' seeds learn within the budget (the
trainability window), whether g = 1 lies inside it, whether the gains at the sweep's two ends (where
the gradient at initialisation shrinks, and where it grows) fall outside it, and where the rate at
initialisation crosses 0 ('gain_sweep'). A gain "fails" only beside g = 1 learning at the same
length and budget (the positive control); otherwise it is budget-limited.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import above, below
from ..tables import CHANCE_MARGIN, budget_of, config_outcomes, fails_given, keyed, learns_given, rates, with_control
from .figures import rate_vs_theory

SPEC = Spec(
    id="G2", kind="finding", title="A window of gains around the critical gain trains",
    claim=("With W_hh = g·Q (Q orthogonal), the tanh RNN trains within a window of gains that contains g = 1; a gain "
           "far enough on the vanishing side or the exploding side does not train."),
    criterion=("Experiment 'gain_train' (tanh RNN, W_hh = g·Q, a short training run at every gain of the sweep). At each "
               "gain, most seeds learn (Wilson interval of the share of learning seeds above one half) or most do not; "
               "a gain's failure counts only where g = 1 learns at the same length and budget (the positive control), "
               f"else it is budget-limited. A seed learns when its held-out accuracy's 95% interval lies above chance + "
               f"{CHANCE_MARGIN}. Core: (a) g = 1 learns (refuted when it does not while another gain does); (b) the "
               "smallest gain, where the gradient at initialisation shrinks (its rate interval below 0), fails; (c) the "
               "largest gain, where it grows (rate interval above 0), fails; (b) and (c) are undetermined when the gain "
               "is not on its side. Context: each gain's outcome (the window) and where the tanh RNN's rate at "
               "initialisation crosses 0 ('gain_sweep')."),
    needs={"gain_train": ("tanh",), "gain_sweep": ("tanh", "identity")})


@dataclass
class Numbers:
    length: int = 0
    steps: int = 0
    chance: float = math.nan
    by_gain: dict = field(default_factory=dict)       # g -> {acc, learned, init_rate, state}
    small: float = math.nan
    large: float = math.nan
    window: list = field(default_factory=list)        # gains whose seeds learn
    outside: list = field(default_factory=list)       # gains whose seeds fail (beside g = 1 learning)
    open: list = field(default_factory=list)          # gains not decided
    growing: list = field(default_factory=list)       # gains whose gradient grows at initialisation
    sweep: dict = field(default_factory=dict)         # variant -> {g: rate Interval}
    crossing: float | None = None                     # gain where tanh's rate at init turns positive
    margin: float = CHANCE_MARGIN


def _crossing(points: list[tuple[float, float]]) -> float | None:
    for (g0, r0), (g1, r1) in zip(points, points[1:]):
        if r0 < 0 <= r1:
            t = -r0 / (r1 - r0)
            return float(math.exp(math.log(g0) + t * (math.log(g1) - math.log(g0))))
    return None


def decide(ctx: Context) -> Outcome:
    ctx.require(["gain_train"])
    table = keyed(config_outcomes(ctx, "gain_train"), "gain")
    if 1.0 not in table or len(table) < 3:
        raise Undecidable("'gain_train' needs g = 1 and a gain on each side of it", ["gain_train"])
    centre = table[1.0]
    steps = budget_of(ctx, "gain_train")
    numbers = Numbers(length=centre.config.length, steps=steps, chance=centre.chance)
    init_rates = keyed({c: r["rate"] for c, r in rates(ctx, "gain_train").items()}, "gain")
    others = [o for g, o in table.items() if g != 1.0]
    # g = 1 fails only beside another gain that learns (the same task and budget).
    learner = next((o for o in others if o.learns is True), None)
    parts = []
    centre_state = learns_given(centre, learner)
    parts.append(Part("centre", f"g = 1 trains: most seeds learn length {numbers.length} within {steps} steps",
                      centre_state, reads=(centre.config,), core=True,
                      detail=f"{of(centre.learned)} seeds learn at g = 1"))
    for g, o in sorted(table.items()):
        state = centre_state if g == 1.0 else learns_given(o, centre)
        grows = above(init_rates.get(g), 0.0)
        numbers.by_gain[g] = {"acc": o.score, "learned": o.learned, "init_rate": init_rates.get(g), "state": state,
                              "counts": o.counts, "key": "centre" if g == 1.0 else f"gain_{num(g)}"}
        (numbers.window if state else numbers.outside if state is False else numbers.open).append(g)
        if grows:
            numbers.growing.append(g)
        if g != 1.0:
            parts.append(Part(f"gain_{num(g)}", f"at g = {num(g)} most seeds learn within {steps} steps", state,
                              reads=with_control(centre, o.config), core=False, detail=f"{of(o.learned)} seeds learn"))
    numbers.small, numbers.large = min(table), max(table)
    for side, g in (("vanishing", numbers.small), ("exploding", numbers.large)):
        # The side is what the gradient did at initialisation, measured in these very cells.
        on_side = (below if side == "vanishing" else above)(init_rates.get(g), 0.0)
        state = fails_given(table[g], centre) if on_side else None
        detail = (f"{of(table[g].failed)} seeds fail and {of(table[g].learned)} learn at g = {num(g)}; "
                  f"{of(centre.learned)} learn at g = 1")
        if not on_side:
            detail += (f"; at g = {num(g)} the gradient did not {'shrink' if side == 'vanishing' else 'grow'} with "
                       "distance at initialisation, so this gain does not test the claim")
        parts.append(Part(side, f"at g = {num(g)}, where the gradient {'vanishes' if side == 'vanishing' else 'grows'}, "
                          f"most seeds fail within {steps} steps", state, reads=with_control(centre, table[g].config),
                          core=True, detail=detail))
    if ctx.has("gain_sweep"):
        for (variant, gain), r in keyed(rates(ctx, "gain_sweep"), "variant", "gain").items():
            numbers.sweep.setdefault(variant, {})[gain] = r["rate"]
        tanh = sorted((g, r.mean) for g, r in numbers.sweep.get("tanh", {}).items() if math.isfinite(r.mean))
        numbers.crossing = _crossing(tanh)
    headline = (f"Tanh RNN at length {numbers.length}, {steps} steps: seeds that learn " + ", ".join(
        f"{of(d['learned'])} at g = {num(g)}" for g, d in numbers.by_gain.items()))
    return Outcome(parts, numbers, headline, "; ".join(p.detail for p in parts if p.core),
                   [e for e in SPEC.needs if ctx.has(e)])


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    out = []
    gains = sorted(n.by_gain)
    series = [{"label": "tanh RNN, W_hh = g·Q", "slot": 0, "x": gains, "mean": [n.by_gain[g]["acc"].mean for g in gains],
               "lo": [n.by_gain[g]["acc"].lo for g in gains], "hi": [n.by_gain[g]["acc"].hi for g in gains]}]
    out += ctx.figure(
        "train", lambda: figures.score_vs_x(series, chance=n.chance, xlabel="gain g", ylabel="recall accuracy", logx=True),
        f"Final recall accuracy at length {n.length} after {n.steps} steps, against the gain g of W_hh = g·Q (mean "
        "over seeds with its interval); dotted: chance.",
        "Accuracy against gain: " + "; ".join(f"{num(n.by_gain[g]['acc'].mean, 2)} at g = {num(g)}" for g in gains) + ".")
    if n.sweep:
        series = []
        for v, by_gain in n.sweep.items():
            gs = sorted(by_gain)
            series.append({"label": "identity (linear RNN)" if v == "identity" else f"{v} RNN",
                           "slot": {"tanh": 0, "identity": 2}.get(v, 1), "x": [math.log(g) for g in gs],
                           "mean": [by_gain[g].mean for g in gs], "lo": [by_gain[g].lo for g in gs],
                           "hi": [by_gain[g].hi for g in gs]})
        out += ctx.figure(
            "sweep", lambda: rate_vs_theory(series),
            "Measured per-step rate of log‖∂L/∂h_k‖ at initialisation against log(γ·g) for W_hh = g·Q (mean over seeds "
            "with its interval). Dotted: the bound rate = log(γ·g), exact for the linear RNN (check K3).",
            "Rate against log gain" + (f"; tanh's rate turns positive near g = {num(n.crossing)}." if n.crossing else "."))
    return out
