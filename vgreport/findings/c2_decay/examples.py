"""C2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
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
    # PyTorch's default init grows while the tanh sweep's small gains (context) still shrink.
    Example("core refuted, context holds", "partly refuted", {"init": {"rates": {"default": 0.05}}},
            {"init/default/1": False, "gain_sweep/tanh/0.5": True, "gain_sweep/tanh/1.5": False}),
]
