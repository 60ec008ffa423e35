"""G2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F, LEARN as L, MIXED

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"gain_train": {"accs": {0.5: L, 1.0: F, 1.5: L}}}),
    Example("open", "inconclusive",
            {"gain_train": {"accs": {0.5: MIXED, 1.0: MIXED, 1.5: MIXED}}}),
]
