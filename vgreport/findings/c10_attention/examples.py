"""C10's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import FAIL as F
from ..synthetic import MIXED, Example
from ..synthetic import SOLVE as L

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"architecture": {"rates": {"transformer": -0.3}, "accs": {"transformer": {5: L, 10: F, 20: F}}}}),
    # After training the ratio at the farthest input straddles a tenth of the gradient one step back.
    Example("open", "inconclusive",
            {"architecture": {"rates": {"transformer": -0.1279}, "accs": {"transformer": MIXED}}}),
    # Nothing solves, not even the short control: the solving clause is untested, the claim only partly tested.
    Example("budget-limited", "partly tested", {"architecture": {"accs": {"transformer": F}}},
            {"solves": None, "control": False}),
    # Flat at initialisation (near-uniform attention), but training concentrates the gradient near the output.
    Example("flat at initialisation only", "partly refuted",
            {"architecture": {"trained_rates": {"transformer": -0.3}}}, {"flat": False, "flat_init": True}),
    Example("core refuted, context holds", "partly refuted",
            {"architecture": {"rates": {"transformer": -0.3}}}, {"flat": False, "control": True}),
]
