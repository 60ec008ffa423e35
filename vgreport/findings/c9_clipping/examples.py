"""C9's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, LEARN as L

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"clip_exploding": {"clipped_diverge": True},
             "clip_vanishing": {"accs": {"clipped": L}, "trained_rates": {"clipped": -0.05}}}),
    Example("open", "inconclusive",
            {"clip_exploding": {"unclipped_diverge": False},
             "clip_vanishing": {"fraction": 0.01}}),
]
