"""C4's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import FAIL as F
from ..synthetic import MIXED, Example
from ..synthetic import SOLVE as L

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"recall_length": {"accs": {5: F, 50: L}},
             "adding_length": {"mse": {"rnn_tanh": {5: 0.17, 10: 0.05, 20: 0.01}}}}),
    Example("open", "inconclusive",
            {"recall_length": {"accs": {5: MIXED, 50: MIXED}},
             "adding_length": {"mse": {"rnn_tanh": {5: [0.01, 0.17], 10: 0.05, 20: [0.01, 0.17]}}}}),
    # The long length fails but its control, the short length, is not learned either: budget-limited.
    Example("no control", "inconclusive",
            {"recall_length": {"accs": {5: MIXED, 50: F}},
             "adding_length": {"mse": {"rnn_tanh": {5: [0.01, 0.17], 10: 0.05, 20: 0.17}}}},
            {"recall_length_long": None, "adding_length_long": None}),
    Example("core refuted, context holds", "partly refuted", {"recall_length": {"accs": {50: L}}},
            {"recall_length_long": False, "more_steps": True}),
]
