"""C5's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, LEARN as L, MIXED

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"budget": {"best": L, "last": 0.35}}),
    Example("open", "inconclusive",
            {"budget": {"best": MIXED}}),
]
