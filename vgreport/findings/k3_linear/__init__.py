"""K3 — see finding.py (logic), examples.py (worlds)."""
