"""C9's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation), and one whose only holding part would be an equivalence of two arms at chance (no support)."""
from __future__ import annotations

from ..synthetic import Example, LEARN as L

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
]
