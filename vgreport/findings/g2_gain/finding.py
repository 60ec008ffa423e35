"""Finding G2: the gain of an orthogonal W_hh = g·Q decides trainability: a window of gains trains.

Stated over every gain of the sweep, not one pair, in three clauses: (window) g = 1 is solved and
the gains solved by most seeds form one contiguous run of the sweep (a gain between two solved
gains that most seeds do not solve, beside g = 1 solving, is a hole and refutes it); (vanishing)
the smallest gain, where the gradient at initialisation shrinks, is not solved; (exploding) the
smallest gain above the window where the gradient at initialisation grows and most seeds are
unsolved: the window's upper edge, declared untested when no gain of the sweep is found there. A
gain's failure counts only beside g = 1 solving at the same length and budget (the positive control);
otherwise it is budget-limited. The runs train with Adam, which rescales each weight's update by its
own gradient history: it, not clipping (C9), is what keeps a growing gradient's steps bounded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import above, below
from ..tables import (
    CHANCE_MARGIN,
    SOLVED,
    budget_of,
    config_outcomes,
    keyed,
    rates,
    solves_given,
    unsolved_given,
    with_control,
)
from .figures import rate_vs_theory

SPEC = Spec(
    id="G2", kind="finding", title="Within the training budget, gains near the critical gain train",
    claim=("With W_hh = g·Q (Q orthogonal), the tanh RNN trains within a window of gains that contains g = 1; a gain "
           "far enough on the vanishing side or the exploding side does not train."),
    criterion=("Experiment 'gain_train' (tanh RNN, W_hh = g·Q, a short run at each gain). A gain is in the window when "
               "most seeds solve it, outside when most do not beside g = 1 solving (its control; else budget-limited). "
               "Core: (a) g = 1 is solved (refuted when most of its seeds are not while another gain is solved); (b) the "
               "solved gains are contiguous (refuted by a gain between two solved ones that most seeds do not solve); "
               "(c) the smallest gain, where the gradient at initialisation shrinks, is not solved; (d) above the window, "
               "a gain where the gradient at initialisation grows is not solved (the upper edge; when no gain of the "
               "sweep lies there, that clause is untested). Clauses: window (a, b), vanishing (c), exploding (d). "
               "Context: each gain, and where the rate at initialisation crosses 0."),
    needs={"gain_train": ("tanh",), "gain_sweep": ("tanh", "identity")},
    clauses={"window": "a window of gains containing g = 1 trains",
             "vanishing": "far enough on the vanishing side a gain does not train",
             "exploding": "far enough on the exploding side a gain does not train"},
    question='Does a window of gains around the critical gain train?',
    found={
        'window': {
            'holds': 'a window of gains around g = 1 trained',
            'refuted': 'no window of gains around g = 1 trained',
            'untested': 'whether a window around g = 1 trains was not decided',
        },
        'vanishing': {
            'holds': 'a gain far on the vanishing side did not train',
            'refuted': 'even the smallest gain trained',
            'untested': 'the smallest gain was not decided',
        },
        'exploding': {
            'holds': 'a gain far on the exploding side did not train',
            'refuted': 'even the largest gain trained',
            'untested': 'the largest gain was not decided',
        },
    })


@dataclass
class Numbers:
    length: int = 0
    steps: int = 0
    chance: float = math.nan
    by_gain: dict = field(default_factory=dict)       # g -> {acc, solved, above, init_rate, state}
    small: float = math.nan
    large: float = math.nan
    window: list = field(default_factory=list)        # gains whose seeds solve
    outside: list = field(default_factory=list)       # gains whose seeds are unsolved (beside g = 1 solving)
    open: list = field(default_factory=list)          # gains not decided
    holes: list = field(default_factory=list)         # unsolved gains between two solved ones
    edge: float | None = None                         # the window's upper edge found (a gain), or None
    growing: list = field(default_factory=list)       # gains whose gradient grows at initialisation
    sweep: dict = field(default_factory=dict)         # variant -> {g: rate Interval}
    crossing: float | None = None                     # gain where tanh's rate at init turns positive
    margin: float = CHANCE_MARGIN
    solved_bar: float = SOLVED
    untested: str = ""                                # why the exploding clause is untested ("" when tested)


def _crossing(points: list[tuple[float, float]]) -> float | None:
    for (g0, r0), (g1, r1) in zip(points, points[1:]):
        if r0 < 0 <= r1:
            t = -r0 / (r1 - r0)
            return float(math.exp(math.log(g0) + t * (math.log(g1) - math.log(g0))))
    return None


def _contiguous(table: dict, states: dict, centre) -> tuple[bool | None, list, str]:
    """Whether the solved gains form one run of consecutive gains of the sweep: True when at least two are
    solved and every gain between the smallest and the largest is solved; False when one of them is mostly
    unsolved beside g = 1 solving (a hole); None otherwise. Returns the state, the holes and a detail."""
    solved = sorted(g for g, s in states.items() if s is True)
    if len(solved) < 2:
        return None, [], f"{len(solved)} gain{'s' if len(solved) != 1 else ''} solved: no run to test"
    inside = [g for g in sorted(table) if solved[0] < g < solved[-1] and g not in solved]
    holes = [g for g in inside if unsolved_given(table[g], centre) is True]
    if holes:
        return False, holes, f"unsolved between solved gains: g = {', '.join(num(g) for g in holes)}"
    if inside:
        return None, [], f"undecided between solved gains: g = {', '.join(num(g) for g in inside)}"
    return True, [], f"solved gains g = {', '.join(num(g) for g in solved)}, none missing between"


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
    # g = 1 fails only beside another gain that solves (the same task and budget).
    solver = next((o for o in others if o.solves is True), None)
    parts = []
    centre_state = solves_given(centre, solver)
    parts.append(Part("centre", f"g = 1 trains: most seeds solve length {numbers.length} within {steps} steps",
                      centre_state, reads=(centre.config,), core=True, clause="window", evidence=centre.solved,
                      detail=f"{of(centre.solved)} seeds solve at g = 1"))
    states = {}
    for g, o in sorted(table.items()):
        state = centre_state if g == 1.0 else solves_given(o, centre)
        states[g] = state
        if above(init_rates.get(g), 0.0):
            numbers.growing.append(g)
        numbers.by_gain[g] = {"acc": o.score, "solved": o.solved, "above": o.above, "init_rate": init_rates.get(g),
                              "state": state, "counts": o.counts, "key": "centre" if g == 1.0 else f"gain_{num(g)}"}
        (numbers.window if state else numbers.outside if state is False else numbers.open).append(g)
        if g != 1.0:
            parts.append(Part(f"gain_{num(g)}", f"at g = {num(g)} most seeds solve within {steps} steps", state,
                              reads=with_control(centre, o.config), core=False, detail=f"{of(o.solved)} seeds solve"))
    contiguous, numbers.holes, detail = _contiguous(table, states, centre)
    solved = sorted(g for g, s in states.items() if s is True)
    between = tuple(table[g].config for g in table if solved and solved[0] < g < solved[-1] and states[g] is None)
    parts.append(Part("contiguous", "the gains solved by most seeds are contiguous: no gain between two of them is "
                      "mostly unsolved", contiguous, reads=with_control(centre, *between), core=True, clause="window",
                      detail=detail))
    numbers.small, numbers.large = min(table), max(table)
    # (c) the vanishing side: the smallest gain, where the gradient at initialisation shrinks (in these very cells)
    g = numbers.small
    shrinks = below(init_rates.get(g), 0.0)
    parts.append(Part("vanishing", f"at g = {num(g)}, where the gradient vanishes, most seeds do not solve within {steps} "
                      "steps", unsolved_given(table[g], centre) if shrinks else None, core=True, clause="vanishing",
                      reads=with_control(centre, table[g].config), evidence=table[g].unsolved,
                      detail=f"{of(table[g].solved)} seeds solve at g = {num(g)}; {of(centre.solved)} at g = 1"
                             + ("" if shrinks else f"; at g = {num(g)} the gradient did not shrink with distance at "
                                                    "initialisation, so this gain does not test the claim")))
    # (d) the exploding side: the smallest gain above the window where the gradient grows and most seeds are unsolved
    top = max(solved) if solved else 1.0
    candidates = [g for g in sorted(table) if g > top and g in numbers.growing]
    found = [g for g in candidates if unsolved_given(table[g], centre) is True]
    untested = {}
    if found:
        numbers.edge = found[0]
        state, reads = True, ()
        detail = f"{of(table[found[0]].solved)} seeds solve at g = {num(found[0])}; {of(centre.solved)} at g = 1"
    elif candidates:
        state, reads = None, with_control(centre, *(table[g].config for g in candidates))
        detail = "undecided at g = " + ", ".join(f"{num(g)} ({of(table[g].solved)} solve)" for g in candidates)
    else:
        state, reads = None, ()
        numbers.untested = (f"no upper edge found up to g = {num(numbers.large)}: no gain of the sweep above the window "
                            "has a growing gradient and mostly unsolved seeds")
        untested["exploding"] = numbers.untested
        detail = numbers.untested
    parts.append(Part("exploding", f"above the window, a gain where the gradient grows at initialisation is not solved "
                      f"within {steps} steps", state, reads=reads, core=True, clause="exploding",
                      evidence=table[numbers.edge].unsolved if numbers.edge is not None else None, detail=detail))
    if ctx.has("gain_sweep"):
        for (variant, gain), r in keyed(rates(ctx, "gain_sweep"), "variant", "gain").items():
            numbers.sweep.setdefault(variant, {})[gain] = r["rate"]
        tanh = sorted((g, r.mean) for g, r in numbers.sweep.get("tanh", {}).items() if math.isfinite(r.mean))
        numbers.crossing = _crossing(tanh)
    headline = (f"Tanh RNN at length {numbers.length}, {steps} steps: seeds that solve " + ", ".join(
        f"{of(d['solved'])} at g = {num(g)}" for g, d in numbers.by_gain.items()))
    return Outcome(parts, numbers, headline, "; ".join(p.detail for p in parts if p.core),
                   [e for e in SPEC.needs if ctx.has(e)], untested=untested)


def _window(by_gain: dict, gains: list) -> str:
    """The figure's point in one sentence, from the records: both ends and the best gain."""
    best = max(gains, key=lambda g: by_gain[g]["acc"].mean)
    ties = [g for g in gains if num(by_gain[g]["acc"].mean, 2) == num(by_gain[best]["acc"].mean, 2)]
    run = gains[gains.index(ties[0]):gains.index(ties[-1]) + 1] == ties  # tied gains side by side: a range
    where = (f"g = {num(ties[0])}" + (f" to {num(ties[-1])}" if len(ties) > 1 else "") if run
             else ", ".join(f"g = {num(g)}" for g in ties))
    return (f"mean accuracy {num(by_gain[gains[0]]['acc'].mean, 2)} at g = {num(gains[0])}, "
            f"{num(by_gain[best]['acc'].mean, 2)} at {where} (the highest) and "
            f"{num(by_gain[gains[-1]]['acc'].mean, 2)} at g = {num(gains[-1])}.")


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    out = []
    gains = sorted(n.by_gain)
    series = [{"label": "tanh RNN, W_hh = g·Q", "slot": 0, "x": gains, "mean": [n.by_gain[g]["acc"].mean for g in gains],
               "lo": [n.by_gain[g]["acc"].lo for g in gains], "hi": [n.by_gain[g]["acc"].hi for g in gains]}]
    out += ctx.figure(
        "train", lambda: figures.score_vs_x(series, chance=n.chance, xlabel="gain g", ylabel="recall accuracy", logx=True),
        f"Recall accuracy at length {n.length} after {n.steps} steps against the gain g of W_hh = g·Q (mean with its interval; "
        "log scale); dotted: chance. What to see: " + _window(n.by_gain, gains),
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
