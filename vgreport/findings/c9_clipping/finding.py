"""Finding C9: gradient clipping tames exploding gradients but does nothing for vanishing ones.

Two clauses. Both arms train with plain SGD: Adam divides each update by a running gradient scale,
so rescaling the gradient (which is all clipping does) would barely change it. *Exploding*: most
unclipped runs diverge, and most clipped runs neither diverge nor stay unsolved (clipped SGD moves
the weights by at most lr·clip a step, so "does not diverge" alone follows from arithmetic; solving
the task is what the clipped runs must show). *Vanishing*: the clipping threshold sits below the
typical gradient norm, so clipping is active, and "nothing changes" is an equivalence test (two
one-sided tests against a stated margin), not an interval that contains 0, and only between arms
that solve: two runs at chance are "equivalent" whatever the treatment. Where clipping was inactive
or an arm does not solve in most seeds, the clause is declared untested (its reason in words), and
the claim is at most partly tested, never support.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ...aggregate import final_scores, select
from ..base import Config, Context, Outcome, Part, Spec, num, of, upper_first
from ..stats import share, tost
from ..tables import SOLVED, cell_rates, config_outcome, most, one_config, profile_series, rows_of
from .figures import exploding

RATE_MARGIN = 0.01       # per step: the decay differs by less than a factor e over 100 steps
ACCURACY_MARGIN = 0.1    # final accuracies within ±0.1
ACTIVE = 0.5             # clipping "active" when it rescaled at least half of the training steps

SPEC = Spec(
    id="C9", kind="finding", title="Clipping tames exploding gradients, not vanishing ones",
    claim="Gradient clipping tames exploding gradients but does nothing for vanishing ones.",
    criterion=("(a) Exploding ('clip_exploding', W_hh = g·Q with g > 1, identity activation, plain SGD): holds when most "
               "unclipped runs diverge (NaN or infinite loss) and most clipped runs neither diverge nor stay unsolved "
               "(Wilson intervals against one half); refuted when most clipped runs diverge or are unsolved; undetermined "
               "when the unclipped runs do not mostly diverge. (b) Vanishing ('clip_vanishing', the default tanh RNN at a "
               "long length, plain SGD, a threshold below the typical gradient norm): tested only when clipping rescaled "
               f"at least {ACTIVE:.0%} of the steps and most seeds of both arms solve; then TOST shows the decay rate after "
               f"training equal within ±{RATE_MARGIN} per step and the final accuracy within ±{ACCURACY_MARGIN}, each "
               "refuted wholly outside its margin. Otherwise the vanishing clause is untested, with its reason. Three "
               "core parts; clauses: exploding, vanishing."),
    needs={"clip_exploding": ("no_clip", "clipped"), "clip_vanishing": ("no_clip", "clipped")},
    clauses={"exploding": "clipping tames exploding gradients", "vanishing": "it does nothing for vanishing ones"},
    question='Does clipping tame exploding gradients but not vanishing ones?',
    found={
        'exploding': {
            'holds': 'clipping kept exploding runs from diverging in the regime tested',
            'refuted': 'clipping did not keep exploding runs from diverging',
            'untested': 'its effect on exploding gradients was not decided',
        },
        'vanishing': {
            'holds': 'it did nothing for vanishing ones',
            'refuted': 'it changed training where gradients vanish',
            'untested': 'its effect where gradients vanish was not tested',
        },
    })


@dataclass
class Numbers:
    exploding: dict = field(default_factory=dict)
    vanishing: dict = field(default_factory=dict)
    rate_margin: float = RATE_MARGIN
    accuracy_margin: float = ACCURACY_MARGIN
    active: float = ACTIVE
    solved_bar: float = SOLVED
    untested: str = ""          # why the vanishing clause is untested in this build ("" when it is tested)


def _clip_value(ctx: Context, experiment: str) -> float:
    rows = select(ctx.part(experiment), experiment, variant="clipped")["clip"].dropna()
    return float(rows.iloc[0]) if len(rows) else math.nan


def _clip_fraction(ctx: Context, experiment: str, clip: float) -> float:
    """Share of training steps whose pre-clip norm exceeded the threshold (per-window records when
    the engine wrote them, else the share of logging windows whose largest norm exceeded it)."""
    rows = select(ctx.part(experiment), experiment, stage="train", variant="clipped")
    frac = rows[rows["metric"] == "clip_fraction"]["value"]
    if len(frac):
        return float(frac.mean())
    top = rows[rows["metric"] == "grad_norm_total_max"]["value"]
    return float((top > clip).mean()) if len(top) and math.isfinite(clip) else math.nan


def _exploding(ctx: Context, numbers: Numbers) -> Part | None:
    if not ctx.has("clip_exploding") or len(ctx.seeds("clip_exploding")) < 2:
        return None
    fs = final_scores(ctx.part("clip_exploding"), "clip_exploding")
    out = {}
    for v in ("no_clip", "clipped"):
        g = one_config(fs[fs["variant"] == v], f"'clip_exploding' {v}")
        if g.empty:
            return None
        k = int(g["diverged"].fillna(0).sum())
        steps = sorted(int(x) for x in g["diverged_step"].dropna())
        outcome = config_outcome(ctx, "clip_exploding", v)
        out[v] = {"diverged": share(k, len(g), ctx.level_for("clip_exploding")), "steps": steps,
                  "first_step": steps[0] if steps else math.nan, "config": Config.of(g.iloc[0]),
                  "solved": outcome.solved if outcome is not None else share(0, 0),
                  "unsolved": outcome.unsolved if outcome is not None else share(0, 0)}
    free, clipped = out["no_clip"]["diverged"], out["clipped"]["diverged"]
    exploded = free.lo > 0.5 if free.known else False
    survives, solves, unsolved = most(clipped) is False, most(out["clipped"]["solved"]), most(out["clipped"]["unsolved"])
    if not exploded:
        state = None
    elif most(clipped) is True or unsolved is True:
        state = False
    else:
        state = True if survives and solves else None
    rows = select(ctx.part("clip_exploding"), "clip_exploding")
    numbers.exploding = {**out, "clip": _clip_value(ctx, "clip_exploding"), "gain": float(rows["gain"].max()),
                         "length": int(rows["length"].max()), "exploded": exploded}
    return Part("exploding", "clipping stops the divergence that the exploding regime causes, and the clipped runs "
                "solve the task", state, core=True, clause="exploding", evidence=out["clipped"]["solved"],
                reads=(out["no_clip"]["config"], out["clipped"]["config"]),
                detail=f"{of(free)} unclipped and {of(clipped)} clipped runs diverged; {of(out['clipped']['solved'])} "
                       "clipped runs solve")


def _vanishing(ctx: Context, numbers: Numbers) -> list[Part]:
    if not ctx.has("clip_vanishing") or len(ctx.seeds("clip_vanishing")) < 2:
        return []
    exp = "clip_vanishing"
    clip = _clip_value(ctx, exp)
    fraction = _clip_fraction(ctx, exp, clip)
    active = bool(math.isfinite(fraction) and fraction >= ACTIVE)
    acc = {v: config_outcome(ctx, exp, v) for v in ("no_clip", "clipped")}
    if any(o is None for o in acc.values()):
        return []
    rates = cell_rates(ctx, exp, "trained")
    r = {v: rows_of(rates, o.config).sort_values("seed")["rate"].to_numpy(float) for v, o in acc.items()}
    alpha = ctx.alpha_for(exp)
    rate_same, rate_diff = tost(r["clipped"], r["no_clip"], RATE_MARGIN, alpha)
    acc_same, acc_diff = tost(acc["clipped"].scores, acc["no_clip"].scores, ACCURACY_MARGIN, alpha)
    free_norm = select(ctx.part(exp), exp, stage="train", metric="grad_norm_total", variant="no_clip")["value"]
    numbers.vanishing = {"clip": clip, "clip_fraction": fraction, "active": active,
                         "length": acc["no_clip"].config.length, "chance": acc["no_clip"].chance,
                         "median_norm": float(free_norm.median()) if len(free_norm) else math.nan,
                         "p25_norm": float(free_norm.quantile(0.25)) if len(free_norm) else math.nan,
                         "acc": {v: o.score for v, o in acc.items()}, "acc_diff": acc_diff, "acc_same": acc_same,
                         "rate": {v: {"mean": float(r[v].mean()) if len(r[v]) else math.nan} for v in r},
                         "rate_diff": rate_diff, "rate_same": rate_same, "tost_level": 1 - 2 * alpha}
    reads = (acc["no_clip"].config, acc["clipped"].config)
    solve = all(o.solves is True for o in acc.values())
    numbers.vanishing.update({"solved": {v: o.solved for v, o in acc.items()}, "both_solve": solve,
                              "at_chance": {v: o.at_chance for v, o in acc.items()}})
    if not active:
        numbers.untested = (f"clipping rescaled only {num(100 * fraction, 2)}% of the vanishing arm's steps: an "
                            "inactive threshold tests nothing")
    elif not solve:
        # "at chance" needs a control above chance (glossary); this arm has none, so only counts are said
        neither = all(o.solved.k == 0 for o in acc.values())
        numbers.untested = (f"{'neither arm solves' if neither else 'not both arms solve'} at this budget "
                            f"({of(acc['no_clip'].solved)} and {of(acc['clipped'].solved)} seeds solve): an equivalence "
                            "of arms that do not solve tests nothing")
    decided = active and solve
    why = "" if decided else f" (untested: {numbers.untested})"
    # More seeds can decide an equivalence only while both arms may still solve and clipping is active.
    hopeless = not active or any(o.fails_to_solve is True for o in acc.values())
    equivalence_reads = () if hopeless else reads
    return [Part("vanishing_active", f"clipping rescaled at least {ACTIVE:.0%} of the vanishing arm's training steps",
                 active if math.isfinite(fraction) else None, reads=reads, training=False, core=False,
                 detail=f"{num(100 * fraction, 2)}% of the steps"),
            Part("vanishing_rate", f"with active clipping the gradient decays at the same rate after training "
                 f"(within ±{RATE_MARGIN} per step)", rate_same if decided else None, reads=equivalence_reads, core=True,
                 clause="vanishing",
                 detail=f"difference {num(rate_diff.mean)} [{num(rate_diff.lo)}, {num(rate_diff.hi)}]{why}"),
            Part("vanishing_accuracy", f"with active clipping the final accuracy is the same (within ±{ACCURACY_MARGIN})",
                 acc_same if decided else None, reads=equivalence_reads, core=True, clause="vanishing",
                 detail=f"difference {num(acc_diff.mean, 2)} [{num(acc_diff.lo, 2)}, {num(acc_diff.hi, 2)}]{why}")]


def decide(ctx: Context) -> Outcome:
    from ..base import Undecidable
    present = [e for e in SPEC.needs if ctx.has(e)]
    numbers = Numbers()
    parts = [p for p in [_exploding(ctx, numbers)] if p is not None] + _vanishing(ctx, numbers)
    if not parts:
        raise Undecidable("neither clipping experiment ran with at least 2 seeds", list(SPEC.needs))
    untested = {"vanishing": numbers.untested} if numbers.untested else {}
    bits = []
    if numbers.exploding:
        e = numbers.exploding
        bits.append(f"exploding regime: {of(e['no_clip']['diverged'])} runs diverge without clipping, "
                    f"{of(e['clipped']['diverged'])} with it")
    if numbers.vanishing:
        v = numbers.vanishing
        bits.append(f"vanishing regime: clipping rescaled {num(100 * v['clip_fraction'], 2)}% of the steps and changed "
                    f"the accuracy by {num(v['acc_diff'].mean, 2)}")
    return Outcome(parts, numbers, upper_first("; ".join(bits)), "; ".join(p.detail for p in parts), present,
                   untested=untested)


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    out = []
    if n.exploding:
        e = n.exploding
        loss, norm, diverged, logged = [], [], [], {}
        slots = ctx.slots("clip_exploding", ["clipped", "no_clip"])  # one model: the clipped arm keeps its style
        for v, label in (("no_clip", "no clipping"), ("clipped", "clipped")):
            for metric, target in (("train_loss", loss), ("grad_norm_total", norm)):
                rows = select(ctx.part("clip_exploding"), "clip_exploding", stage="train", metric=metric, variant=v)
                if rows.empty:
                    continue
                wide = rows.pivot_table(index="step", columns="seed", values="value", aggfunc="first")
                wide = wide.where(wide.map(math.isfinite))
                logged[(label, metric)] = wide
                target.append({"label": label, "slot": slots[v], "x": wide.index.to_numpy(float),
                               "mean": wide.mean(axis=1).to_numpy(float), "lo": wide.min(axis=1).to_numpy(float),
                               "hi": wide.max(axis=1).to_numpy(float)})
            if e[v]["steps"]:
                diverged.append({"label": label, "steps": e[v]["steps"], "slot": slots[v]})
        chance_loss = math.log(8)
        out += ctx.figure(
            "exploding", lambda: exploding(loss, norm, diverged, chance_loss, e["clip"]),
            f"Exploding regime (linear RNN, W_hh = {num(e['gain'])}·Q, plain SGD, length {e['length']}). Left: training "
            "loss (mean over seeds; band: range); ✕: runs whose loss became NaN or infinite at that step (×n: n runs). "
            "Right: global gradient norm before clipping; dotted: the clipping threshold." + _exploding_notes(logged, e),
            f"Without clipping {of(e['no_clip']['diverged'])} runs diverged; with clipping {of(e['clipped']['diverged'])}.")
    if n.vanishing:
        v = n.vanishing
        # one model in both arms: the clipped arm keeps the model's (solid) style, the unclipped one is
        # dashed, and drawn over it with hollow markers where they coincide (the caption says so)
        slots = ctx.slots("clip_vanishing", ["clipped", "no_clip"])
        series = profile_series(ctx, "clip_vanishing", ["no_clip", "clipped"], stage="trained", slots=slots,
                                label=lambda x: "no clipping" if x == "no_clip" else f"clipped at norm {num(v['clip'])}")
        same = len(series) == 2 and figures.coincide(*series)
        out += ctx.figure(
            "vanishing", lambda: figures.gradient_vs_lag(series, []),
            f"Vanishing regime (tanh RNN with PyTorch's default init, length {v['length']}, plain SGD): gradient norm "
            "relative to the last step after training, with and without clipping (geometric mean over seeds; band: "
            f"range).{_coinciding(v) if same else ''}",
            f"Two decaying curves: fitted rate {num(v['rate']['no_clip']['mean'])} per step without and "
            f"{num(v['rate']['clipped']['mean'])} with clipping{'; they coincide' if same else ''}.")
    return out


def _exploding_notes(logged: dict, e: dict) -> str:
    """What the exploding figure's data hold that its lines alone do not say: arms with no logged
    step (they diverged first), losses of exactly 0 (gaps on a log axis) and the smallest gradient
    norms they go with. `logged`: (arm label, metric) -> steps × seeds table."""
    notes = []
    for v, label, runs in (("no_clip", "no clipping", "unclipped runs"), ("clipped", "clipped", "clipped runs")):
        steps = e.get(v, {}).get("steps", [])
        if (label, "train_loss") not in logged and steps:
            first = min((int(w.index.min()) for w in logged.values() if len(w)), default=None)
            notes.append(f" The {runs} diverged before the first logged step{f' ({first})' if first else ''}: "
                         "no curve, only ✕.")
        loss = logged.get((label, "train_loss"))
        if loss is None or not (loss == 0).any().any():
            continue
        zeros, total = int((loss == 0).sum().sum()), int(loss.notna().sum().sum())
        everywhere = [int(s) for s in loss.index[(loss == 0).all(axis=1)]]
        note = (f" Gaps: {zeros} of the {runs}' {total} logged losses are exactly 0 (float32 rounds a confidently "
                "fitted batch's loss to 0), which a log axis cannot show")
        note += (f"; ↓ where the mean is 0 (step{'s' if len(everywhere) > 1 else ''} "
                 f"{', '.join(map(str, everywhere))})." if everywhere else ".")
        norm = logged.get((label, "grad_norm_total"))
        if norm is not None and len(norm):
            lowest = float(norm.mean(axis=1).min())
            exact = int((norm == 0).sum().sum())
            if lowest < 1e-6:
                shown = figures.power_text(float(f"{lowest:.1g}")) if lowest > 0 else "0"
                note += (f" Their gradients are as small (mean down to {shown}"
                         + (f"; {exact} exactly 0" if exact else "") + "): measured, not an artefact.")
        notes.append(note)
    return "".join(notes)


def _coinciding(v: dict) -> str:
    """The caption's sentence when the two curves of the vanishing regime lie on top of each other,
    with what the build says about why: clipping never or rarely acted, or acted and changed nothing."""
    said = (" The clipped and unclipped curves coincide to within a line's width (the one without "
            "clipping is drawn on top with hollow markers)")
    fraction = v.get("clip_fraction", math.nan)
    if not math.isfinite(fraction):
        return said + "."
    if fraction == 0:
        return said + ": clipping never triggered."
    if fraction < ACTIVE:
        return said + f": clipping rescaled only {num(100 * fraction, 2)}% of the steps."
    return said + f", although clipping rescaled {num(100 * fraction, 2)}% of the steps."
