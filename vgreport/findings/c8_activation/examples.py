"""C8's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F, LEARN as L, MIXED

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"activation": {"accs": {"identity": F, "tanh": F, "relu": L, "sigmoid": L},
                            "sq": {"tanh": 0.5, "sigmoid": 0.5, "relu": 0.99}}}),
    Example("open", "inconclusive",
            {"activation": {"accs": {"identity": MIXED, "tanh": MIXED, "relu": MIXED, "sigmoid": MIXED},
                            "rate_spread": 0.02}}),
]
