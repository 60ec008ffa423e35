"""C5's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import FAIL as F
from ..synthetic import MIXED, Example, cell, seed_score
from ..synthetic import SOLVE as L

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"budget": {"best": L, "last": 0.35}}),
    Example("open", "inconclusive",
            {"budget": {"best": MIXED}}),
    # Every seed's best accuracy 0.222: ambiguous, not rescued; the prose must not say "most seeds learn".
    Example("ambiguous seeds are not rescued", "supported", {"budget": {"best": 0.222}}, {"never": True}),
    Example("no control", "inconclusive", {"recall_length": {"accs": {5: F, 10: F, 20: F}}},
            {"never": None, "control": False}),
    # Undecided but leaning: the take-away must say which way (5 of 6 rescued, none failed; 1 of 6 rescued).
    Example("most rescued, undecided", "inconclusive", {"budget": {"best": [L, L, L, L, L, 0.222]}}, {"never": None}),
    Example("few rescued, undecided", "inconclusive", {"budget": {"best": [L, F, F, F, F, F]}}, {"never": None}),
    Example("core refuted, context holds", "refuted", {"budget": {"best": L}}, {"never": False, "control": True}),
]


# Builders of the experiments this folder's worlds own (synthetic.world adds them to the shared ones).
def budget(seeds=6, best=None, last=None, standard=100, length=20) -> list[dict]:
    """best: per seed the best accuracy reached (a number or a list); last: the final one (default: best)."""
    best = F if best is None else best
    out = []
    for seed in range(seeds):
        top = seed_score(best, seed)
        end = seed_score(last, seed) if last is not None else top
        steps = list(range(standard // 2, 8 * standard + 1, standard // 2))
        # rises linearly to its best at 6x, then moves to its last value
        curve = [(s, F + (top - F) * min(1.0, s / (6 * standard)) if s <= 6 * standard else end) for s in steps]
        out += cell("budget", "rnn_tanh", seed, length=length, budget=8 * standard, rate=-0.2, bound=0.14,
                    score=curve[-1][1], curve=curve)
    return out


BUILDERS = {"budget": budget}
