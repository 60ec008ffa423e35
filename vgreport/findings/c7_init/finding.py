"""Finding C7: careful initialisation of a plain RNN helps it learn.

Three careful initialisations are compared with PyTorch's default, so "some init helps" is a
question asked three times: Holm's correction keeps its family-wise error at α. The LSTM gate
initialisations are G1's question; the gain sweep is G2's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import ALPHA, above, holm, share_difference, welch, welch_p_greater
from ..tables import budget_of, config_outcome, config_outcomes, rates

CAREFUL = ("xavier", "orthogonal", "irnn")
SAME_ACCURACY = 0.1  # a careful init "does not help" when it cannot be 0.1 more accurate

SPEC = Spec(
    id="C7", kind="finding", title="Some careful initialisations help a plain RNN learn within the training budget",
    claim="Within the training budget, at least one careful initialisation (Xavier, orthogonal, identity/IRNN) helps.",
    criterion=("(a) First-token recall ('init'): for Xavier, orthogonal and IRNN against PyTorch's default, one-sided "
               "Welch tests of a higher mean final accuracy, with Holm's correction over the three; holds when at least "
               "one is rejected at the family-wise level; refuted when every careful init's Welch interval of the "
               f"difference lies below +{SAME_ACCURACY} (none can be {SAME_ACCURACY} more accurate) and at least one of the "
               "four initialisations learns (most seeds): arms that all stay at chance show no help and no harm, so "
               "that is undetermined, not a refutation. (b) The adding problem at "
               "its longest length ('adding_length'): the IRNN (Le et al. 2015) learns in a larger share of seeds than the "
               "tanh RNN: Newcombe's interval of the difference of shares lies above 0 (refuted below 0). Both parts "
               "are core."),
    needs={"init": ("default",) + CAREFUL, "adding_length": ("rnn_tanh", "irnn")})


@dataclass
class Numbers:
    length: int = 0
    chance: float = math.nan
    family_alpha: float = ALPHA
    margin: float = SAME_ACCURACY
    steps: int = 0
    default: dict = field(default_factory=dict)
    careful: dict = field(default_factory=dict)   # variant -> {label, acc, learned, diff, p, rejected, fails, rate, flat}
    adding: dict = field(default_factory=dict)
    learnable: bool = False  # some initialisation learned recall in most seeds (a positive control)


def _recall(ctx: Context, numbers: Numbers) -> list[Part]:
    table = config_outcomes(ctx, "init")
    if not table:
        return []
    length = max(c.length for c in table)
    base = config_outcome(ctx, "init", "default", length)
    if base is None:
        return []
    numbers.length, numbers.chance, numbers.steps = length, base.chance, budget_of(ctx, "init")
    numbers.default = {"label": base.label, "acc": base.score, "learned": base.learned}
    careful = [o for v in CAREFUL if (o := config_outcome(ctx, "init", v, length)) is not None]
    if not careful:
        return []
    alpha = ctx.alpha_for("init")
    numbers.family_alpha = alpha
    init_rates = rates(ctx, "init")  # the gradient's rate at initialisation, quoted beside a failure
    pvalues = [welch_p_greater(o.scores, base.scores) for o in careful]
    rejected = holm(pvalues, alpha)
    for o, p, r in zip(careful, pvalues, rejected):
        diff = welch(o.scores, base.scores, ctx.level_for("init"))
        rate = init_rates.get(o.config)
        numbers.careful[o.config.variant] = {"label": o.label, "acc": o.score, "learned": o.learned, "diff": diff,
                                             "p": p, "rejected": r, "fails": o.learns is False,
                                             "rate": rate["rate"].mean if rate else math.nan,
                                             # barely decays: at least a tenth of the gradient left over the span
                                             "flat": bool(rate) and rate["rate"].lo * (length - 1) > math.log(0.1)}
    learnable = any(o.learns is True for o in [base] + careful)  # a positive control: the task is learnable here
    numbers.learnable = learnable
    each = []
    for o, r in zip(careful, rejected):
        d = numbers.careful[o.config.variant]
        one = True if r else (False if d["diff"].known and d["diff"].hi < SAME_ACCURACY and learnable else None)
        each.append(Part(f"{o.config.variant}_helps", f"{o.label} raises the recall accuracy over the default", one,
                         reads=(base.config, o.config), core=False,
                         detail=f"gain {num(d['diff'].mean, 2)} [{num(d['diff'].lo, 2)}, {num(d['diff'].hi, 2)}]"))
    if any(rejected):
        state = True
    elif all(d["diff"].known and d["diff"].hi < SAME_ACCURACY for d in numbers.careful.values()) and learnable:
        state = False  # no careful init helps, and the task is learnable at this budget (a positive control)
    else:
        state = None
    best = max(numbers.careful.values(), key=lambda d: d["diff"].mean if math.isfinite(d["diff"].mean) else -9)
    return [Part("recall", f"some careful initialisation raises the recall accuracy at length {length}", state, core=True,
                reads=(base.config,) + tuple(o.config for o in careful),
                detail=f"largest gain {best['label']}: {num(best['diff'].mean, 2)} [{num(best['diff'].lo, 2)}, "
                       f"{num(best['diff'].hi, 2)}], Holm-adjusted: {sum(rejected)} of {len(careful)} significant")] + each


def _adding(ctx: Context, numbers: Numbers) -> Part | None:
    table = config_outcomes(ctx, "adding_length")
    if not table:
        return None
    longest = max(c.length for c in table)
    irnn, rnn = config_outcome(ctx, "adding_length", "irnn", longest), config_outcome(ctx, "adding_length", "rnn_tanh", longest)
    if irnn is None or rnn is None:
        return None
    diff = share_difference(irnn.learned.k, irnn.n, rnn.learned.k, rnn.n, ctx.level_for("adding_length"))
    numbers.adding = {"length": longest, "steps": budget_of(ctx, "adding_length"), "irnn": {"label": irnn.label, "mse": irnn.score, "learned": irnn.learned},
                      "rnn": {"label": rnn.label, "mse": rnn.score, "learned": rnn.learned}, "diff": diff}
    return Part("adding", f"the IRNN learns the adding problem at length {longest} in more seeds than the tanh RNN",
                above(diff, 0.0), reads=(irnn.config, rnn.config), core=True,
                detail=f"{of(irnn.learned)} against {of(rnn.learned)} seeds learn (difference {num(diff.mean, 2)} "
                       f"[{num(diff.lo, 2)}, {num(diff.hi, 2)}])")


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
        bits.append(f"recall at length {numbers.length}: default {num(numbers.default['acc'].mean, 2)}, " + ", ".join(
            f"{d['label'].removeprefix('RNN (').removesuffix(')')} {num(d['acc'].mean, 2)}" for d in numbers.careful.values()))
    if numbers.adding:
        a = numbers.adding
        bits.append(f"adding at length {a['length']}: the IRNN learns in {of(a['irnn']['learned'])} seeds, the tanh RNN "
                    f"in {of(a['rnn']['learned'])}")
    return Outcome(parts, numbers, "Mean accuracy — " + "; ".join(bits), "; ".join(p.detail for p in parts), present)


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
