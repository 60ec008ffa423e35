"""Part of stage 10 (the document): the dynamical-systems section, decided from Evaluation.dynamics.

The template holds the words; which sentence it writes is decided here from this build's records:
the seeds' groups (ignores the cue, stores it without solving, solved), whether each group's
gradient decays faster or more slowly than at initialisation (one sentence when every seed of the group
agrees, else how many seeds do which), and the seed whose answers follow a cue its gradient barely reaches."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..figures.dynamics import dynamics_figure
from ..figures.style import narrow
from ..findings import Evaluation, Figure

__all__ = ["Dynamics", "dynamics", "IGNORES_BELOW", "SOLVED_FROM", "FIT_R2"]

IGNORES_BELOW = 0.25   # C3's threshold: a cue influence below it is "ignores the cue"
SOLVED_FROM = 0.9      # final accuracy from which a seed is drawn as "solved" (a display grouping, not a verdict)
FIT_R2 = 0.9           # a trained curve whose straight-line fit explains less is not given a rate
KEPT = 0.1             # a gradient that keeps at least this share at the farthest distance has not vanished


@dataclass
class Group:
    name: str                     # solved, stores, ignores
    seeds: list = field(default_factory=list)
    direction: str = ""           # faster, slower: the trained rate against the initial one, in every seed
    faster: int = 0               # seeds whose trained fit is a line decaying faster than at initialisation
    slower: int = 0               # ... more slowly
    curved: int = 0               # seeds whose trained gradient is no straight line on a log scale (no rate)
    rates: tuple = ()             # (min, max) trained rate over the seeds whose fit is a line
    ends: tuple = ()              # (min, max) log10 of the trained gradient at the farthest distance
    span: tuple = ()              # (min, max) log10 of the trained gradient over every distance
    influence: tuple = ()
    accuracy: tuple = ()

    def __len__(self) -> int:
        return len(self.seeds)


@dataclass
class Dynamics:
    label: str
    length: int
    budget: int
    seeds: list
    groups: dict                  # name -> Group, every name present (empty groups are falsy)
    init_rates: tuple             # (min, max) rate per step at initialisation
    init_ends: tuple              # (min, max) log10 of the initial gradient at the farthest distance
    example: dict | None = None   # the seed with influence ≥ 0.5 whose sensitivity to the cue is smallest
    faster: int = 0               # seeds whose trained gradient decays faster than their initial one (both fits lines)
    slower: int = 0
    # Bengio et al.'s dilemma is about robust storage: which of the seeds that store the cue (or solve) fit it,
    # decaying faster after training, and which keep at least a tenth of the gradient at the farthest distance
    remembering: int = 0          # seeds that store the cue or solve the task
    remembering_faster: int = 0   # ... whose trained gradient (a line) decays faster than at initialisation
    remembering_kept: int = 0     # ... whose trained gradient at the farthest distance is at least KEPT
    kept: float = KEPT
    id: str = "dynamics"          # placed and numbered like a finding's figure: figure(dynamics, 'dynamics')
    figures: list = field(default_factory=list)

    @property
    def figure_keys(self) -> list[str]:
        return [f.key for f in self.figures]


def _range(values) -> tuple:
    values = [v for v in values if math.isfinite(v)]
    return (min(values), max(values)) if values else ()


def _log10(v: float) -> float:
    return math.log10(v) if v > 0 else math.nan


def _group(seed: dict) -> str:
    if math.isfinite(seed["influence"]) and seed["influence"] < IGNORES_BELOW:
        return "ignores"
    return "solved" if seed["accuracy"] >= SOLVED_FROM else "stores"


def _linear(seed: dict) -> bool:
    return math.isfinite(seed["rate_trained"]) and seed["r2_trained"] >= FIT_R2


def dynamics(evaluation: Evaluation, with_figure: bool = True) -> Dynamics | None:
    """The section's facts, or None when the build has no trained tanh RNN in 'architecture'."""
    d = evaluation.dynamics
    if not d or not d.get("seeds"):
        return None
    seeds = [{**s, "group": _group(s)} for s in d["seeds"]]
    groups = {}
    for name in ("ignores", "stores", "solved"):
        members = [s for s in seeds if s["group"] == name]
        g = Group(name, members)
        lines = [s for s in members if _linear(s)]
        g.faster = sum(s["rate_trained"] < s["rate_init"] for s in lines)
        g.slower = sum(s["rate_trained"] > s["rate_init"] for s in lines)
        g.curved = len(members) - len(lines)
        if members and g.faster == len(members):
            g.direction = "faster"
        elif members and g.slower == len(members):
            g.direction = "slower"
        g.rates = _range(s["rate_trained"] for s in lines)
        g.ends = _range(_log10(s["trained"][-1]) for s in members)
        g.span = _range(_log10(v) for s in members for v in s["trained"][1:])
        g.influence = _range(s["influence"] for s in members)
        g.accuracy = _range(s["accuracy"] for s in members)
        groups[name] = g
    both = [s for s in seeds if _linear(s) and math.isfinite(s["rate_init"])]
    out = Dynamics(label=d["label"], length=d["length"], budget=d["budget"], seeds=seeds, groups=groups,
                   init_rates=_range(s["rate_init"] for s in seeds),
                   init_ends=_range(_log10(s["init"][-1]) for s in seeds),
                   faster=sum(s["rate_trained"] < s["rate_init"] for s in both),
                   slower=sum(s["rate_trained"] > s["rate_init"] for s in both))
    remembering = [s for s in seeds if s["group"] in ("stores", "solved")]
    out.remembering = len(remembering)
    out.remembering_faster = sum(_linear(s) and s["rate_trained"] < s["rate_init"] for s in remembering)
    out.remembering_kept = sum(s["trained"][-1] >= KEPT for s in remembering)
    following = [s for s in seeds if s["influence"] >= 0.5 and math.isfinite(s["sens_log10"])]
    if following:
        out.example = min(following, key=lambda s: s["sens_log10"])
    if with_figure:
        def draw() -> str:
            return dynamics_figure(seeds, IGNORES_BELOW)
        alt = ("Two panels. Left: the gradient reaching earlier states of the plain tanh RNN, relative to the "
               "last state, against the distance back, at initialisation (a grey band) and after training (one line "
               "per seed). Right: per trained seed, the share of answers that change when the cue is swapped "
               "against log10 of the output's sensitivity to the cue relative to the last input. "
               + "; ".join(f"seed {s['seed']}: {s['group']}, influence {s['influence']:.2f}, accuracy "
                           f"{s['accuracy']:.2f}" for s in seeds) + ".")
        out.figures = [Figure("dynamics", draw(), "", alt, narrow(draw))]
    return out


