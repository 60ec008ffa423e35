"""Finding G2: the gain of an orthogonal W_hh = g·Q decides trainability, best near γ·g = 1.

At initialisation, 'gain_sweep' shows how the per-step rate follows log(γ·g) (exactly so for the
linear RNN: check K3). The finding is about training: a short run at each gain, where a gain on the
vanishing side (g < 1) and one on the exploding side (g > 1) should both train worse than g = 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num
from ..stats import above, below, welch
from ..tables import CHANCE_MARGIN, config_outcomes, rates

SPEC = Spec(
    id="G2", kind="finding", title="Training is best near the critical gain γ·g = 1",
    claim=("With W_hh = g·Q (Q orthogonal), a gain that makes the gradient vanish (γ·g < 1) or explode (γ·g > 1) "
           "trains worse than the critical gain γ·g = 1."),
    criterion=("Experiment 'gain_train' (tanh RNN, W_hh = g·Q, a short training run per gain): (a) at the smallest "
               "gain, where the gradient measured at initialisation shrinks with distance (its rate interval below 0), "
               "the mean final accuracy is lower than at g = 1; (b) at the largest gain, where it grows (rate interval "
               "above 0), likewise. Each is a Welch interval of the difference (g = 1 minus the other) above 0, refuted "
               "below 0, and undetermined when the gain is not on the side it should test. 'gain_sweep' adds, without a "
               "verdict, how the rate at initialisation follows the gain. Supported when both hold, partly when one does."),
    needs={"gain_train": ("tanh",), "gain_sweep": ("tanh", "identity")})


@dataclass
class Numbers:
    length: int = 0
    chance: float = math.nan
    by_gain: dict = field(default_factory=dict)       # g -> {acc, learned}
    small: float = math.nan
    large: float = math.nan
    vs_small: object = None
    vs_large: object = None
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
    table = {c.gain: o for c, o in config_outcomes(ctx, "gain_train").items()}
    if 1.0 not in table or len(table) < 3:
        raise Undecidable("'gain_train' needs g = 1 and a gain on each side of it", ["gain_train"])
    numbers = Numbers(length=table[1.0].config.length, chance=table[1.0].chance)
    init_rates = {c.gain: r["rate"] for c, r in rates(ctx, "gain_train").items()}
    numbers.by_gain = {g: {"acc": o.score, "learned": o.learned, "init_rate": init_rates.get(g)}
                       for g, o in sorted(table.items())}
    numbers.small, numbers.large = min(table), max(table)
    centre = table[1.0]
    parts = []
    for side, g in (("vanishing", numbers.small), ("exploding", numbers.large)):
        diff = welch(centre.scores, table[g].scores, ctx.level_for("gain_train"))
        setattr(numbers, "vs_small" if side == "vanishing" else "vs_large", diff)
        # The side is what the gradient did at initialisation, measured in these very cells.
        on_side = (below if side == "vanishing" else above)(init_rates.get(g), 0.0)
        state = above(diff, 0.0) if on_side else None
        detail = (f"accuracy {num(centre.score.mean, 2)} against {num(table[g].score.mean, 2)} (difference "
                  f"{num(diff.mean, 2)} [{num(diff.lo, 2)}, {num(diff.hi, 2)}])")
        if not on_side:
            detail += (f"; but at g = {num(g)} the gradient did not {'shrink' if side == 'vanishing' else 'grow'} "
                       "with distance at initialisation, so this gain does not test the claim")
        parts.append(Part(side, f"g = 1 trains better than g = {num(g)}, where the gradient "
                          f"{'vanishes' if side == 'vanishing' else 'explodes'}", state,
                          reads=(centre.config, table[g].config), detail=detail))
    if ctx.has("gain_sweep"):
        for c, r in rates(ctx, "gain_sweep").items():
            numbers.sweep.setdefault(c.variant, {})[c.gain] = r["rate"]
        tanh = sorted((g, r.mean) for g, r in numbers.sweep.get("tanh", {}).items() if math.isfinite(r.mean))
        numbers.crossing = _crossing(tanh)
    headline = (f"Tanh RNN at length {numbers.length}: final accuracy " + ", ".join(
        f"{num(d['acc'].mean, 2)} at g = {num(g)}" for g, d in numbers.by_gain.items()))
    return Outcome(parts, numbers, headline, "; ".join(p.detail for p in parts),
                   [e for e in SPEC.needs if ctx.has(e)])


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    out = []
    gains = sorted(n.by_gain)
    series = [{"label": "tanh RNN, W_hh = g·Q", "slot": 0, "x": gains, "mean": [n.by_gain[g]["acc"].mean for g in gains],
               "lo": [n.by_gain[g]["acc"].lo for g in gains], "hi": [n.by_gain[g]["acc"].hi for g in gains]}]
    out += ctx.figure(
        "train", lambda: figures.score_vs_x(series, chance=n.chance, xlabel="gain g", ylabel="recall accuracy", logx=True),
        f"Final recall accuracy at length {n.length} after a short training run, against the gain g of W_hh = g·Q (mean "
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
            "sweep", lambda: figures.rate_vs_theory(series),
            "Measured per-step rate of log‖∂L/∂h_k‖ at initialisation against log(γ·g) for W_hh = g·Q (mean over seeds "
            "with its interval). Dotted: the bound rate = log(γ·g), exact for the linear RNN (check K3).",
            "Rate against log gain" + (f"; tanh's rate turns positive near g = {num(n.crossing)}." if n.crossing else "."))
    return out
