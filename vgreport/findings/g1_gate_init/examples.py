"""G1's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import FAIL as F
from ..synthetic import MIXED, Example, cell, seed_score
from ..synthetic import SOLVE as L

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
    # The doctoring: the default LSTM stays at chance even at the short length, so its failure at the
    # long one cannot be told from a budget too small for it: the default clause is untested, no support.
    Example("default LSTM's short control at chance", "partly tested",
            {"architecture": {"accs": {"lstm_default": F}}}, {"default_fails": None, "default_control": False}),
    Example("core refuted, context holds", "refuted",
            {"architecture": {"accs": {"lstm_chrono": F, "lstm_forget_bias_1": L}}},
            {"chrono_learns": False, "forget_bias_1_learns": True}),
]


# Builders of the experiments this folder's worlds own (synthetic.world adds them to the shared ones).
def lstm_tuning(seeds=6, accs=None, length=20) -> list[dict]:
    accs = {"lr_low": F, "lr_high": F, "wide": F, **(accs or {})}
    return [r for v, acc in accs.items() for seed in range(seeds)
            for r in cell("lstm_tuning", v, seed, arch="lstm", length=length, rate=-0.3, bound=0.1,
                          score=seed_score(acc, seed))]


BUILDERS = {"lstm_tuning": lstm_tuning}
