"""C2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"init": {"rates": {"default": 0.05, "xavier": 0.05}},
             "gain_sweep_sigmoid": {"rates": {4.0: 0.05, 6.0: 0.05}}}),
    Example("open", "inconclusive",
            {"init": {"rates": {"default": 0.002, "xavier": 0.002}},
             "gain_sweep_sigmoid": {"rates": {4.0: 0.001, 6.0: 0.001}}}),
]
