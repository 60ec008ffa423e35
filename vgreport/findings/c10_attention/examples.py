"""C10's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import FAIL as F
from ..synthetic import LEARN as L
from ..synthetic import MIXED, Example

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"architecture": {"rates": {"transformer": -0.3}, "accs": {"transformer": {5: L, 10: F, 20: F}}}}),
    Example("open", "inconclusive",
            {"architecture": {"rates": {"transformer": -0.01}, "accs": {"transformer": MIXED}}}),
    Example("budget-limited", "supported so far", {"architecture": {"accs": {"transformer": F}}},
            {"learns": None, "control": False}),
    Example("core refuted, context holds", "partly refuted",
            {"architecture": {"rates": {"transformer": -0.3}}}, {"flat": False, "control": True}),
]