# The by-hand exercise: a 2-unit tanh RNN h_t = tanh(W h_(t−1) + u_t) from h_0 = 0 for three steps,
# with inputs chosen so that every state is tidy (tanh(ln 2) = 0.6, tanh(ln 3) = 0.8). SNIPPET is
# printed in the handout as it stands; tests run it and compare its output with exercise_answer().
W_EXERCISE = ((1.0, 0.5), (-0.5, 1.0))
SNIPPET = """\
import math, torch
torch.set_default_dtype(torch.float64)
W = torch.tensor([[1.0, 0.5], [-0.5, 1.0]])               # the recurrent weights
a, b = math.log(2), math.log(3)                            # tanh(ln 2) = 0.6, tanh(ln 3) = 0.8
u = torch.tensor([[a, -b], [b - 0.2, a + 1.1], [-1.1, a - 0.2]])  # u_1, u_2, u_3
def run(h, k, n=3):                                        # from h[k] to h[n]
    for t in range(k, n): h = torch.tanh(W @ h + u[t])
    return h
h = [run(torch.zeros(2), 0, n) for n in range(4)]          # h_0 ... h_3
print("h1, h2, h3:", [[round(v, 4) for v in x.tolist()] for x in h[1:]])
for k in (2, 1, 0):
    J = torch.autograd.functional.jacobian(lambda x: run(x, k), h[k])
    print(f"dh3/dh{k} 2-norm: {torch.linalg.matrix_norm(J, 2).item():.4f}")
"""


def exercise_answer() -> dict:
    """The exercise worked as a student would, without autograd: the states, each Jacobian
    diag(1 − h_t²)·W, their products and each product's 2-norm from the 2×2 formula
    ‖A‖₂² = (F² + √(F⁴ − 4·det²)) / 2, next to the bound σ_max(W)^(3−k) (γ = 1 for tanh)."""
    import numpy as np
    W = np.array(W_EXERCISE)
    a, b = math.log(2), math.log(3)
    u = np.array([[a, -b], [b - 0.2, a + 1.1], [-1.1, a - 0.2]])
    h = [np.zeros(2)]
    for t in range(3):
        h.append(np.tanh(W @ h[-1] + u[t]))
    jacobians = [np.diag(1 - h[t] ** 2) @ W for t in (1, 2, 3)]    # J_1, J_2, J_3
    product, norms = np.eye(2), {}
    for k in (2, 1, 0):                                            # ∂h_3/∂h_k = J_3 … J_(k+1)
        product = product @ jacobians[k]
        f2, det = float((product ** 2).sum()), float(np.linalg.det(product))
        norms[k] = math.sqrt((f2 + math.sqrt(max(f2 * f2 - 4 * det * det, 0.0))) / 2)
    sigma = float(np.linalg.norm(W, 2))
    return {"states": [[round(float(v), 4) + 0.0 for v in x] for x in h[1:]], "norms": norms,
            "bounds": {k: sigma ** (3 - k) for k in norms}, "sigma": sigma,
            "derivs": [[round(float(v), 4) for v in 1 - x ** 2] for x in h[1:]]}
