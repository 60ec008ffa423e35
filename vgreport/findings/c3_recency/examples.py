"""C3's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F, LEARN as L, MIXED

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"architecture": {"sens": {"rnn_tanh": 0.0}},
             "recall_lag": {"accs": {1: F, 15: L}}}),
    Example("open", "inconclusive",
            {"architecture": {"sens": {"rnn_tanh": -1.0}},
             "recall_lag": {"accs": {1: MIXED, 15: MIXED}}}),
]
