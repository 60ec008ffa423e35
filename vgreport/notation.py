"""The report's notation for ASCII in texts: one rule, used by the prose (report.format.typeset) and by
figure labels (figures.style), so a label and the sentence that names it read alike.

x_t, W_hh, σ_max, h_{t−1}, T_max: a subscript after a single letter (never inside a word such as a
code name); ^(T−k), ^{…}, ^2, ^−3: a superscript."""
from __future__ import annotations

import re

__all__ = ["SUBSCRIPT", "SUPERSCRIPT", "SCRIPT"]

_SUBSCRIPT_RULE = r"(?<![\w.])([A-Za-zα-ωΑ-Ω])_(\{[^{}]+\}|\([^()]+\)|[A-Za-z0-9]+)"
_SUPERSCRIPT_RULE = r"\^(\{[^{}]+\}|\([^()]+\)|[−-]?[A-Za-z0-9.]*[A-Za-z0-9])"
SUBSCRIPT = re.compile(_SUBSCRIPT_RULE)
SUPERSCRIPT = re.compile(_SUPERSCRIPT_RULE)
SCRIPT = re.compile(_SUBSCRIPT_RULE + "|" + _SUPERSCRIPT_RULE)  # group 1+2: subscript, 3: superscript
