"""C7's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import FAIL as F
from ..synthetic import SOLVE as L
from ..synthetic import Example

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"init": {"accs": {"default": L, "xavier": F, "orthogonal": F, "irnn": F}},
             "adding_length": {"mse": {"irnn": {5: 0.17, 10: 0.17, 20: 0.17},
                                       "rnn_tanh": {5: 0.01, 10: 0.01, 20: 0.01}}}}),
    Example("open", "inconclusive",
            {"init": {"accs": {"xavier": [0.125, 0.4], "orthogonal": [0.125, 0.4], "irnn": [0.125, 0.4]}},
             "adding_length": {"mse": {"irnn": {5: 0.01, 10: 0.01, 20: 0.17}}}}),
    # Every initialisation at chance: no help shown, and no refutation either (nothing learned).
    Example("all at chance", "supported so far", {"init": {"accs": {"xavier": F, "orthogonal": F, "irnn": F}}},
            {"recall": None}),
    Example("core refuted, context holds", "partly refuted",
            {"adding_length": {"mse": {"irnn": {5: 0.17, 10: 0.17, 20: 0.17},
                                       "rnn_tanh": {5: 0.01, 10: 0.01, 20: 0.01}}}},
            {"adding": False, "orthogonal_helps": True}),
]
