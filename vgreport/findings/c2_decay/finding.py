"""Finding C2: with tanh at PyTorch's default or Xavier init, and with sigmoid, the gradient shrinks
exponentially with distance, even where the Pascanu bound allows it to grow (γ·σ_max(W_hh) ≥ 1).
The title names these initialisations because the tanh RNN with W_hh = g·Q grows at larger g: the
sweep is the claim's edge, shown in the section, not a test of the claim as titled.

Where γ·σ_max < 1 the decay is forced by the bound (check K2): a theorem, not evidence. So C2 is
judged only where the bound says nothing: tanh at PyTorch's default and at Xavier init (σ_max > 1)
and the sigmoid with W_hh = g·Q at gains g ≥ 4 (γ·g ≥ 1), one core part per initialisation tested,
in two clauses (tanh, sigmoid). "Shrinks" needs the rate's interval below −FLAT (a rate within ±FLAT
per step is flat: a gradient that does not decay refutes the claim, as one that grows does).
"Exponential" is a bounded interval on the per-seed fit R² (stats.r2_interval) above R2_MIN, never a
minimum over seeds, which gets harder to pass with every seed. The tanh RNN's gain sweep (W_hh =
g·Q) is context: it shows where the claim stops, the gains at which the gradient grows instead.
Rates after training are not judged here: training changes the per-step factor (the trained tanh
RNN of 'architecture' spans it, shown as context numbers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import figures
from ..base import Config, Context, Outcome, Part, Spec, Undecidable, num
from ..stats import above, below, r2_interval
from ..tables import cell_rates, keyed, mean_scalar, profile_series, rates, rows_of

R2_MIN = 0.9  # a log-linear fit this good is "exponential"
FLAT = 0.01   # per step: a rate within ±0.01 is flat (at most a factor e over 100 steps), as in C10

SPEC = Spec(
    id="C2", kind="finding", title="At initialisation, tanh (default, Xavier init) and sigmoid (gains tested) gradients shrink exponentially",
    claim=("At initialisation, with tanh at PyTorch's default or Xavier init, and with sigmoid, the gradient shrinks "
           "exponentially with the distance in time."),
    criterion=("Judged only where the Pascanu bound allows growth (γ·σ_max(W_hh) ≥ 1, so decay is not forced): the tanh "
               "RNN at PyTorch's default and at Xavier init ('init'), and the sigmoid RNN with W_hh = g·Q at gains with "
               "g/4 ≥ 1 ('gain_sweep_sigmoid'), at initialisation. Per configuration (one core part each; clauses: tanh, "
               f"sigmoid): holds when the 95% interval across seeds of the per-step rate r of log‖∂L/∂h_k‖ lies below −{FLAT} "
               f"and that of the fit's R² (atanh √R², transformed back) above {R2_MIN}; refuted when the rate's interval "
               f"lies above −{FLAT} (a flat or growing gradient does not shrink), or the R² interval below {R2_MIN}. "
               "Context: whether the tanh RNN with W_hh = g·Q ('gain_sweep') shrinks at each gain."),
    needs={"init": ("default", "xavier"), "gain_sweep_sigmoid": ("sigmoid",), "gain_sweep": ("tanh",)},
    clauses={"tanh": "with tanh, at PyTorch's default and at Xavier init, the gradient shrinks exponentially with distance",
             "sigmoid": "with sigmoid (W_hh = g·Q where γ·g ≥ 1) the gradient shrinks exponentially with distance"},
    question='At initialisation, do tanh (default, Xavier init) and sigmoid (gains tested) gradients shrink exponentially?',
    found={
        'tanh': {
            'holds': "at initialisation, tanh gradients shrank exponentially with distance at PyTorch's default and Xavier init",
            'refuted': 'at initialisation, tanh gradients did not shrink exponentially at every default or Xavier init',
            'untested': 'the tanh decay was not decided',
        },
        'sigmoid': {
            'holds': 'sigmoid gradients shrank exponentially with distance at initialisation, at every gain tested',
            'refuted': 'at initialisation, sigmoid gradients did not shrink exponentially at every gain',
            'untested': 'the sigmoid decay was not decided',
        },
    })


@dataclass
class Judged:
    label: str
    rate: object          # Interval
    r2: object            # Interval of the per-seed R² (t-interval across seeds)
    bound: float          # log(γ·σ_max) (≥ 0 where judged)
    sigma: float
    gamma: float
    length: int
    factor: float         # e^r: the per-step factor
    halving: float        # steps for the gradient to halve
    passes: bool | None
    seeds: int = 0        # seeds measured, and how many of them alone have a rate below -FLAT: the verdict
    seeds_below: int = 0  # reads the mean's interval; a seed whose gradient does not shrink is still shown

    @property
    def some_seed_flat(self) -> bool:
        """Some seed's own rate is not below -FLAT, though the mean's interval may be: the table says so."""
        return 0 < self.seeds and self.seeds_below < self.seeds

    @property
    def allows_growth(self) -> bool:
        """γ·σ_max > 1 (to display precision): at exactly 1 the bound forces no shrinking but allows no growth."""
        return self.bound > 1e-6


@dataclass
class Numbers:
    judged: dict = field(default_factory=dict)      # key -> Judged
    forced: list = field(default_factory=list)      # configurations left out: the bound already forces decay
    r2_min: float = R2_MIN
    flat: float = FLAT
    # the tanh RNN of 'architecture' after training: {length, init: [lo, hi], trained: [lo, hi]} of the
    # per-seed rates (training changes the per-step factor: context numbers, judged nowhere)
    trained: dict = field(default_factory=dict)
    sweep: dict = field(default_factory=dict)       # tanh gain sweep: g -> {rate Interval, key}
    sweep_length: int = 0                           # its sequence length (rates depend a little on it)
    shrinking: list = field(default_factory=list)   # gains where the tanh RNN's gradient shrinks at initialisation
    growing: list = field(default_factory=list)     # gains where it grows (rate interval above 0)
    sigmoid_last: str = ""                          # the key of the sigmoid at its largest judged gain


def _r2(ctx: Context, config: Config) -> object:
    rows = rows_of(cell_rates(ctx, config.experiment), config)
    return r2_interval(rows["r2"].dropna(), ctx.init_level)


def _judge(ctx: Context, config: Config, row: dict, label: str) -> tuple[Judged, Part] | None:
    exp, v = config.experiment, config.variant
    bound = mean_scalar(ctx, exp, "bound_log_rate", v, length=config.length, gain=config.gain)
    r = row["rate"]
    r2 = _r2(ctx, config)
    decays = below(r, -FLAT)
    exponential = above(r2, R2_MIN)
    state = False if decays is False else (None if decays is None or exponential is None else exponential)
    judged = Judged(label, r, r2, bound, mean_scalar(ctx, exp, "sigma_max_whh", v, gain=config.gain),
                    mean_scalar(ctx, exp, "bound_gamma", v, gain=config.gain), config.length,
                    math.exp(r.mean) if math.isfinite(r.mean) else math.nan,
                    math.log(2) / -r.mean if r.mean < 0 else math.inf, state,
                    len(row.get("per_seed", [])), sum(x < -FLAT for x in row.get("per_seed", [])))
    part = Part(f"{exp}/{v}/{config.gain:g}", f"{label}: the gradient shrinks exponentially (r < −{FLAT}, R² > {R2_MIN})",
                state, training=False, core=True, clause="sigmoid" if exp == "gain_sweep_sigmoid" else "tanh",
                evidence=r,
                detail=f"r = {num(r.mean)} [{num(r.lo)}, {num(r.hi)}] per step, R² {num(r2.mean, 3)} "
                       f"[{num(r2.lo, 3)}, {num(r2.hi, 3)}], bound log(γ·σ_max) = {num(bound)}")
    return judged, part


def _sweep(ctx: Context, numbers: Numbers) -> list[Part]:
    """Context: at each gain of the tanh sweep, does the gradient shrink (True) or not (False: flat or growing)?"""
    parts = []
    tanh = keyed({c: (c, row) for c, row in rates(ctx, "gain_sweep").items() if c.variant == "tanh"}, "gain")
    for _, (c, row) in sorted(tanh.items()):
        if row["rate"].n < 2:
            continue
        r = row["rate"]
        state = below(r, -FLAT)
        key = f"gain_sweep/tanh/{c.gain:g}"
        numbers.sweep[c.gain] = {"rate": r, "key": key}
        numbers.sweep_length = c.length
        if state is True:
            numbers.shrinking.append(c.gain)
        elif above(r, 0.0):
            numbers.growing.append(c.gain)
        parts.append(Part(key, f"tanh RNN, W_hh = {num(c.gain)}·Q: the gradient shrinks with distance", state,
                          training=False, core=False, detail=f"r = {num(r.mean)} [{num(r.lo)}, {num(r.hi)}] per step"))
    return parts


def _trained(ctx: Context) -> dict:
    """The range across seeds of the tanh RNN's fitted rate at the longest length of 'architecture', at
    initialisation and after training (context numbers: what training does to the per-step factor)."""
    if not ctx.has("architecture"):
        return {}
    out = {}
    for stage in ("init", "trained"):
        table = cell_rates(ctx, "architecture", stage)
        rows = table[table["variant"] == "rnn_tanh"] if len(table) else table
        if rows.empty:
            return {}
        longest = int(rows["length"].max())
        values = rows[rows["length"] == longest]["rate"].dropna()
        if len(values) < 2:
            return {}
        out["length"] = longest
        out[stage] = {"lo": float(values.min()), "hi": float(values.max()), "n": int(len(values))}
    return out


def decide(ctx: Context) -> Outcome:
    numbers = Numbers()
    parts = []
    todo = []
    if ctx.has("init"):
        init = {c: (c, row) for c, row in rates(ctx, "init").items() if c.variant in ("default", "xavier")}
        for c, row in keyed(init, "variant").values():
            todo.append((c, row, ctx.describe("init", c.variant)))
    if ctx.has("gain_sweep_sigmoid"):
        for c, row in keyed({c: (c, row) for c, row in rates(ctx, "gain_sweep_sigmoid").items()}, "gain").values():
            todo.append((c, row, f"sigmoid RNN, W_hh = {num(c.gain)}·Q"))
    if not todo:
        raise Undecidable("neither 'init' nor 'gain_sweep_sigmoid' is in this build", list(SPEC.needs))
    for c, row, label in todo:
        if row["rate"].n < 2:
            continue
        judged, part = _judge(ctx, c, row, label)
        if not math.isfinite(judged.bound) or judged.bound < 0:
            numbers.forced.append({"label": label, "bound": judged.bound})
            continue
        numbers.judged[part.key] = judged
        parts.append(part)
    if not parts:
        raise Undecidable("no configuration with γ·σ_max ≥ 1 and at least 2 seeds", list(SPEC.needs))
    judged_parts = list(parts)
    sigmoid = sorted((j.sigma, k) for k, j in numbers.judged.items() if k.startswith("gain_sweep_sigmoid/"))
    numbers.sigmoid_last = sigmoid[-1][1] if sigmoid else ""
    if ctx.has("gain_sweep"):
        parts += _sweep(ctx, numbers)
    numbers.trained = _trained(ctx)
    passing = [j for j in numbers.judged.values() if j.passes]
    default = numbers.judged.get("init/default/1")
    if default is not None and default.passes:
        headline = (f"Even where the bound allows growth, the gradient shrinks: ×{num(default.factor)} per step for the "
                    f"tanh RNN at PyTorch's default init (σ_max = {num(default.sigma)}), halving every "
                    f"{num(default.halving, 2)} steps")
    else:
        headline = (f"The gradient shrinks exponentially in {len(passing)} of {len(judged_parts)} configurations where the "
                    "bound allows growth")
    reason = "; ".join(f"{j.label}: {p.detail}" for j, p in zip(numbers.judged.values(), judged_parts))
    return Outcome(parts, numbers, headline, reason, [e for e in SPEC.needs if ctx.has(e)])


def figures_of(ctx: Context, outcome: Outcome) -> list:
    n = outcome.numbers
    out = []
    if ctx.has("init"):
        series = profile_series(ctx, "init", ["default", "xavier"])
        slots = ctx.slots("init", ["default", "xavier"])
        # named at the line by the initialisation alone: "RNN (tanh, Xavier init)" -> "bound, Xavier init"
        bounds = [{"label": f"bound (γ·σ_max)^(T−k), {j.label.split(', ', 1)[-1].rstrip(')')}", "rate": j.bound,
                   "slot": slots.get(k.split('/')[1], 0),
                   "name": "bound, " + j.label.split(", ", 1)[-1].rstrip(")")}
                  for k, j in n.judged.items() if k.startswith("init/")]
        out += ctx.figure(
            "decay", lambda: figures.gradient_vs_lag(series, bounds),
            "Gradient norm ‖∂L/∂h_k‖ relative to the last step against the distance T−k at initialisation, tanh RNN at "
            "PyTorch's default and at Xavier init (geometric mean over seeds; band: range over seeds). Dotted: each "
            "initialisation's Pascanu bound (γ·σ_max)^(T−k), which here allows the gradient to grow.",
            "Log-scale gradient against distance at initialisation. " + "; ".join(
                f"{j.label}: rate {num(j.rate.mean)} per step, bound {num(j.bound)}" for k, j in n.judged.items()
                if k.startswith("init/")) + ".")
    return out
