"""C4's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F, LEARN as L, MIXED

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"recall_length": {"accs": {5: F, 50: L}},
             "adding_length": {"mse": {"rnn_tanh": {5: 0.17, 10: 0.05, 20: 0.01}}},
             "copy": {"accs": {"rnn_tanh": {5: F, 30: L}}}}),
    Example("open", "inconclusive",
            {"recall_length": {"accs": {5: MIXED, 50: MIXED}},
             "adding_length": {"mse": {"rnn_tanh": {5: [0.01, 0.17], 10: 0.05, 20: [0.01, 0.17]}}},
             "copy": {"accs": {"rnn_tanh": {5: MIXED, 30: MIXED}}}}),
]
