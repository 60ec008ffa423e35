"""G2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

import math

from ..synthetic import FAIL as F
from ..synthetic import LEARN as L
from ..synthetic import MIXED, Example, cell, seed_score

EXAMPLES = [
    Example("supporting", "supported", {"gain_train": {"accs": {1.5: F}}}),
    Example("refuting", "refuted",
            {"gain_train": {"accs": {0.5: L, 1.0: F, 1.5: L}}}),
    Example("open", "inconclusive",
            {"gain_train": {"accs": {0.5: MIXED, 1.0: MIXED, 1.5: MIXED}}}),
    # Nothing learns at any gain: no gain can be outside a window that was never seen.
    Example("budget-limited", "inconclusive", {"gain_train": {"accs": {0.5: F, 1.0: F, 1.5: F}}},
            {"centre": None, "vanishing": None, "exploding": None}),
    # The growing side still trains (refuted) while the window holds g = 1.5 (context).
    Example("core refuted, context holds", "partly refuted", {}, {"exploding": False, "gain_1.5": True}),
]


# Builders of the experiments this folder's worlds own (synthetic.world adds them to the shared ones).
def gain_train(seeds=6, accs=None, gains=(0.5, 1.0, 1.5), length=20) -> list[dict]:
    accs = {0.5: F, 1.0: 0.9, 1.5: 0.3, **(accs or {})}
    return [r for g in gains for seed in range(seeds)
            for r in cell("gain_train", "tanh", seed, init="orthogonal", gain=g, length=length,
                          rate=math.log(g) - 0.001 * (seed % 3), bound=max(math.log(g), 0), score=seed_score(accs[g], seed))]


BUILDERS = {"gain_train": gain_train}
