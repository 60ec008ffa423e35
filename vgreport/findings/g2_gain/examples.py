"""G2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

import math

from ..synthetic import FAIL as F
from ..synthetic import MIXED, Example, cell, seed_score
from ..synthetic import SOLVE as L

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"gain_train": {"accs": {0.5: L, 1.0: F, 1.25: F, 1.6: L, 4.0: L}}}),
    Example("open", "inconclusive",
            {"gain_train": {"accs": {0.5: MIXED, 1.0: MIXED, 1.25: MIXED, 1.6: MIXED, 4.0: MIXED}}}),
    # Nothing solves at any gain: no gain can be outside a window that was never seen.
    Example("budget-limited", "inconclusive", {"gain_train": {"accs": {0.5: F, 1.0: F, 1.25: F, 1.6: F, 4.0: F}}},
            {"centre": None, "vanishing": None, "exploding": None}),
    # The vanishing side still trains (refuted) while the window holds g = 1.25 (context).
    Example("core refuted, context holds", "partly refuted", {"gain_train": {"accs": {0.5: L}}},
            {"vanishing": False, "gain_1.25": True}),
    # The doctoring: g = 1.25 and 1.6 fail while g = 4 solves: a hole in the window refutes it.
    Example("hole in the window", "partly refuted", {"gain_train": {"accs": {1.25: F, 1.6: F, 4.0: L}}},
            {"contiguous": False, "centre": True}),
    # Every gain above 1 solves: the window's upper edge is not found, so that clause is untested.
    Example("no upper edge", "partly tested", {"gain_train": {"accs": {1.6: L, 4.0: L}}},
            {"exploding": None, "contiguous": True}),
]


# Builders of the experiments this folder's worlds own (synthetic.world adds them to the shared ones).
def gain_train(seeds=6, accs=None, gains=(0.5, 1.0, 1.25, 1.6, 4.0), length=20) -> list[dict]:
    accs = {0.5: F, 1.0: L, 1.25: L, 1.6: 0.3, 4.0: F, **(accs or {})}
    return [r for g in gains for seed in range(seeds)
            for r in cell("gain_train", "tanh", seed, init="orthogonal", gain=g, length=length,
                          rate=math.log(g) - 0.001 * (seed % 3), bound=max(math.log(g), 0), score=seed_score(accs[g], seed))]


BUILDERS = {"gain_train": gain_train}
