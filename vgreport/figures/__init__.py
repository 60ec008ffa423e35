"""Stage 9: figures. Each function takes plain arrays (from a table) and returns an SVG string
(charts: the data figures several results draw; diagrams: drawings of the model; labels: placing
point labels; parts: the building blocks charts draw with; style: the look they share). A figure
that only one finding draws lives in that finding's folder (findings/<id>_<name>/figures.py), built
from the same parts and style.

One context manager sets the style and a per-figure hash salt, so the same data always gives
the same bytes and no figure depends on global state: figures are built on
`matplotlib.figure.Figure` directly (no pyplot, so no backend is switched for the caller) and
saved with the SVG canvas.

Print rules, each pinned by a test:
- Sizes are fixed, not "tight": a full-width figure is exactly 16 cm wide (the text width of an A4
  page with 2 cm margins), so text set at 8-8.5 pt stays at that size at the SVG's natural width.
  No text is smaller than 8 pt: log axes are labelled 10⁻⁵ with Unicode superscripts at full size
  (matplotlib's mathtext would set the exponent at 70%, 5.6 pt), and mathtext is off.
- Text is text (`svg.fonttype: none`): searchable and selectable in the HTML and the PDF, and no
  glyph outlines repeated in every figure. It names DejaVu Sans (what matplotlib measured the
  layout with) and falls back to any sans-serif font; WeasyPrint needs DejaVu Sans installed.
- Coordinates are rounded to 2 decimals (1/100 pt): matplotlib writes 6.
- Grayscale: every model series differs from the others in colour (Okabe-Ito, safe for
  colour-blind readers), dash pattern *and* marker. Reference lines (bounds, chance, thresholds)
  are dotted, thin and carry no marker, a pattern no model uses, so they never look like a model.
- Every line stays inside its axes: y-limits come from the data (with room for a bound over half
  the distances), and a bound that leaves them is cut at the edge and marked there with an arrow
  ↑ or ↓ drawn inside the axes (▲/▼ are models' markers), explained in the legend.
- Two or more dotted reference lines in one panel are named at the lines, not by rhythm alone.
- On log axes, values that are not positive are masked (a gap), never drawn at the floor.
"""

from .charts import bars, coincide, curves, gradient_vs_lag, hero, score_vs_x
from .diagrams import DIAGRAMS, lstm_cell, unrolled_rnn
from .parts import power_text
from .style import FULL_WIDTH_IN, LINESTYLES, MARKERS, PALETTE, REFERENCE_DOTS

__all__ = ["gradient_vs_lag", "coincide", "score_vs_x", "curves", "bars", "hero", "unrolled_rnn",
           "lstm_cell", "DIAGRAMS", "power_text", "PALETTE", "LINESTYLES", "MARKERS", "REFERENCE_DOTS", "FULL_WIDTH_IN"]
