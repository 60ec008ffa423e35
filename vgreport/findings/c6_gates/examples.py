"""C6's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, LEARN as L, MIXED

EXAMPLES = [
    Example("refuting", "refuted",
            {"architecture": {"rates": {"lstm_default": -0.9, "lstm_forget_bias_1": -0.9,
                                        "lstm_chrono": -0.9, "gru": -0.9}}}),
    Example("supporting", "supported",
            {"architecture": {"accs": {"lstm_default": L, "gru": L}}}),
    Example("open", "inconclusive",
            {"architecture": {"rates": {"lstm_default": -0.5, "lstm_forget_bias_1": -0.5,
                                        "lstm_chrono": -0.5, "gru": -0.5},
                              "accs": {"lstm_default": MIXED, "gru": MIXED}}}),
]
