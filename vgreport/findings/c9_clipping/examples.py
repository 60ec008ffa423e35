"""C9's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation), and one whose only holding part would be an equivalence of two arms at chance (no support)."""
from __future__ import annotations

import math

from ..synthetic import FAIL, Example, cell, seed_score
from ..synthetic import SOLVE as L

EXAMPLES = [
    Example("supporting", "supported", {"clip_vanishing": {"accs": {"no_clip": L, "clipped": L}}}),
    Example("refuting", "refuted",
            {"clip_exploding": {"clipped_diverge": True},
             "clip_vanishing": {"accs": {"no_clip": L, "clipped": 0.6}, "trained_rates": {"clipped": -0.05}}}),
    Example("open", "inconclusive",
            {"clip_exploding": {"unclipped_diverge": False},
             "clip_vanishing": {"fraction": 0.01}}),
    # Both vanishing arms at chance (0.125 against 0.125): "equivalent" whatever clipping does, so undetermined.
    Example("equivalence at chance", "inconclusive", {"clip_exploding": {"unclipped_diverge": False}},
            {"vanishing_rate": None, "vanishing_accuracy": None, "vanishing_active": True}),
    # A threshold of 1e6 never fires: the clipped runs diverge like the unclipped ones.
    Example("clip threshold 1e6", "partly refuted",
            {"clip_exploding": {"clip": 1e6, "clipped_diverge": True},
             "clip_vanishing": {"accs": {"no_clip": L, "clipped": L}}},
            {"exploding": False, "vanishing_active": True}),
    Example("clip threshold 1e6, vanishing arm at chance", "refuted",
            {"clip_exploding": {"clip": 1e6, "clipped_diverge": True}}, {"exploding": False}),
    # The doctoring: the vanishing clause cannot be tested at this budget (both arms at chance), so
    # however well the exploding clause holds, the claim is only partly tested, outside the support tally.
    Example("vanishing clause untestable", "partly tested", {}, {"exploding": True, "vanishing_rate": None}),
    # Clipping keeps the runs finite (lr·clip bounds each step) but they never solve: the exploding clause fails.
    Example("clipped runs stay at chance", "partly refuted",
            {"clip_exploding": {"clipped_score": FAIL}, "clip_vanishing": {"accs": {"no_clip": L, "clipped": L}}},
            {"exploding": False}),
]


# Builders of the experiments this folder's worlds own (synthetic.world adds them to the shared ones).
def clip_exploding(seeds=6, unclipped_diverge=True, clipped_diverge=False, clip=1.0, clipped_score=1.0) -> list[dict]:
    """clip: the clipped arm's threshold (1e6 never fires: its runs diverge like the unclipped ones);
    clipped_score: the clipped runs' final accuracy."""
    out = []
    logs = [(s, 400 / s, 1000 / s) for s in range(5, 101, 5)]
    for v, clip, diverge in (("no_clip", None, unclipped_diverge), ("clipped", clip, clipped_diverge)):
        for seed in range(seeds):
            d = diverge[seed % len(diverge)] if isinstance(diverge, (list, tuple)) else diverge
            out += cell("clip_exploding", v, seed, activation="identity", init="orthogonal", gain=1.2, length=20,
                        clip=clip, rate=math.log(1.2), bound=math.log(1.2), score=clipped_score if clip else 1.0,
                        diverged_step=2 + seed if d else None, train_logs=logs)
    return out


def clip_vanishing(seeds=6, accs=None, trained_rates=None, fraction=0.9) -> list[dict]:
    accs = {"no_clip": FAIL, "clipped": FAIL, **(accs or {})}
    trained_rates = {"no_clip": -0.1, "clipped": -0.1, **(trained_rates or {})}
    out = []
    for v, clip in (("no_clip", None), ("clipped", 0.05)):
        logs = [(s, 2.0, 0.1) + ((fraction,) if clip else ()) for s in range(25, 101, 25)]
        for seed in range(seeds):
            out += cell("clip_vanishing", v, seed, length=20, clip=clip, rate=-0.2, bound=0.14,
                        score=seed_score(accs[v], seed), trained_rate=trained_rates[v] + 0.0005 * ((seed % 3) - 1),
                        trained_bound=0.14, train_logs=logs)
    return out


BUILDERS = {"clip_exploding": clip_exploding, "clip_vanishing": clip_vanishing}
