"""C6's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import FAIL as F
from ..synthetic import MIXED, SOLVE, Example
from ..synthetic import SOLVE as L

EXAMPLES = [
    Example("refuting", "refuted",
            {"architecture": {"rates": {"lstm_default": -0.5, "lstm_forget_bias_1": -0.5,
                                        "lstm_chrono": -0.5, "gru": -0.5}}}),
    Example("supporting", "supported",
            {"architecture": {"rates": {"lstm_default": -0.05, "gru": -0.05}, "accs": {"lstm_default": L, "gru": L}}}),
    # Mean rates at the stated minimum (a tenth left over 19 steps: log 0.1 / 19 per step), half the seeds learning.
    Example("open", "inconclusive",
            {"architecture": {"rates": {"lstm_default": -0.11919, "lstm_forget_bias_1": -0.11919,
                                        "lstm_chrono": -0.11919, "gru": -0.11919},
                              "accs": {"lstm_default": MIXED, "gru": MIXED}}}),
    # They fail the long length, but they fail the short one too: budget-limited, never "does not learn"; the
    # learning clause is then untested, so the claim is only partly tested (no support).
    Example("budget-limited", "partly tested",
            {"architecture": {"rates": {"lstm_default": -0.05, "gru": -0.05}, "accs": {"lstm_default": F, "gru": F}}},
            {"lstm_default_learns": None, "lstm_default_control": False, "gru_learns": None}),
    # The gradient is kept at initialisation but lost in training: "preserves" is judged after training.
    Example("kept at initialisation only", "partly refuted",
            {"architecture": {"rates": {"lstm_default": -0.02, "gru": -0.02}, "accs": {"lstm_default": SOLVE, "gru": SOLVE},
                              "trained_rates": {"lstm_default": -0.5, "gru": -0.5}}},
            {"lstm_default_preserves": False, "gru_preserves": False, "lstm_default_learns": True}),
    # Slower than the RNN (−0.3 against −0.5 per step) is not preservation; chrono (context) does preserve.
    Example("core refuted, context holds", "partly refuted",
            {"architecture": {"accs": {"lstm_default": L, "gru": L}}},
            {"lstm_default_preserves": False, "lstm_chrono_preserves": True, "lstm_default_learns": True}),
]
