"""G2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F, LEARN as L, MIXED

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
