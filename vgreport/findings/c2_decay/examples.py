"""C2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

import math

from ..synthetic import Example, cell

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


# Builders of the experiments this folder's worlds own (synthetic.world adds them to the shared ones).
def gain_sweep_sigmoid(seeds=3, gains=(2.0, 4.0, 6.0), rates=None) -> list[dict]:
    rates = {2.0: -1.2, 4.0: -0.9, 6.0: -0.7, **(rates or {})}
    return [r for g in gains for seed in range(seeds)
            for r in cell("gain_sweep_sigmoid", "sigmoid", seed, activation="sigmoid", init="orthogonal", gain=g,
                          length=20, budget=0, gamma=0.25, rate=rates[g] - 0.001 * seed,
                          bound=max(math.log(g / 4), rates[g]))]


BUILDERS = {"gain_sweep_sigmoid": gain_sweep_sigmoid}
