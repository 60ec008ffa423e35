"""K2 — see finding.py (logic), examples.py (worlds)."""
