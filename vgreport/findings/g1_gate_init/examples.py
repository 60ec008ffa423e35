"""G1's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F, LEARN as L, MIXED

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"architecture": {"accs": {"lstm_chrono": F, "lstm_default": L}},
             "lstm_tuning": {"accs": {"lr_low": L, "lr_high": L, "wide": L}}}),
    Example("open", "inconclusive",
            {"architecture": {"accs": {"lstm_chrono": MIXED, "lstm_default": MIXED}},
             "lstm_tuning": {"accs": {"lr_low": MIXED, "lr_high": MIXED, "wide": MIXED}}}),
    # The default fails, but so does chrono, the reference at this length: the failure is the budget's.
    Example("no control", "refuted", {"architecture": {"accs": {"lstm_chrono": F}}},
            {"default_fails": None, "tuning_wide": None}),
    Example("core refuted, context holds", "refuted",
            {"architecture": {"accs": {"lstm_chrono": F, "lstm_forget_bias_1": L}}},
            {"chrono_learns": False, "forget_bias_1_learns": True}),
]
