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
    # Rates straddling the flat band's edge −0.01 per step: nothing decided.
    Example("open", "inconclusive",
            {"init": {"rates": {"default": -0.009, "xavier": -0.009}},
             "gain_sweep_sigmoid": {"rates": {4.0: -0.009, 6.0: -0.009}}}),
    # The doctorings: the tanh gradients made flat, exactly (rate 0 in every seed) or nearly
    # (−0.0001 to −0.0005 per step): a gradient that does not shrink refutes the tanh clause.
    Example("flat tanh gradient", "partly refuted", {"init": {"rates": {"default": 0.0, "xavier": 0.0}, "spread": 0.0}},
            {"init/default/1": False, "init/xavier/1": False, "gain_sweep_sigmoid/sigmoid/4": True}),
    Example("nearly flat tanh gradient", "partly refuted",
            {"init": {"rates": {"default": -0.0001, "xavier": -0.0001}, "spread": 0.0002}},
            {"init/default/1": False, "init/xavier/1": False}),
    Example("every gradient flat", "refuted",
            {"init": {"rates": {"default": 0.0, "xavier": 0.0}, "spread": 0.0},
             "gain_sweep_sigmoid": {"rates": {4.0: 0.0, 6.0: 0.0}, "spread": 0.0}}),
    # PyTorch's default init grows while the tanh sweep's small gains (context) still shrink.
    Example("core refuted, context holds", "partly refuted", {"init": {"rates": {"default": 0.05}}},
            {"init/default/1": False, "gain_sweep/tanh/0.5": True, "gain_sweep/tanh/1.5": False}),
]


# Builders of the experiments this folder's worlds own (synthetic.world adds them to the shared ones).
def gain_sweep_sigmoid(seeds=3, gains=(2.0, 4.0, 6.0), rates=None, spread=0.001) -> list[dict]:
    rates = {2.0: -1.2, 4.0: -0.9, 6.0: -0.7, **(rates or {})}
    return [r for g in gains for seed in range(seeds)
            for r in cell("gain_sweep_sigmoid", "sigmoid", seed, activation="sigmoid", init="orthogonal", gain=g,
                          length=20, budget=0, gamma=0.25, rate=rates[g] - spread * seed,
                          bound=max(math.log(g / 4), rates[g]))]


BUILDERS = {"gain_sweep_sigmoid": gain_sweep_sigmoid}
