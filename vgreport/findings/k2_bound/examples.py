"""K2's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
state each must produce. The generic test in tests/test_findings.py runs them."""
from __future__ import annotations

from ..synthetic import Example

EXAMPLES = [
    Example("passing", "pass"),
    Example("failing", "fail",
            {"activation": {"bound_shift": 0.05}}),
    Example("open", "undetermined",
            {"activation": None, "init": None, "gain_sweep": None, "gain_sweep_sigmoid": None,
             "gain_train": None, "recall_length": None, "recall_lag": None, "adding_length": None,
             "copy": None, "budget": None, "clip_exploding": None, "clip_vanishing": None,
             "architecture": None, "lstm_tuning": None}),
]
