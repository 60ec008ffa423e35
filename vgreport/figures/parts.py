"""Building blocks the charts draw with (shared by figures/charts.py and the figures a finding draws
in its own folder): the figure's key, legends, log axes and their tick labels, curves with bands,
reference lines named at the line, points set apart and named."""
from __future__ import annotations

import math
import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import ScaledTranslation

from .style import NARROW_WIDTH_IN, REFERENCE, keep_aspect, markevery, series_style, slot_of

__all__ = ["chart_key", "legend", "finite", "positive", "power_text", "log_axis", "ARROW", "EDGE_MARKERS",
           "draw_curves", "log_limits", "name_lines", "set_apart", "room_on_the_right"]


def chart_key(*parts) -> str:
    return "|".join(str(p) for p in parts)


SIDE_LEGEND_CHARS = 34  # a label of a legend beside the plot breaks after about this many characters


def legend(fig: Figure, ax, entries: tuple[list, list] | None = None, beside: bool | None = None) -> None:
    """The legend, and then the figure made tall enough that no panel is a strip (keep_aspect).
    A full-width figure of one panel has it beside the plot, one entry under another, so the plot
    is narrower and need not be taller to keep its proportions; otherwise (several panels, the
    narrow layout, or `beside=False`) it is under the plot, in as many columns as fit the width.
    entries: handles and labels gathered from several panels; else the axes' own."""
    handles, labels = entries or ax.get_legend_handles_labels()
    if not handles:
        keep_aspect(fig)
        return
    if beside is None:
        beside = len(fig.axes) == 1 and fig.get_figwidth() > NARROW_WIDTH_IN + 0.5
    if beside:
        labels = [textwrap.fill(label, SIDE_LEGEND_CHARS) for label in labels]
        fig.legend(handles, labels, loc="outside right upper", ncols=1, borderaxespad=0.2, handlelength=2.6)
        keep_aspect(fig, exact=True)  # as tall as that shape needs, and no taller: the page is short
        return
    room = int((fig.get_figwidth() - 1.0) / 0.05)  # the characters a label alone on its row fits (below)
    labels = [textwrap.fill(label, room) if len(label) > room else label for label in labels]
    ncols = _legend_columns(labels, fig.get_figwidth() - 0.2)
    _grow_for_legend(fig, math.ceil(len(labels) / ncols))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, borderaxespad=0.2,
               columnspacing=1.2)
    keep_aspect(fig)


def _legend_columns(labels: list[str], width_in: float) -> int:
    """The most columns whose widths fit `width_in`: matplotlib fills a legend column by column, so
    each column is a run of consecutive labels and is as wide as its longest (8 pt DejaVu Sans:
    ~3.6 pt per character, plus the handle and the gap). One long label no longer forces one column."""
    for ncols in range(len(labels), 1, -1):
        rows = math.ceil(len(labels) / ncols)
        columns = [labels[i:i + rows] for i in range(0, len(labels), rows)]
        if len(columns) == ncols and sum(0.05 * max(map(len, c)) + 0.8 for c in columns) <= width_in:
            return ncols
    return 1


def _grow_for_legend(fig: Figure, rows: int) -> None:
    """A legend of more than three rows makes the figure taller instead of squashing the axes."""
    if rows > 3:
        fig.set_figheight(fig.get_figheight() + (rows - 3) * 0.17)  # one 8 pt row with its spacing


def finite(values) -> np.ndarray:
    arr = np.asarray(values, float)
    return arr[np.isfinite(arr)]


def positive(values) -> np.ndarray:
    """For log axes: zeros (a dead ReLU gradient), negatives and NaN become NaN, which matplotlib
    leaves as a gap instead of drawing the line down to the bottom edge."""
    arr = np.asarray(values, float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(arr) & (arr > 0), arr, np.nan)


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_text(value: float, _position=None) -> str:
    """A log-axis tick label as plain text at full size: 10⁻⁵, 2×10⁻⁵ ('' for values ≤ 0)."""
    if not (math.isfinite(value) and value > 0):
        return ""
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10.0 ** exponent, 6)
    power = "10" + str(exponent).translate(_SUPERSCRIPTS)
    return power if mantissa == 1 else f"{mantissa:g}×{power}"


