"""K1 — see finding.py (logic), examples.py (worlds)."""
