"""Part of stage 10 (the document): the teaching aids that open the report, computed from the evaluation.

The templates hold the words; what they say about the data is decided here, so a test can check
it: which models of the overview figure solved the task, whether the decay rate sorts them, and the
rows of the worked example a student can redo with a calculator.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import figures
from ..figures.style import narrow
from ..findings import Evaluation, Figure

__all__ = ["Overview", "overview", "WorkedExample", "worked_example"]


@dataclass
class Overview:
    """The hero figure and what its caption may say about it."""
    svg: str                      # figures.hero, or "" when no point could be drawn
    points: list = field(default_factory=list)      # Evaluation.overview's points, as drawn
    lengths: list = field(default_factory=list)     # the sequence lengths the points were read at
    chance: float | None = None
    solved: list = field(default_factory=list)      # points that solved in more than half their seeds
    unsolved: list = field(default_factory=list)    # the others
    sorted_by_rate: bool | None = None  # every solver's rate nearer 0 than every other's (None: one group empty)
    counterexample: tuple | None = None  # (a solver, a non-solver nearer 0) when not sorted
    alt: str = ""
    id: str = "overview"          # the figure is numbered and placed like a finding's: figure(overview, 'hero')
    figures: list = field(default_factory=list)

    @property
    def figure_keys(self) -> list[str]:
        return [f.key for f in self.figures]


def _solved(point: dict) -> bool:
    return point["seeds"] > 0 and 2 * point["solved"] > point["seeds"]


def overview(evaluation: Evaluation, with_figure: bool = True) -> Overview:
    """The overview figure: every model's decay rate at initialisation against its final accuracy,
    and the facts its caption states (who solved; whether the rate alone sorts them)."""
    points = [p for p in evaluation.overview if math.isfinite(p["rate"]) and math.isfinite(p["acc"])]
    chances = {p["chance"] for p in points}
    chance = chances.pop() if len(chances) == 1 else None
    out = Overview(svg="", points=points, lengths=sorted({p["length"] for p in points}), chance=chance)
    out.solved = [p for p in points if _solved(p)]
    out.unsolved = [p for p in points if not _solved(p)]
    if out.solved and out.unsolved:
        worst_solver = max(out.solved, key=lambda p: abs(p["rate"]))
        best_other = min(out.unsolved, key=lambda p: abs(p["rate"]))
        out.sorted_by_rate = abs(worst_solver["rate"]) < abs(best_other["rate"])
        if not out.sorted_by_rate:
            out.counterexample = (worst_solver, best_other)
    out.alt = ("Scatter plot of final accuracy against the gradient's decay rate per step at initialisation, one point "
               "per model: " + "; ".join(f"{p['label']}: rate {p['rate']:.3g}, accuracy {p['acc']:.2f}, solved in "
                                         f"{p['solved']} of {p['seeds']} seeds" for p in points) + ".")
    if with_figure and points:
        # each family in the style of its architecture (its models' colour and marker in the other figures)
        from ..architectures import ARCHITECTURES
        slots = {}
        for entry in ARCHITECTURES.values():
            slots.setdefault(entry.family, entry.slot)
        drawn = [{**p, "slot": slots[p["family"]]} if p.get("family") in slots else p for p in points]
        out.svg = figures.hero(drawn, chance=chance)
        out.figures = [Figure("hero", out.svg, "", out.alt, narrow(lambda: figures.hero(drawn, chance=chance)))]
    return out


@dataclass
class WorkedExample:
    """The tanh RNN at PyTorch's default initialisation, step by step (γ = 1 for tanh)."""
    label: str
    hidden: int
    length: int
    entry_range: float            # PyTorch draws W_hh's entries from U(−1/√H, 1/√H)
    sigma: float                  # measured σ_max(W_hh)
    radius: float                 # measured spectral radius of W_hh
    rate: float                   # fitted r per step at initialisation
    factor: float                 # e^r
    gamma: float = 1.0
    rows: list = field(default_factory=list)   # {k, bound, predicted, measured}
    bound_allows_growth: bool = False          # γ·σ_max ≥ 1: the bound says nothing about decay
    farthest_within: float = math.nan          # largest |log(measured / predicted)| over the rows, as a ratio


def worked_example(evaluation: Evaluation) -> WorkedExample | None:
    """Evaluation.worked_example as the rows of the report's box: k steps back, the Pascanu bound
    (γ·σ_max)^k, the prediction e^(r·k) and the measured ratio ‖∂L/∂h_(T−k)‖ / ‖∂L/∂h_T‖."""
    w = evaluation.worked_example
    if not w or not math.isfinite(w.get("sigma", math.nan)) or not math.isfinite(w.get("rate", math.nan)):
        return None
    out = WorkedExample(label=w["label"], hidden=int(w["hidden"]), length=int(w["length"]),
                        entry_range=1 / math.sqrt(w["hidden"]), sigma=w["sigma"], radius=w["radius"], rate=w["rate"],
                        factor=w["factor"])
    out.bound_allows_growth = out.gamma * out.sigma >= 1
    gaps = []
    # the box says "a calculator is enough": each row is the power of the number printed above it (3 digits)
    bound, factor = float(f"{out.gamma * out.sigma:.3g}"), float(f"{out.factor:.3g}")
    for k, row in sorted(w["steps"].items()):
        out.rows.append({"k": int(k), "bound": bound ** int(k), "predicted": factor ** int(k),
                         "measured": row["measured"]})
        if row["measured"] > 0 and math.isfinite(row["measured"]):
            gaps.append(abs(math.log(row["measured"] / row["predicted"])))
    out.farthest_within = math.exp(max(gaps)) if gaps else math.nan
    return out
