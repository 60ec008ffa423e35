"""The look of every figure: palette, dash patterns and markers (a model keeps its slot in every
figure), the fixed matplotlib style and size, and the figure's SVG with its labels typeset."""
from __future__ import annotations

import contextvars
import hashlib
import html
import io
import math
import re
import textwrap
from contextlib import contextmanager
from typing import Callable

import matplotlib
import matplotlib.style
from matplotlib.figure import Figure

from ..notation import SCRIPT
from .svg import tidy_svg

# Okabe & Ito (2008): blue, vermillion, bluish green, reddish purple, orange, sky blue, black.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
# Model series: solid, dashed and dash-dot variants (units of the line width); never dotted.
LINESTYLES = ["-", (0, (5, 2)), (0, (7, 2, 1.5, 2)), (0, (11, 3)), (0, (7, 2, 1.5, 2, 1.5, 2)), (0, (3, 1.5)),
              (0, (11, 2, 3, 2))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
# Reference lines (bounds, chance, thresholds): dotted, each one in a figure a different rhythm.
REFERENCE_DOTS = [(0, (1, 1.5)), (0, (1, 1.2, 1, 5)), (0, (1, 1.2, 1, 1.2, 1, 1.2, 1, 6)), (0, (1, 6))]
REFERENCE = "#555555"  # gray, unless a bound belongs to one model (then that model's colour)
FULL_WIDTH_IN = 16 / 2.54  # the printed text width
HEIGHT_IN = 1.6
MIN_TEXT_PT = 8
# The narrow layout (report.html on a phone): 8-pt text is 11 px where the figure is 337 px wide
# (a 360-px screen), 12 px on a 390-px one. Panels side by side are stacked, each a little taller.
NARROW_WIDTH_IN = 3.4
NARROW_HEIGHT = 1.5     # the narrow layout's height, times the full one's (one panel)
STACKED_HEIGHT = 0.9    # each panel of a stacked figure, times the full figure's height
# No plot is a strip: an axes at most this many times as wide as it is tall (a slope read off a
# 1:5 strip is a fifth of what it is; the reader's eye needs the height).
MOST_WIDE = 2.5
_narrow = contextvars.ContextVar("narrow_layout", default=False)

_STYLE = {
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 8.5, "axes.labelsize": 8.5,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8, "legend.frameon": False,
    "legend.handlelength": 3.2, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#dddddd", "grid.linewidth": 0.5, "lines.linewidth": 1.4,
    "lines.markersize": 4, "svg.fonttype": "none", "figure.dpi": 72, "path.simplify": True,
    "axes.formatter.use_mathtext": False, "text.parse_math": False, "axes.unicode_minus": True,
    "figure.constrained_layout.h_pad": 0.03, "figure.constrained_layout.w_pad": 0.03,
}


@contextmanager
def new_figure(key: str, width: float = FULL_WIDTH_IN, height: float = HEIGHT_IN, ncols: int = 1):
    """Yield (fig, axes) under a fixed style; the hash salt makes SVG ids depend only on the data.
    Inside narrow_layout() the figure is NARROW_WIDTH_IN wide and its panels are stacked."""
    salt = hashlib.sha256(key.encode()).hexdigest()[:12]
    rows, cols = 1, ncols
    if _narrow.get() and width > NARROW_WIDTH_IN:
        height *= NARROW_HEIGHT if ncols == 1 else STACKED_HEIGHT * ncols
        width, rows, cols = NARROW_WIDTH_IN, ncols, 1
    # The default style first: a user's matplotlibrc must not change the report (or its cache digest).
    with matplotlib.style.context("default"), matplotlib.rc_context({**_STYLE, "svg.hashsalt": salt}):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = list(fig.subplots(rows, cols, squeeze=False).flat)
        yield fig, (axes[0] if ncols == 1 else axes)


@contextmanager
def narrow_layout():
    """Every figure drawn inside is drawn in the narrow layout (see new_figure)."""
    token = _narrow.set(True)
    try:
        yield
    finally:
        _narrow.reset(token)


def narrow(draw: Callable[[], str]) -> str:
    """`draw` (a figure's drawing: no arguments, returns its SVG) called in the narrow layout."""
    with narrow_layout():
        return draw()


def fit_axis_labels(fig: Figure) -> None:
    """A y-label taller than the figure (centred on a short panel) is cut off at the figure's edge:
    break it onto two lines at the space nearest its middle (then, if it still runs out, shrink it,
    to 8 pt at least). An x-label wider than the figure (the narrow layout) is broken into as
    few lines as fit, and words of tick labels that overlap their neighbours go onto lines of their own."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    keep_aspect(fig)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    top, right = fig.bbox.height, fig.bbox.width

    def runs_out(label) -> bool:
        box = label.get_window_extent(renderer)
        return box.y0 < -0.5 or box.y1 > top + 0.5

    for ax in fig.axes:
        label = ax.xaxis.label
        text = label.get_text()
        for lines in range(2, 5):
            box = label.get_window_extent(renderer)
            if not text or "\n" in text or not ax.get_visible() or (box.x0 >= -0.5 and box.x1 <= right + 0.5):
                break
            label.set_text(textwrap.fill(text, math.ceil(len(text) / lines)))
        _fit_tick_labels(fig, ax, renderer)

    for ax in fig.axes:  # savefig lays the figure out again, so a changed label needs no second draw here
        label = ax.yaxis.label
        text = label.get_text()
        if not text or "\n" in text or not ax.get_visible() or not runs_out(label):
            continue
        spaces = [i for i, c in enumerate(text) if c == " "]
        if spaces:
            middle = min(spaces, key=lambda i: abs(i - len(text) / 2))
            label.set_text(text[:middle] + "\n" + text[middle + 1:])
        while runs_out(label) and label.get_fontsize() > 8:
            label.set_fontsize(max(8, label.get_fontsize() - 0.5))


def keep_aspect(fig: Figure, most: float = MOST_WIDE, exact: bool = False) -> None:
    """Make the figure taller until no panel is more than `most` times as wide as it is tall (the
    layout engine shares the new height among the panels of a column); `exact`: also shorter, down
    to that shape, but never shorter than its legends. A figure whose layout is frozen (its labels
    placed in pixels) is left as it is."""
    if fig.get_layout_engine() is None:
        return
    for _ in range(4):
        fig.draw_without_rendering()
        panels = [ax.get_window_extent() for ax in fig.axes if ax.get_visible()]
        short = max((box.width / most - box.height for box in panels), default=0.0)
        if exact:
            legends = max((lg.get_window_extent().height for lg in fig.legends), default=0.0)
            short = max(short, legends + 0.1 * fig.dpi - fig.bbox.height)
        if -0.5 <= short <= 0.5 or (short < 0 and not exact):  # pixels
            return
        rows = len({round(box.y0) for box in panels})
        fig.set_figheight(fig.get_figheight() + short * rows / fig.dpi)


def _fit_tick_labels(fig: Figure, ax, renderer) -> None:
    """Tick labels of words (a bar's name, not a number) that overlap their neighbours: the words
    wrapped onto shorter lines, as long as that helps."""
    ticks, texts = ax.get_xticks(), [t.get_text() for t in ax.get_xticklabels()]
    if not any(" " in t for t in texts):
        return

    def overlapping() -> bool:
        boxes = sorted((t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()),
                       key=lambda b: b.x0)
        return any(a.x1 + 2 > b.x0 for a, b in zip(boxes, boxes[1:]))

    limits, current = ax.get_xlim(), texts
    for width in range(max(len(line) for t in texts for line in t.split("\n")) - 1, 0, -1):
        if not overlapping():
            return
        wrapped = ["\n".join(textwrap.fill(line, width, break_long_words=False) for line in t.split("\n"))
                   for t in texts]
        if wrapped != current:
            ax.set_xticks(ticks, labels=wrapped)
            ax.set_xlim(limits)
            fig.draw_without_rendering()
            current = wrapped


def to_svg(fig: Figure) -> str:
    if _narrow.get() and len(fig.axes) > 1:
        # panels side by side may share the y tick labels of the first; stacked, each shows its own
        for ax in fig.axes:
            ax.tick_params(labelleft=True)
    fit_axis_labels(fig)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _typeset_labels(tidy_svg(buffer.getvalue()))


# ASCII notation in labels, as the report's text typesets it (vgreport/notation.py): a subscript after
# a single letter (h_k, W_hh, σ_max, h_{t−1}; never inside a word), a superscript after ^ (^(T−k), ^2).
_LABEL_SCRIPT = SCRIPT
_LABEL_TEXT = re.compile(r"(<text\b[^>]*?font-size: ([\d.]+)px[^>]*>)([^<]*)(</text>)")


def _typeset_labels(svg: str) -> str:
    """Subscripts and superscripts of a label as <tspan>s shifted off the baseline, at no less than
    8 pt: the text stays text (searchable, selectable) and reads as the report's notation."""
    def one(match: re.Match) -> str:
        content = html.unescape(match.group(3))
        if not _LABEL_SCRIPT.search(content):
            return match.group(0)
        size, out, shift, at = float(match.group(2)), [], 0.0, 0
        for m in _LABEL_SCRIPT.finditer(content):
            plain = content[at:m.start()] + (m.group(1) or "")
            if plain:
                out.append(f'<tspan dy="{-shift:.2f}">{html.escape(plain)}</tspan>' if shift else html.escape(plain))
                shift = 0.0
            script = m.group(2) or m.group(3)
            dy = size * (0.3 if m.group(1) else -0.38)
            out.append(f'<tspan dy="{dy - shift:.2f}" font-size="{max(MIN_TEXT_PT, size * 0.8):g}">'
                       f"{html.escape(script[1:-1] if script[0] in '({' else script)}</tspan>")
            shift, at = dy, m.end()
        rest = content[at:]
        if rest:
            out.append(f'<tspan dy="{-shift:.2f}">{html.escape(rest)}</tspan>' if shift else html.escape(rest))
        return match.group(1) + "".join(out) + match.group(4)
    return _LABEL_TEXT.sub(one, svg)



def series_style(i: int) -> dict:
    """A model series: colour, dash pattern and marker, all three different from every other slot."""
    return {"color": PALETTE[i % len(PALETTE)], "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def reference_style(j: int = 0, color: str = REFERENCE) -> dict:
    """A reference line: thin, dotted (rhythm j), no marker."""
    return {"color": color, "linestyle": REFERENCE_DOTS[j % len(REFERENCE_DOTS)], "linewidth": 1.1}


def slot_of(series: dict, i: int) -> int:
    """A series may pin its style ("slot"), so one model looks the same in every figure."""
    return int(series.get("slot", i))


def markevery(n: int, i: int = 0, count: int = 1) -> tuple[int, int]:
    """Markers on every k-th of n points (about eight per line), series i of `count` starting
    i·k/count points later: two lines that coincide (two models both at chance) still show both
    markers side by side, so no series hides behind another."""
    every = max(1, n // 8)
    return (i * every // max(count, 1)) % every, every
