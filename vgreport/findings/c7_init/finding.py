"""Finding C7: careful initialisation of a plain RNN helps it solve a long dependency.

Three careful initialisations are compared with PyTorch's default, so "some init helps" is a
question asked three times: Holm's correction keeps its family-wise error at the look's level.
Outcomes are compared as shares of seeds that solve (Fisher's exact test), never by t-tests of
bimodal accuracies. The LSTM gate initialisations are G1's question; the gain sweep is G2's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of, upper_first
from ..stats import ALPHA, above, holm, share_difference, share_greater_p
from ..tables import SOLVED, budget_of, config_outcome, config_outcomes, rates

CAREFUL = ("xavier", "orthogonal", "irnn")
# A careful init "does not help" when the share of seeds it solves in cannot exceed the default's by a quarter.
SAME_SHARE = 0.25

SPEC = Spec(
    id="C7", kind="finding", title="Some careful initialisations help a plain RNN solve a long dependency within the training budget",
    claim="Within the training budget, at least one careful initialisation (Xavier, orthogonal, identity/IRNN) helps.",
    criterion=("(a) Recall ('init'): for Xavier, orthogonal and IRNN against PyTorch's default, one-sided Fisher exact "
               "tests of a larger share of seeds that solve, Holm's correction over the three at the look's level; holds "
               "when one is rejected; refuted only when every Newcombe interval of the difference of solved shares lies "
               f"below +{SAME_SHARE} and each comparison has an arm that solves in most seeds (two arms that both fail "
               "show nothing). (b) Adding at the longest length ('adding_length'): the IRNN solves in a larger share of "
               "seeds than the tanh RNN (the same test; refuted when Newcombe's interval lies below 0), undetermined when "
               "both arms stay at chance. Two core parts, one clause."),
    needs={"init": ("default",) + CAREFUL, "adding_length": ("rnn_tanh", "irnn")},
    clauses={"helps": "at least one careful initialisation helps a plain RNN solve a long dependency"},
    question='Does a careful initialisation help a plain RNN solve a long dependency within the training budget?',
    found={
        'helps': {
            'holds': 'some careful initialisations helped a plain RNN solve a long dependency within the training budget',
            'refuted': 'no careful initialisation helped a plain RNN solve a long dependency within the training budget',
            'untested': 'whether a careful initialisation helps was not decided',
        },
    })


@dataclass
class Numbers:
    length: int = 0
    chance: float = math.nan
    family_alpha: float = ALPHA
    margin: float = SAME_SHARE
    solved_bar: float = SOLVED
    steps: int = 0
    default: dict = field(default_factory=dict)
    careful: dict = field(default_factory=dict)   # variant -> {label, acc, solved, diff, p, rejected, rate, flat}
    adding: dict = field(default_factory=dict)
    solvable: bool = False  # some initialisation solved recall in most seeds (a positive control)


def _recall(ctx: Context, numbers: Numbers) -> list[Part]:
    table = config_outcomes(ctx, "init")
    if not table:
        return []
    length = max(c.length for c in table)
    base = config_outcome(ctx, "init", "default", length)
    if base is None:
        return []
    numbers.length, numbers.chance, numbers.steps = length, base.chance, budget_of(ctx, "init")
    numbers.default = {"label": base.label, "acc": base.score, "solved": base.solved}
    careful = [o for v in CAREFUL if (o := config_outcome(ctx, "init", v, length)) is not None]
    if not careful:
        return []
    alpha = ctx.alpha_for("init")
    numbers.family_alpha = alpha
    level = ctx.level_for("init")
    init_rates = rates(ctx, "init")  # the gradient's rate at initialisation, quoted beside a failure
    pvalues = [share_greater_p(o.solved.k, o.n, base.solved.k, base.n) for o in careful]
    rejected = holm(pvalues, alpha)
    for o, p, r in zip(careful, pvalues, rejected):
        diff = share_difference(o.solved.k, o.n, base.solved.k, base.n, level)
        rate = init_rates.get(o.config)
        numbers.careful[o.config.variant] = {"label": o.label, "acc": o.score, "solved": o.solved, "diff": diff,
                                             "p": p, "rejected": r, "fails": o.fails_to_solve is True,
                                             "compared": o.solves is True or base.solves is True,
                                             "rate": rate["rate"].mean if rate else math.nan,
                                             # barely decays: at least a tenth of the gradient left over the span
                                             "flat": bool(rate) and rate["rate"].lo * (length - 1) > math.log(0.1)}
    numbers.solvable = any(o.solves is True for o in [base] + careful)  # a positive control: solvable here
    each = []
    for o, r in zip(careful, rejected):
        d = numbers.careful[o.config.variant]
        no_help = d["diff"].known and d["diff"].hi < SAME_SHARE and d["compared"]
        one = True if r else (False if no_help else None)
        each.append(Part(f"{o.config.variant}_helps", f"{o.label} solves in a larger share of seeds than the default",
                         one, reads=(base.config, o.config), core=False, evidence=o.solved,
                         detail=f"{of(o.solved)} against {of(base.solved)} seeds solve (difference "
                                f"{num(d['diff'].mean, 2)} [{num(d['diff'].lo, 2)}, {num(d['diff'].hi, 2)}], one-sided "
                                f"p = {num(d['p'], 2)})"))
    if any(rejected):
        state = True
    elif all(d["diff"].known and d["diff"].hi < SAME_SHARE and d["compared"] for d in numbers.careful.values()):
        state = False  # no careful init helps, and each comparison has an arm that solves (a positive control)
    else:
        state = None
    best = max(numbers.careful.values(), key=lambda d: d["diff"].mean if math.isfinite(d["diff"].mean) else -9)
    return [Part("recall", f"some careful initialisation solves recall at length {length} in a larger share of seeds",
                 state, core=True, clause="helps", reads=(base.config,) + tuple(o.config for o in careful),
                 detail=f"largest difference {best['label']}: {num(best['diff'].mean, 2)} [{num(best['diff'].lo, 2)}, "
                        f"{num(best['diff'].hi, 2)}] of the seeds; Holm-adjusted: {sum(rejected)} of {len(careful)} "
                        "significant")] + each


def _adding(ctx: Context, numbers: Numbers) -> Part | None:
    table = config_outcomes(ctx, "adding_length")
    if not table:
        return None
    longest = max(c.length for c in table)
    irnn, rnn = config_outcome(ctx, "adding_length", "irnn", longest), config_outcome(ctx, "adding_length", "rnn_tanh", longest)
    if irnn is None or rnn is None:
        return None
    level = ctx.level_for("adding_length")
    diff = share_difference(irnn.solved.k, irnn.n, rnn.solved.k, rnn.n, level)
    p = share_greater_p(irnn.solved.k, irnn.n, rnn.solved.k, rnn.n)
    both_at_chance = irnn.stays_at_chance is True and rnn.stays_at_chance is True
    state = None if both_at_chance else (True if p < 1 - level else False if above(diff, 0.0) is False else None)
    numbers.adding = {"length": longest, "steps": budget_of(ctx, "adding_length"), "p": p,
                      "irnn": {"label": irnn.label, "mse": irnn.score, "solved": irnn.solved, "at_chance": irnn.at_chance},
                      "rnn": {"label": rnn.label, "mse": rnn.score, "solved": rnn.solved, "at_chance": rnn.at_chance},
                      "diff": diff, "both_at_chance": both_at_chance}
    # two arms at chance compare nothing however many seeds they get: they buy none
    return Part("adding", f"the IRNN solves the adding problem at length {longest} in a larger share of seeds than the "
                "tanh RNN", state, reads=() if both_at_chance else (irnn.config, rnn.config), core=True, clause="helps", evidence=irnn.solved,
                detail=f"{of(irnn.solved)} against {of(rnn.solved)} seeds solve (difference {num(diff.mean, 2)} "
                       f"[{num(diff.lo, 2)}, {num(diff.hi, 2)}], one-sided p = {num(p, 2)})"
                       + ("; both arms stay at chance, and a comparison of two arms at chance tests nothing"
                          if both_at_chance else ""))


def decide(ctx: Context) -> Outcome:
    present = [e for e in SPEC.needs if ctx.has(e) and len(ctx.seeds(e)) >= 2]
    if not present:
        raise Undecidable("neither 'init' nor 'adding_length' ran with at least 2 seeds", list(SPEC.needs))
    numbers = Numbers()
    parts = (_recall(ctx, numbers) if "init" in present else []) + [
        p for p in [_adding(ctx, numbers) if "adding_length" in present else None] if p is not None]
    if not parts:
        raise Undecidable("no careful initialisation and default in the same build", present)
    bits = []
    if numbers.careful:
        bits.append(f"recall at length {numbers.length}: the default solves in {of(numbers.default['solved'])} seeds, "
                    + ", ".join(f"{d['label'].removeprefix('RNN (').removesuffix(')')} in {of(d['solved'])}"
                                for d in numbers.careful.values()))
    if numbers.adding:
        a = numbers.adding
        bits.append(f"adding at length {a['length']}: the IRNN solves in {of(a['irnn']['solved'])} seeds, the tanh RNN "
                    f"in {of(a['rnn']['solved'])}")
    return Outcome(parts, numbers, upper_first("; ".join(bits)), "; ".join(p.detail for p in parts), present)


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    if not n.careful:
        return []
    slots = ctx.slots("init", ["default", *n.careful])
    rows = [{"label": d["label"].removeprefix("RNN (").removesuffix(")").replace(", ", "\n", 1), "slot": slots[v],
             "mean": d["acc"].mean, "lo": d["acc"].lo, "hi": d["acc"].hi,
             "per_seed": config_outcome(ctx, "init", v, n.length).scores}
            for v, d in [("default", n.default)] + list(n.careful.items())]
    return ctx.figure(
        "rnn_inits", lambda: figures.bars(rows, chance=n.chance, ylabel="recall accuracy"),
        f"Plain RNN, first-token recall at length {n.length}: final accuracy per initialisation (bar: mean; whiskers: "
        "its interval; dots: single seeds); dotted: chance.",
        "Bar chart of accuracy per initialisation: " + "; ".join(f"{r['label']}: {num(r['mean'], 2)}" for r in rows) + ".")
