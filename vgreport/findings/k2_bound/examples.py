"""K2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
state each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import NOTHING, Example

EXAMPLES = [
    Example("passing", "pass"),
    Example("failing", "fail",
            {"activation": {"bound_shift": 0.05}}),
    Example("open", "undetermined", NOTHING),
]
