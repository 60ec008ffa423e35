"""C10's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F, MIXED

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"architecture": {"rates": {"transformer": -0.3}, "accs": {"transformer": F}}}),
    Example("open", "inconclusive",
            {"architecture": {"rates": {"transformer": -0.01}, "accs": {"transformer": MIXED}}}),
]
