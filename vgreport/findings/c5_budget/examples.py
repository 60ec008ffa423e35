"""C5's example worlds: overrides of the supporting synthetic world (synthetic.world) and the
verdict each must produce. The generic test in tests/test_findings.py runs them. Besides
supporting, refuting and open worlds: one where a core part is refuted while a context part
holds (the verdict must show the refutation)."""
from __future__ import annotations

from ..synthetic import Example, FAIL as F, LEARN as L, MIXED

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted",
            {"budget": {"best": L, "last": 0.35}}),
    Example("open", "inconclusive",
            {"budget": {"best": MIXED}}),
    # Every seed's best accuracy 0.222: ambiguous, not rescued; the prose must not say "most seeds learn".
    Example("ambiguous seeds are not rescued", "supported", {"budget": {"best": 0.222}}, {"never": True}),
    Example("no control", "inconclusive", {"recall_length": {"accs": {5: F, 10: F, 20: F}}},
            {"never": None, "control": False}),
    # Undecided but leaning: the take-away must say which way (5 of 6 rescued, none failed; 1 of 6 rescued).
    Example("most rescued, undecided", "inconclusive", {"budget": {"best": [L, L, L, L, L, 0.222]}}, {"never": None}),
    Example("few rescued, undecided", "inconclusive", {"budget": {"best": [L, F, F, F, F, F]}}, {"never": None}),
    Example("core refuted, context holds", "refuted", {"budget": {"best": L}}, {"never": False, "control": True}),
]
