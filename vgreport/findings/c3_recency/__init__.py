"""C3 — see finding.py (logic), prose.html.j2 (sentences), examples.py (worlds)."""
