"""Finding C8: activations that shrink the gradient less help a plain RNN solve a long dependency.

With the same orthogonal W_hh, each step multiplies the gradient by diag(φ′(a_j)) and a rotation, so
the squared norm shrinks per step by about the mean of φ′² along the trajectory: the mean-field
prediction r ≈ ½·log mean φ′². Part (a) tests that prediction for each nonlinear activation (the
identity's r = 0 is a theorem, check K3); (b) asks, at each sequence length of 'activation', whether
slower decay goes with solving more often, over every pair of activations whose decay rates differ:
one-sided Fisher exact tests of the shares of seeds that solve, in each direction, with Holm's
correction over all pairs of all lengths (so a tie at the ceiling, both arms solving, is never a
refutation). One core part per length, so the claim holds across lengths or says where it does not;
the initialisation is one (orthogonal). (a) is context (the mechanism), (b) the claim.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ...configs import KEY
from ..base import Config, Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import above, both, holm, share_greater_p, welch
from ..tables import SOLVED, budget_of, config_outcomes, keyed, mean_scalar, rates
from .figures import derivative_ranges, rate_vs_accuracy

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
NONLINEAR = ("sigmoid", "tanh", "relu")
REL_TOL, ABS_TOL = 0.25, 0.01  # a mean-field prediction is "right" within 25% (or 0.01 per step)

SPEC = Spec(
    id="C8", kind="finding", title="Within the training budget, activations that shrink the gradient less train better",
    claim="Activations less prone to shrinking gradients help.",
    criterion=("Experiment 'activation' (the same orthogonal W_hh for sigmoid, tanh, ReLU, identity, at each length it "
               "sweeps). (a) Context: each nonlinear activation's decay rate at initialisation lies within "
               f"±{REL_TOL:.0%} (at least ±{ABS_TOL}) of the mean-field prediction ½·log mean φ′²; refuted wholly outside. "
               "(b) Core, one part per length, one clause: over every pair of activations whose decay rates differ (Welch "
               "interval excludes 0), one-sided Fisher exact tests of the shares of seeds that solve, in each direction, "
               "Holm over all pairs of all lengths at the look's level; a length holds when some pair shows the slower "
               "decay solving in more seeds and none the faster; refuted when one does."),
    needs={"activation": ACTIVATIONS},
    clauses={"trains": "activations that shrink the gradient less solve a long dependency more often"},
    question='Within the training budget, do activations that shrink the gradient less train better?',
    found={
        'trains': {
            'holds': 'within the training budget, activations that shrink the gradient less trained better',
            'refuted': 'within the training budget, at {held} every decided pair favoured the slower-decaying activation; at {refuted} some pair favoured the faster',
            'untested': 'whether they train better was not decided',
        },
    })


@dataclass
class Numbers:
    length: int = 0                                    # the shortest length (the prediction and the figures)
    lengths: list = field(default_factory=list)        # every length of the experiment
    chance: float = math.nan
    activations: dict = field(default_factory=dict)   # name -> {label, rate, predicted, deriv..., acc, solved}
    by_length: dict = field(default_factory=dict)      # length -> {name: {rate, acc, solved, above}}
    pairs: list = field(default_factory=list)          # {length, slower, faster, rate_diff, p_ahead, p_behind, ...}
    untested: list = field(default_factory=list)       # undecided pairs where neither activation solved in any seed
    concordant: int = 0
    tanh_by_length: dict = field(default_factory=dict)  # length -> mean rate at init of that tanh model (MODEL), any experiment
    discordant: int = 0
    tolerance: float = REL_TOL
    solved_bar: float = SOLVED
    steps: int = 0
    init: str = "orthogonal"


MODEL = ["arch", "activation", "init", "gain", "hidden"]  # what makes two cells the same model, whatever their label


def _probed(ctx: Context, exp: str) -> bool:
    """Whether an experiment recorded gradient probes at initialisation (a rate needs them)."""
    rows = ctx.part(exp)
    return bool(((rows["stage"] == "init") & (rows["metric"] == "grad_norm_state")).any())


def _same_model_by_length(ctx: Context, model: dict) -> dict:
    """The mean decay rate at initialisation of one model configuration (MODEL: architecture,
    activation, init, gain, width), per sequence length, pooled over the seeds of every experiment
    of the build that probed it, whatever each experiment calls it (the exercise on length reads it)."""
    pooled: dict[int, list[float]] = {}
    for exp in sorted(ctx.present):
        if not _probed(ctx, exp):  # an experiment without gradient probes has no rates
            continue
        rows = ctx.part(exp)
        same = np.isclose(rows["gain"], model["gain"])
        for key in ("arch", "activation", "init", "hidden"):
            same &= rows[key] == model[key]
        configs = {Config.of(r) for r in rows.loc[same, KEY].drop_duplicates().to_dict("records")}
        for c, row in rates(ctx, exp).items():
            if c in configs:
                pooled.setdefault(c.length, []).extend(r for r in row["per_seed"] if math.isfinite(r))
    return {length: float(np.mean(values)) for length, values in sorted(pooled.items()) if len(values) >= 2}


def _pairs(ctx: Context, length: int, table: dict, trained: dict) -> list[dict]:
    """The pairs of activations at one length whose decay rates at initialisation differ, with the
    one-sided Fisher p-values of each solving in more seeds than the other."""
    out = []
    for a, b in itertools.combinations([a for a in ACTIVATIONS if a in table and a in trained], 2):
        diff = welch(table[a]["per_seed"], table[b]["per_seed"], ctx.init_level)
        order = above(diff, 0.0)
        if order is None:
            continue
        slower, faster = (a, b) if order else (b, a)
        s, f = trained[slower], trained[faster]
        if s.n < 2 or f.n < 2:
            continue
        out.append({"length": length, "slower": slower, "faster": faster, "rate_diff": abs(diff.mean),
                    "solved_slower": s.solved, "solved_faster": f.solved,
                    "p_ahead": share_greater_p(s.solved.k, s.n, f.solved.k, f.n),
                    "p_behind": share_greater_p(f.solved.k, f.n, s.solved.k, s.n)})
    return out


def decide(ctx: Context) -> Outcome:
    ctx.require(["activation"])
    by_config = rates(ctx, "activation")
    lengths = sorted({c.length for c in by_config})
    tables = {T: keyed({c: r for c, r in by_config.items() if c.length == T}, "variant") for T in lengths}
    outcomes = {T: keyed({c: o for c, o in config_outcomes(ctx, "activation").items() if c.length == T}, "variant")
                for T in lengths}
    shortest = lengths[0] if lengths else 0
    table = tables.get(shortest, {})
    acts = [a for a in ACTIVATIONS if a in table]
    if len(acts) < 2:
        raise Undecidable("fewer than two activations measured", ["activation"])
    numbers = Numbers(length=shortest, lengths=lengths, steps=budget_of(ctx, "activation"))
    parts = []
    agree = []
    for a in acts:
        sq = mean_scalar(ctx, "activation", "act_deriv_sq_mean", a, length=shortest)
        predicted = 0.5 * math.log(sq) if sq > 0 else -math.inf
        r = table[a]["rate"]
        outcome = outcomes[shortest].get(a)
        entry = {"label": ctx.describe("activation", a), "rate": r, "predicted": predicted, "sq": sq,
                 "deriv_mean": mean_scalar(ctx, "activation", "act_deriv_mean", a, length=shortest),
                 "deriv_p10": mean_scalar(ctx, "activation", "act_deriv_p10", a, length=shortest),
                 "deriv_p50": mean_scalar(ctx, "activation", "act_deriv_p50", a, length=shortest),
                 "deriv_p90": mean_scalar(ctx, "activation", "act_deriv_p90", a, length=shortest),
                 "frac_small": mean_scalar(ctx, "activation", "act_deriv_frac_small", a, length=shortest)}
        if outcome is not None:
            numbers.chance = outcome.chance
            entry.update({"acc": outcome.score, "solved": outcome.solved, "scores": outcome.scores})
        if a in NONLINEAR:
            if math.isfinite(predicted) and r.known:
                tol = max(REL_TOL * abs(predicted), ABS_TOL)
                state = (True if predicted - tol <= r.lo and r.hi <= predicted + tol else
                         False if r.lo > predicted + tol or r.hi < predicted - tol else None)
            else:
                state = None
            entry["matches"] = state
            agree.append(state)
        numbers.activations[a] = entry
    parts.append(Part("prediction", f"at length {shortest}, each nonlinear activation's decay rate matches "
                      "½·log mean φ′²", both(*agree), training=False, core=False,
                      detail="; ".join(f"{a}: measured {num(numbers.activations[a]['rate'].mean)}, predicted "
                                       f"{num(numbers.activations[a]['predicted'])}" for a in acts if a in NONLINEAR)))
    for T in lengths:
        numbers.by_length[T] = {a: {"rate": tables[T][a]["rate"], "acc": o.score, "solved": o.solved, "above": o.above}
                                for a, o in outcomes[T].items() if a in tables[T]}
    if "tanh" in table:
        tanh = ctx.part("activation")
        numbers.tanh_by_length = _same_model_by_length(ctx, tanh[tanh["variant"] == "tanh"].iloc[0][MODEL].to_dict())
    candidates = [c for T in lengths for c in _pairs(ctx, T, tables[T], outcomes[T])]
    alpha = ctx.alpha_for("activation")
    ahead = holm([c["p_ahead"] for c in candidates], alpha)
    behind = holm([c["p_behind"] for c in candidates], alpha)
    for c, a, b in zip(candidates, ahead, behind):
        c["significant"] = a or b
        c["agrees"] = a
        c["disagrees"] = b
    numbers.pairs = candidates
    # A pair where neither arm solved in any seed compares two runs that never solved: it tests nothing.
    numbers.untested = [c for c in candidates if not c["significant"]
                        and c["solved_slower"].k == 0 and c["solved_faster"].k == 0]
    numbers.concordant = sum(c["agrees"] for c in candidates)
    numbers.discordant = sum(c["disagrees"] for c in candidates)
    for T in lengths:
        mine = [c for c in candidates if c["length"] == T]
        agrees, disagrees = sum(c["agrees"] for c in mine), sum(c["disagrees"] for c in mine)
        state = False if disagrees else (True if agrees else None)
        parts.append(Part(f"trainability_{T}", f"length {T}: the activation whose gradient decays more slowly solves "
                          "in more seeds, in some pair, and the other way round in none", state, core=True,
                          clause="trains", reads=tuple(o.config for o in outcomes[T].values()),
                          detail=f"{agrees} pairs agree, {disagrees} disagree, {len(mine) - agrees - disagrees} "
                                 "undecided (Holm over every pair of every length)"))
    ranked = sorted(acts, key=lambda a: -numbers.activations[a]["rate"].mean)
    headline = ("Gradient decay per step, slowest first: " + ", ".join(
        f"{a} {num(numbers.activations[a]['rate'].mean, 2)}" for a in ranked)
        + "; seeds that solve " + "; ".join(
            f"at length {T}: " + ", ".join(f"{a} {of(d['solved'])}" for a, d in numbers.by_length[T].items())
            for T in lengths))
    return Outcome(parts, numbers, headline, "; ".join(p.detail for p in parts), ["activation"])


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    slots = ctx.slots("activation", list(n.activations))
    rows = [{"label": a, "slot": slots[a], "p10": d["deriv_p10"], "p50": None if a == "relu" else d["deriv_p50"],
             "p90": d["deriv_p90"], "mean": d["deriv_mean"]} for a, d in n.activations.items()]
    out = ctx.figure(
        "derivatives", lambda: derivative_ranges(rows),
        "Distribution of the activation's derivative φ′(a_j) along the probe trajectories at initialisation (averaged "
        "over seeds): 10th–90th percentile (bar), median (tick) and mean (marker). Each step multiplies the "
        "backpropagated gradient by these numbers.",
        "Derivative ranges per activation; means: " + "; ".join(f"{r['label']} {num(r['mean'], 2)}" for r in rows) + ".")
    longer = [T for T in n.lengths if T != n.length]
    points = [{"label": a, "slot": slots[a], "rate": d["rate"].mean, "acc": d["acc"].mean, "acc_lo": d["acc"].lo,
               "acc_hi": d["acc"].hi,
               "longer": [{"length": T, "acc": n.by_length[T][a]["acc"].mean, "acc_lo": n.by_length[T][a]["acc"].lo,
                           "acc_hi": n.by_length[T][a]["acc"].hi} for T in longer if a in n.by_length.get(T, {})]}
              for a, d in n.activations.items() if "acc" in d]
    if points:
        at = " and ".join(f"length {T}" for T in [n.length] + longer)
        out += ctx.figure(
            "trainability", lambda: rate_vs_accuracy(points, chance=n.chance, length=n.length),
            f"Final recall accuracy (mean over seeds with its interval) against the per-step decay rate of the gradient "
            f"at initialisation, at length {n.length} (filled, named)"
            + "".join(f" and at length {T} (hollow, joined to its activation's filled marker)" for T in longer)
            + "; dotted: chance (horizontal) and rate 0, no decay (vertical). Markers that would touch are set a few "
            "points apart sideways. What to see: " + _what_to_see(n, longer),
            f"Accuracy against decay rate at {at}: " + "; ".join(
                f"{p['label']}: rate {num(p['rate'])}, accuracy {num(p['acc'], 2)}"
                + "".join(f" (length {m['length']}: {num(m['acc'], 2)})" for m in p["longer"]) for p in points) + ".")
    return out


def _what_to_see(n, longer: list) -> str:
    """The caption's last sentence: where each activation's accuracy went from the shortest length to the
    longest, and each decided pair at the longest that favoured the faster-decaying activation."""
    if not longer:
        return "the activations whose gradient decays slowly sit to the right; whether they are also higher."
    last = longer[-1]
    moved, flat = [], []
    for a in n.by_length[n.length]:
        if a not in n.by_length.get(last, {}):
            continue
        first, end = n.by_length[n.length][a], n.by_length[last][a]
        if first["above"].k == 0 and end["above"].k == 0:
            flat.append(a)
        else:
            moved.append(f"{a} {num(first['acc'].mean, 2)} → {num(end['acc'].mean, 2)}")
    parts = []
    if moved:
        parts.append(f"from length {n.length} to {last}, accuracy " + ", ".join(moved))
    if flat:
        parts.append(" and ".join(flat) + (" have" if len(flat) > 1 else " has") + " no seed above chance at either length")
    for pair in n.pairs:  # the decided pairs that went the other way (the core part's refutation)
        if pair["length"] == last and pair["disagrees"]:
            parts.append(f"at length {last}, {pair['slower']} decays more slowly than {pair['faster']} yet solved in "
                         f"fewer seeds ({pair['solved_slower'].k} of {pair['solved_slower'].n} against {pair['solved_faster'].k} of "
                         f"{pair['solved_faster'].n})")
    return "; ".join(parts) + "."
