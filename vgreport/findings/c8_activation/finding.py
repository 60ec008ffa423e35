"""Finding C8: activations that shrink the gradient less help a plain RNN learn.

With the same orthogonal W_hh, each step multiplies the gradient by diag(φ′(a_j)) and a rotation, so
the squared norm shrinks per step by about the mean of φ′² along the trajectory: the mean-field
prediction r ≈ ½·log mean φ′². Part (a) tests that prediction for each nonlinear activation (the
identity's r = 0 is a theorem, check K3); part (b) asks whether slower decay goes with better
training, over every pair of activations whose decay rates differ, with a stated margin: a pair
counts only when one activation's mean final accuracy exceeds the other's by more than MARGIN (one-
sided Welch tests against the margin, Holm over the pairs), so two activations at the ceiling
(0.976 against 1.000) are a tie, never a refutation. (a) is context (the mechanism), (b) the claim.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ...configs import KEY
from ..base import Config, Context, Outcome, Part, Spec, Undecidable, num
from ..stats import above, holm, welch, welch_p_greater
from ..tables import budget_of, config_outcome, keyed, mean_scalar, rates
from .figures import derivative_ranges, rate_vs_accuracy

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
NONLINEAR = ("sigmoid", "tanh", "relu")
REL_TOL, ABS_TOL = 0.25, 0.01  # a mean-field prediction is "right" within 25% (or 0.01 per step)
MARGIN = 0.1  # an accuracy difference that counts: more than 0.1 (ties within it, e.g. both near the ceiling)

SPEC = Spec(
    id="C8", kind="finding", title="Within the training budget, activations that shrink the gradient less train better",
    claim="Activations less prone to shrinking gradients help.",
    criterion=("Experiment 'activation' (the same orthogonal W_hh for sigmoid, tanh, ReLU, identity). (a) For each "
               "nonlinear activation the fitted per-step decay rate at initialisation agrees with the mean-field "
               f"prediction ½·log mean φ′² along the trajectories: its 95% interval lies within ±{REL_TOL:.0%} of the "
               f"prediction (at least ±{ABS_TOL}); refuted when it lies wholly outside (context). (b) Over every pair of "
               "activations whose decay rates differ (Welch interval of the rate difference excludes 0), the one that "
               f"decays more slowly trains to a final accuracy more than {MARGIN} higher: one-sided Welch tests against the "
               f"margin {MARGIN}, in each direction, with Holm's correction over the pairs; holds when at least one pair "
               f"shows the slower-decaying activation ahead by more than {MARGIN} and none shows the faster one ahead by "
               f"more than {MARGIN}; refuted when one does (core). A difference within the margin is a tie."),
    needs={"activation": ACTIVATIONS})


@dataclass
class Numbers:
    length: int = 0
    chance: float = math.nan
    activations: dict = field(default_factory=dict)   # name -> {label, rate, predicted, deriv..., acc, learned}
    pairs: list = field(default_factory=list)          # {slower, faster, rate_diff, acc_diff, p, significant, agrees}
    untested: list = field(default_factory=list)       # undecided pairs where neither activation learned in any seed
    concordant: int = 0
    tanh_by_length: dict = field(default_factory=dict)  # length -> mean rate at init of that tanh model (MODEL), any experiment
    discordant: int = 0
    tolerance: float = REL_TOL
    margin: float = MARGIN
    steps: int = 0


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


def decide(ctx: Context) -> Outcome:
    ctx.require(["activation"])
    table = keyed(rates(ctx, "activation"), "variant")
    acts = [a for a in ACTIVATIONS if a in table]
    if len(acts) < 2:
        raise Undecidable("fewer than two activations measured", ["activation"])
    numbers = Numbers()
    parts = []
    agree = []
    for a in acts:
        sq = mean_scalar(ctx, "activation", "act_deriv_sq_mean", a)
        predicted = 0.5 * math.log(sq) if sq > 0 else -math.inf
        r = table[a]["rate"]
        outcome = config_outcome(ctx, "activation", a)
        entry = {"label": ctx.describe("activation", a), "rate": r, "predicted": predicted,
                 "deriv_mean": mean_scalar(ctx, "activation", "act_deriv_mean", a),
                 "deriv_p10": mean_scalar(ctx, "activation", "act_deriv_p10", a),
                 "deriv_p50": mean_scalar(ctx, "activation", "act_deriv_p50", a),
                 "deriv_p90": mean_scalar(ctx, "activation", "act_deriv_p90", a),
                 "frac_small": mean_scalar(ctx, "activation", "act_deriv_frac_small", a)}
        if outcome is not None:
            numbers.length, numbers.chance = outcome.config.length, outcome.chance
            numbers.steps = budget_of(ctx, "activation")
            entry.update({"acc": outcome.score, "learned": outcome.learned, "scores": outcome.scores})
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
    from ..stats import both
    parts.append(Part("prediction", "each nonlinear activation's decay rate matches ½·log mean φ′²", both(*agree),
                      training=False, core=False, detail="; ".join(f"{a}: measured {num(numbers.activations[a]['rate'].mean)}, "
                                                       f"predicted {num(numbers.activations[a]['predicted'])}"
                                                       for a in acts if a in NONLINEAR)))
    if "tanh" in table:
        tanh = ctx.part("activation")
        numbers.tanh_by_length = _same_model_by_length(ctx, tanh[tanh["variant"] == "tanh"].iloc[0][MODEL].to_dict())
    candidates = []
    for a, b in itertools.combinations([a for a in acts if "scores" in numbers.activations[a]], 2):
        diff = welch(table[a]["per_seed"], table[b]["per_seed"], ctx.init_level)
        order = above(diff, 0.0)
        if order is None:
            continue
        slower, faster = (a, b) if order else (b, a)
        sa, sb = numbers.activations[slower]["scores"], numbers.activations[faster]["scores"]
        if len(sa) < 2 or len(sb) < 2:
            continue
        candidates.append({"slower": slower, "faster": faster, "rate_diff": abs(diff.mean),
                           "acc_diff": welch(sa, sb, ctx.level_for("activation")),
                           "p_ahead": welch_p_greater(sa, sb, MARGIN), "p_behind": welch_p_greater(sb, sa, MARGIN)})
    alpha = ctx.alpha_for("activation")
    ahead = holm([c["p_ahead"] for c in candidates], alpha)
    behind = holm([c["p_behind"] for c in candidates], alpha)
    for c, a, b in zip(candidates, ahead, behind):
        c["significant"] = a or b
        c["agrees"] = a
        c["disagrees"] = b
    numbers.pairs = candidates
    # A pair where neither arm learned in any seed compares two runs at chance: it tests nothing.
    numbers.untested = [c for c in candidates if not c["significant"]
                        and numbers.activations[c["slower"]]["learned"].k == 0
                        and numbers.activations[c["faster"]]["learned"].k == 0]
    numbers.concordant = sum(c["agrees"] for c in candidates)
    numbers.discordant = sum(c["disagrees"] for c in candidates)
    state = False if numbers.discordant else (True if numbers.concordant else None)
    reads = tuple(config_outcome(ctx, "activation", a).config for a in acts if "scores" in numbers.activations[a])
    parts.append(Part("trainability", f"the activation whose gradient decays more slowly trains to an accuracy more "
                      f"than {MARGIN} higher, in some pair, and the other way round in none", state, reads=reads, core=True,
                      detail=f"{numbers.concordant} pairs agree by more than {MARGIN}, {numbers.discordant} disagree by "
                             f"more than {MARGIN}, {len(candidates) - numbers.concordant - numbers.discordant} within it "
                             "or undecided"))
    ranked = sorted(acts, key=lambda a: -numbers.activations[a]["rate"].mean)
    headline = ("Gradient decay per step, slowest first: " + ", ".join(
        f"{a} {num(numbers.activations[a]['rate'].mean, 2)}" for a in ranked)
        + (f"; final accuracy at length {numbers.length}: " + ", ".join(
            f"{a} {num(numbers.activations[a]['acc'].mean, 2)}" for a in ranked if "acc" in numbers.activations[a])
           if numbers.length else ""))
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
    points = [{"label": a, "slot": slots[a], "rate": d["rate"].mean, "acc": d["acc"].mean, "acc_lo": d["acc"].lo,
               "acc_hi": d["acc"].hi} for a, d in n.activations.items() if "acc" in d]
    if points:
        out += ctx.figure(
            "trainability", lambda: rate_vs_accuracy(points, chance=n.chance),
            f"Final recall accuracy at length {n.length} (mean over seeds with its interval) against the per-step decay "
            "rate of the gradient at initialisation, each point named beside it; dotted: chance (horizontal) and rate 0, no "
            "decay (vertical). Markers that would touch are set a few points apart sideways, in the order of their "
            "rates.",
            "Accuracy against decay rate: " + "; ".join(
                f"{p['label']}: rate {num(p['rate'])}, accuracy {num(p['acc'], 2)}" for p in points) + ".")
    return out