def log_axis(ax, which: str = "y") -> None:
    """Log scale with full-size 10ⁿ labels; within about a decade, 1-2-5 ticks so there are some."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    low, high = ax.get_ylim() if which == "y" else ax.get_xlim()
    decades = math.log10(high / low) if 0 < low < high else 0.0
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)) if decades < 1.3 else LogLocator(numticks=7))
    axis.set_major_formatter(FuncFormatter(power_text))
    axis.set_minor_formatter(NullFormatter())


# The mark where a bound leaves the axes: an arrow (no model uses it as a marker; ▲/▼ are models'
# markers) with its tip on the edge and its shaft inside the axes, so it never covers a tick label.
ARROW = [(0, 0), (0.3, -0.45), (0.09, -0.45), (0.09, -1), (-0.09, -1), (-0.09, -0.45), (-0.3, -0.45), (0, 0)]
EDGE_MARKERS = {"top": Path(ARROW, closed=True), "bottom": Path([(x, -y) for x, y in ARROW], closed=True)}


def draw_curves(ax, series: list[dict], logy: bool) -> list[np.ndarray]:
    """Mean lines with bands; returns the values the y-limits must show: every mean and the bands'
    upper ends. A band's lower end may leave the axes (a clipped fill): an arithmetic interval
    reaches down to almost 0, and on a log axis that would stretch the plot over many decades."""
    values = []
    for i, s in enumerate(series):
        x = np.asarray(s["x"], float)
        style = series_style(slot_of(s, i))
        mean = positive(s["mean"]) if logy else np.asarray(s["mean"], float)
        ax.plot(x, mean, label=s["label"], markevery=markevery(len(x), i, len(series)), **style)
        values.append(finite(mean))
        if "lo" in s and "hi" in s and len(x) > 1:
            lo, hi = (positive(s["lo"]), positive(s["hi"])) if logy else (s["lo"], s["hi"])
            ax.fill_between(x, lo, hi, color=style["color"], alpha=0.15, linewidth=0)
            values.append(finite(hi))
    if logy:
        ax.set_yscale("log")
    return values


def log_limits(values: list[np.ndarray], extra: tuple = (), floor: float = 1e-300) -> tuple[float, float]:
    """y-limits of a log panel from its data: a factor 3 of room each side (so every line is inside)."""
    data = np.concatenate([v for v in values if v.size] + [np.asarray(extra, float)]) if values or extra \
        else np.array([])
    data = data[np.isfinite(data) & (data > 0)]
    if not data.size:
        return floor, 1.0
    return max(float(data.min()) / 3, floor), max(float(data.max()) * 3, float(data.min()) * 10)


def name_lines(fig: Figure, ax, lines: list[tuple], points: list[tuple[float, float]]) -> None:
    """Name each reference line beside the line itself, so that two dotted lines in one figure never
    depend on their dot rhythm alone (in grayscale it is all that tells them apart). A line is
    (gid, text, x, y[, colour]): x alone for a vertical line, y alone for a horizontal one, both
    (arrays: its visible part) for a curve. Each name takes the first spot along its line that stays
    inside the axes and clear of the data points and earlier names."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.draw_without_rendering()
    renderer = FigureCanvasAgg(fig).get_renderer()
    frame = ax.get_window_extent(renderer)
    pt = fig.dpi / 72
    taken = [(px - 6 * pt, py - 6 * pt, px + 6 * pt, py + 6 * pt)
             for px, py in (ax.transData.transform(p) for p in points)]
    (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
    # A name over a curve (its own included: a steep bound crossed its label) is as unreadable as one over
    # a point: every curve's visible course, sampled along its segments in pixels, is taken too.
    for _, _, x, y, *_ in lines:
        if x is None or y is None:
            continue
        course = [ax.transData.transform(p) for p in zip(x, y) if np.isfinite(p[0]) and np.isfinite(p[1])]
        for (x0, y0), (x1, y1) in zip(course, course[1:]):
            for t in np.linspace(0.0, 1.0, 12):
                cx, cy = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                if frame.x0 <= cx <= frame.x1 and frame.y0 <= cy <= frame.y1:
                    taken.append((cx - 1.5 * pt, cy - 1.5 * pt, cx + 1.5 * pt, cy + 1.5 * pt))
    for gid, text, x, y, *colour in lines:
        if x is not None and y is not None:  # a curve: above or below its visible end, then its middle
            seen = [(a, b) for a, b in zip(x, y) if np.isfinite(a) and np.isfinite(b)]
            spots = [(xy, (dx, dy), ha, va) for xy in (seen[-1:] + seen[len(seen) // 2:len(seen) // 2 + 1])
                     for dx, dy, ha, va in ((-4, 3, "right", "bottom"), (6, -3, "left", "top"),
                                            (-4, -3, "right", "top"), (4, 3, "left", "bottom"))]
            if not spots:
                continue
        elif x is not None:  # a vertical line: at its head or foot, right or left of it
            spots = [((x, yy), (dx, dy), ha, va) for yy, dy, va in ((y_hi, -2, "top"), (y_lo, 2, "bottom"))
                     for dx, ha in ((3, "left"), (-3, "right"))]
        else:  # a horizontal line: above or below it, at its middle, right end or left end
            spots = [((xx, y), (dx, dy), ha, va) for dy, va in ((2, "bottom"), (-2, "top"))
                     for xx, dx, ha in (((x_lo + x_hi) / 2, 0, "center"), (x_hi, -3, "right"), (x_lo, 3, "left"))]
        label = ax.annotate(text, (0, 0), xytext=(0, 0), textcoords="offset points", fontsize=8,
                            color=colour[0] if colour else REFERENCE, annotation_clip=False, gid=f"name-{gid}")
        label.set_in_layout(False)
        best = None
        for xy, offset, ha, va in spots:
            label.xy, label.xyann = xy, offset
            label.set_horizontalalignment(ha)
            label.set_verticalalignment(va)
            e = label.get_window_extent(renderer)
            box = (e.x0, e.y0, e.x1, e.y1)
            outside = (max(0.0, frame.x0 - box[0]) + max(0.0, box[2] - frame.x1)
                       + max(0.0, frame.y0 - box[1]) + max(0.0, box[3] - frame.y1))
            cost = 1e3 * outside + sum(max(0.0, min(box[2], b[2]) - max(box[0], b[0]))
                                       * max(0.0, min(box[3], b[3]) - max(box[1], b[1])) for b in taken)
            if best is None or cost < best[0]:
                best = (cost, xy, offset, ha, va, box)
            if cost == 0:
                break
        _, label.xy, label.xyann, ha, va, box = best
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        taken.append(box)


def set_apart(fig: Figure, ax, points: list[dict], containers: list, marker_pt: float = 7) -> list[dict]:
    """Points whose markers would come within a marker's width of each other (two activations both
    near rate 0 and accuracy 1) are moved sideways, in the order of their rates, until their centres
    are two markers' widths apart, the group's middle where it was; the layout must be final.
    Returns the points with `rate` where each is drawn (for the labels)."""
    pt = fig.dpi / 72
    need = 2 * marker_pt * pt
    px = [ax.transData.transform((p["rate"], p["acc"])) for p in points]
    order = sorted(range(len(points)), key=lambda i: (px[i][0], i))
    target = {i: px[i][0] for i in order}
    group: list[int] = []
    for i in order + [None]:
        last = group[-1] if group else None
        close = (i is not None and last is not None and abs(px[i][1] - px[last][1]) < need
                 and px[i][0] - px[last][0] < need)
        if close:
            group.append(i)
            continue
        if len(group) > 1:  # spread the group, keep its middle
            spread = [px[group[0]][0]]
            for j in group[1:]:
                spread.append(max(px[j][0], spread[-1] + need))
            shift = (sum(spread) - sum(px[j][0] for j in group)) / len(group)
            for j, x in zip(group, spread):
                target[j] = x - shift
        group = [i] if i is not None else []
    out = []
    for i, (p, container) in enumerate(zip(points, containers)):
        dx = target[i] - px[i][0]
        if abs(dx) > 1e-9:
            for artist in container.get_children():
                artist.set_transform(ax.transData + ScaledTranslation(dx / fig.dpi, 0, fig.dpi_scale_trans))
        rate = ax.transData.inverted().transform((target[i], px[i][1]))[0]
        out.append({**p, "rate": rate})
    return out


def room_on_the_right(fig: Figure, ax, point: dict, most: float = 0.45) -> bool:
    """Widen the x-axis to the right until the right-most point's label fits beside it (the models
    that learn sit there, crowded, with the longest names), up to `most` of the axes' width;
    returns whether it widened."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.draw_without_rendering()  # the layout as it is now
    renderer = FigureCanvasAgg(fig).get_renderer()
    probe = ax.text(0, 0, point["label"], fontsize=8)
    need = (probe.get_window_extent(renderer).width + 10 * fig.dpi / 72) / ax.get_window_extent(renderer).width
    probe.remove()
    share = min(need, most)
    x_lo, x_hi = ax.get_xlim()
    if (x_hi - point["rate"]) / (x_hi - x_lo) >= share - 1e-9:
        return False
    ax.set_xlim(x_lo, (point["rate"] - share * x_lo) / (1 - share))
    return True
