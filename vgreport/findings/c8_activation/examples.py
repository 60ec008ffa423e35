"""C8's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import FAIL as F
from ..synthetic import MIXED, PARTIAL, SOLVE, Example
from ..synthetic import SOLVE as L

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"activation": {"accs": {"identity": F, "tanh": F, "relu": L, "sigmoid": L},
                            "sq": {"tanh": 0.5, "sigmoid": 0.5, "relu": 0.99}}}),
    Example("open", "inconclusive",
            {"activation": {"accs": {"identity": MIXED, "tanh": MIXED, "relu": MIXED, "sigmoid": MIXED},
                            "rate_spread": 0.02}}),
    # Identity 0.976 against tanh 1.000: both solve, a tie at the ceiling, never a refutation.
    Example("ceiling", "supported", {"activation": {"accs": {"identity": 0.976, "tanh": 1.0}}},
            {"trainability_10": True, "trainability_20": True}),
    # The data's pattern at a second length: the identity (no decay) only rises above chance while tanh
    # solves; at the shorter length both solve. The longer length refutes the claim there.
    Example("one length refutes", "partly refuted",
            {"activation": {"accs": {"identity": {10: SOLVE, 20: PARTIAL}, "tanh": SOLVE}}},
            {"trainability_10": True, "trainability_20": False}),
    Example("core refuted, context holds", "refuted",
            {"activation": {"accs": {"identity": F, "tanh": F, "relu": L, "sigmoid": L}}},
            {"trainability_10": False, "trainability_20": False, "prediction": True}),
]
