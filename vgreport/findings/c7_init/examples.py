"""C7's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"init": {"accs": {"xavier": F, "orthogonal": F, "irnn": F}},
             "adding_length": {"mse": {"irnn": {5: 0.17, 10: 0.17, 20: 0.17},
                                       "rnn_tanh": {5: 0.01, 10: 0.01, 20: 0.01}}}}),
    Example("open", "inconclusive",
            {"init": {"accs": {"xavier": [0.125, 0.4], "orthogonal": [0.125, 0.4], "irnn": [0.125, 0.4]}},
             "adding_length": {"mse": {"irnn": {5: 0.01, 10: 0.01, 20: 0.17}}}}),
]
