"""C3's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
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
            {"architecture": {"sens": {"rnn_tanh": 0.0}, "influence": {"rnn_tanh": 0.9}},
             "recall_lag": {"accs": {1: F, 15: L}}}),
    Example("open", "inconclusive",
            {"architecture": {"sens": {"rnn_tanh": -1.0}, "influence": {"rnn_tanh": [0.05, 0.9] * 3}},
             "recall_lag": {"accs": {1: MIXED, 15: MIXED}}}),
    # The cue still decides most answers, though its gradient is 1e-16 of the last input's (context holds).
    Example("core refuted, context holds", "partly refuted", {"architecture": {"influence": {"rnn_tanh": 0.9}}},
            {"influence": False, "sensitivity": True}),
    # Half the seeds follow the cue (a mean share of changed answers near 0.3 would hide it): counted per
    # seed, the influence clause is undecided, so the claim is only partly tested.
    Example("bimodal seeds", "partly tested", {"architecture": {"influence": {"rnn_tanh": [0.05, 0.6] * 3}}},
            {"influence": None, "short_lag": True}),
    # No reference model follows the cue either, and the near token is not above chance: no control, no failure.
    Example("no control", "inconclusive",
            {"architecture": {"influence": {"lstm_chrono": 0.05, "transformer": 0.05}},
             "recall_lag": {"accs": {1: MIXED, 15: F}}},
            {"influence": None, "long_lag": None}),
]


# Builders of the experiments this folder's worlds own (synthetic.world adds them to the shared ones).
def recall_lag(seeds=6, accs=None, lags=(1, 5, 15), length=20) -> list[dict]:
    accs = {1: L, 5: 0.7, 15: F, **(accs or {})}
    return [r for lag in lags for seed in range(seeds)
            for r in cell("recall_lag", f"lag_{lag}", seed, length=length, rate=-0.2, bound=0.14,
                          score=seed_score(accs[lag], seed))]


BUILDERS = {"recall_lag": recall_lag}
