"""K3's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
state each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example

EXAMPLES = [
    Example("passing", "pass"),
    Example("failing", "fail",
            {"gain_sweep": {"identity_error": 0.01}}),
    Example("open", "undetermined",
            {"gain_sweep": None}),
]
