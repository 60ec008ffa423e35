"""Finding C5: more training does not fix a plain RNN at long range.

One run of eight times the standard budget, read at 1×, 2×, 4× and 8× (the held-out accuracy at that
step, and the best it reached so far: a run can learn and then lose it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ...aggregate import eval_curves
from ..base import SLOTS, Config, Context, Outcome, Part, Spec, Undecidable, num, of
from ..stats import share
from ..tables import CHANCE_MARGIN, MOST, seed_outcome

MULTIPLES = (1, 2, 4, 8)

SPEC = Spec(
    id="C5", kind="finding", title="More training does not rescue a plain RNN at long range",
    claim="More data or longer training does not fix a plain RNN.",
    criterion=("Experiment 'budget': the tanh RNN with PyTorch's default init at a long length, trained for eight times "
               "the standard budget and read at 1×, 2×, 4× and 8× it. Supported when, at 8×, most seeds have still never "
               f"learned: the best held-out accuracy each seed reached is below chance + {CHANCE_MARGIN} (its 95% interval) "
               "in a share of seeds whose Wilson interval lies above one half. Not supported when that share's interval "
               "lies below one half (most seeds learned at some point with more training)."),
    needs={"budget": ("rnn_tanh",)})


@dataclass
class Numbers:
    length: int = 0
    standard: int = 0                 # the standard budget (steps): the run is 8 times it
    chance: float = math.nan
    margin: float = CHANCE_MARGIN
    seeds: int = 0
    curve: dict = field(default_factory=dict)      # multiple -> {steps, learned_last, learned_best, never, mean}
    others: dict = field(default_factory=dict)     # other variants, descriptive: label -> curve


def _curve(ctx: Context, group, standard: int, chance: float, level: float) -> dict:
    n_eval = ctx.eval_size("budget")
    out = {}
    seeds = sorted(group["seed"].unique())
    for m in MULTIPLES:
        steps = m * standard
        last, best = [], []
        for s in seeds:
            g = group[(group["seed"] == s) & (group["step"] <= steps)]
            if g.empty:
                continue
            last.append(float(g.loc[g["step"].idxmax(), "value"]))
            best.append(float(g["value"].max()))
        outcome_last = [seed_outcome("recall", a, chance, False, n_eval) for a in last]
        outcome_best = [seed_outcome("recall", a, chance, False, n_eval) for a in best]
        n = len(last)
        out[m] = {"steps": steps, "n": n, "mean_last": sum(last) / n if n else math.nan,
                  "mean_best": sum(best) / n if n else math.nan,
                  "learned_last": share(outcome_last.count("learned"), n, level),
                  "learned_best": share(outcome_best.count("learned"), n, level),
                  "never": share(outcome_best.count("failed"), n, level), "last": last, "best": best}
    return out


def decide(ctx: Context) -> Outcome:
    ctx.require(["budget"])
    curves = eval_curves(ctx.part("budget"), "budget")
    chance_rows = ctx.part("budget")
    chance_rows = chance_rows[chance_rows["metric"] == "chance"]["value"]
    if curves.empty or chance_rows.empty:
        raise Undecidable("no accuracy curves recorded in 'budget'", ["budget"])
    chance = float(chance_rows.iloc[0])
    budget = int(ctx.part("budget")["budget"].max())
    standard = budget // MULTIPLES[-1]
    numbers = Numbers(length=int(curves["length"].max()), standard=standard, chance=chance)
    main = curves[curves["variant"] == "rnn_tanh"]
    if main.empty:
        raise Undecidable("the default tanh RNN is not in 'budget'", ["budget"])
    numbers.curve = _curve(ctx, main, standard, chance, ctx.level_for("budget"))
    numbers.seeds = int(main["seed"].nunique())
    for variant, group in curves.groupby("variant"):
        if variant != "rnn_tanh":
            numbers.others[variant] = {"label": ctx.describe("budget", variant),
                                       "curve": _curve(ctx, group, standard, chance, ctx.level_for("budget"))}
    end = numbers.curve[MULTIPLES[-1]]
    never = end["never"]
    state = None if never.n < 2 or not never.known else (True if never.lo > MOST else False if never.hi < MOST else None)
    gain = float(ctx.part("budget")["gain"].iloc[0])
    part = Part("never", f"with {MULTIPLES[-1]}× the budget most seeds still never learn", state,
                reads=(Config("budget", "rnn_tanh", numbers.length, gain),),
                detail=f"{of(end['learned_best'])} seeds learned at some point within {end['steps']} steps "
                       f"({of(numbers.curve[1]['learned_best'])} within {standard})")
    headline = (f"{of(end['learned_best'])} seeds of the tanh RNN learn length {numbers.length} within {MULTIPLES[-1]}× "
                f"the budget ({of(numbers.curve[1]['learned_best'])} within 1×)")
    return Outcome([part], numbers, headline, part.detail, ["budget"], data=curves)


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n, curves = outcome.numbers, outcome.data
    series = []
    for variant, group in curves.groupby("variant", sort=False):
        wide = group.pivot_table(index="step", columns="seed", values="value", aggfunc="first")
        series.append({"label": ctx.describe("budget", variant), "slot": SLOTS.get(variant, len(series)),
                       "x": wide.index.to_numpy(float), "mean": wide.mean(axis=1).to_numpy(),
                       "lo": wide.min(axis=1).to_numpy(), "hi": wide.max(axis=1).to_numpy()})
    marks = [{"x": m * n.standard, "label": f"{m}×"} for m in MULTIPLES[:-1]]
    return ctx.figure(
        "budget", lambda: figures.curves(series, chance=n.chance, xlabel="training step", ylabel="held-out accuracy",
                                         marks=marks),
        f"Held-out recall accuracy during training at length {n.length}, up to {MULTIPLES[-1]} times the standard budget "
        f"of {n.standard} steps (mean over seeds; band: range over seeds). Dotted vertical lines: 1×, 2× and 4× "
        "the budget; dotted horizontal line: chance.",
        "Accuracy against training step. " + "; ".join(
            f"{m}×: {of(c['learned_best'])} seeds had learned, mean accuracy {num(c['mean_last'], 2)}"
            for m, c in n.curve.items()) + ".")
