"""The data figures: each function takes plain lists (from a table) and returns one SVG string."""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.path import Path
from matplotlib.transforms import ScaledTranslation
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .labels import label_points
from .style import (HEIGHT_IN, PALETTE, REFERENCE, _figure, _markevery, _reference,
                    _slot, _style, _svg, fit_axis_labels)

SCORE_MARKER_PT = 6.5  # a score's marker: big enough to tell its shape at 70 dpi in grayscale
DODGE_GAP_PT = 4      # clear space between two markers set side by side at the same x


def _key(*parts) -> str:
    return "|".join(str(p) for p in parts)


def _legend(fig: Figure, ax, entries: tuple[list, list] | None = None) -> None:
    """Legend under the plot, in as many columns as fit the 16 cm width (entries: handles and
    labels gathered from several panels; else the axes' own)."""
    handles, labels = entries or ax.get_legend_handles_labels()
    if not handles:
        return
    ncols = _legend_columns(labels, fig.get_figwidth() - 0.2)
    _grow_for_legend(fig, math.ceil(len(labels) / ncols))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, borderaxespad=0.2,
               columnspacing=1.2)


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


def _finite(values) -> np.ndarray:
    arr = np.asarray(values, float)
    return arr[np.isfinite(arr)]


def _positive(values) -> np.ndarray:
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


def _log_axis(ax, which: str = "y") -> None:
    """Log scale with full-size 10ⁿ labels; within about a decade, 1-2-5 ticks so there are some."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    low, high = ax.get_ylim() if which == "y" else ax.get_xlim()
    decades = math.log10(high / low) if 0 < low < high else 0.0
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)) if decades < 1.3 else LogLocator(numticks=7))
    axis.set_major_formatter(FuncFormatter(power_text))
    axis.set_minor_formatter(NullFormatter())


def _inside(x, y, low: float, high: float, log: bool):
    """The parts of the polyline (x, y) with low ≤ y ≤ high (straight lines in log space on a log
    axis), cut exactly at the limits, NaN between parts; and the edge points where it crosses a
    limit: (x, y, "top" | "bottom")."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(y > 0, np.log(y), -np.inf) if log else y
    t_low, t_high = (math.log(low), math.log(high)) if log else (low, high)
    xs, ts, edges = [], [], []
    for i in range(len(x) - 1):
        x0, x1, t0, t1 = x[i], x[i + 1], t[i], t[i + 1]
        if np.isnan(t0) or np.isnan(t1) or not (np.isfinite(x0) and np.isfinite(x1)):
            continue
        t0, t1 = np.clip(t0, -1e300, 1e300), np.clip(t1, -1e300, 1e300)
        if t0 == t1:
            if not t_low <= t0 <= t_high:
                continue
            s0, s1 = 0.0, 1.0
        else:
            a, b = (t_low - t0) / (t1 - t0), (t_high - t0) / (t1 - t0)
            s0, s1 = max(0.0, min(a, b)), min(1.0, max(a, b))
            if s0 > s1:
                continue
        p0 = (x0 + s0 * (x1 - x0), t0 + s0 * (t1 - t0))
        p1 = (x0 + s1 * (x1 - x0), t0 + s1 * (t1 - t0))
        if not xs or (xs[-1], ts[-1]) != p0:
            if xs:
                xs.append(np.nan)
                ts.append(np.nan)
            xs.append(p0[0])
            ts.append(p0[1])
        xs.append(p1[0])
        ts.append(p1[1])
        for s, point, outside in ((s0, p0, t0), (s1, p1, t1)):
            if 0 < s < 1 or (s in (0.0, 1.0) and not t_low <= outside <= t_high):
                edges.append((point[0], point[1], "top" if outside > t_high else "bottom"))
    out = np.exp(ts) if log else np.asarray(ts, float)
    edges = [(ex, math.exp(et) if log else et, side) for ex, et, side in edges]
    return np.asarray(xs, float), np.asarray(out, float), edges


# The mark where a bound leaves the axes: an arrow (no model uses it as a marker; ▲/▼ are models'
# markers) with its tip on the edge and its shaft inside the axes, so it never covers a tick label.
_ARROW = [(0, 0), (0.3, -0.45), (0.09, -0.45), (0.09, -1), (-0.09, -1), (-0.09, -0.45), (-0.3, -0.45), (0, 0)]
EDGE_MARKERS = {"top": Path(_ARROW, closed=True), "bottom": Path([(x, -y) for x, y in _ARROW], closed=True)}


def _bound(ax, x, y, label: str, style: dict, gid: str, log: bool) -> bool:
    """Draw a reference curve inside the axes' current y-limits, an arrow (↑/↓) where it leaves them;
    returns whether it was cut."""
    low, high = ax.get_ylim()
    xs, ys, edges = _inside(x, y, low, high, log)
    if not len(xs):
        ends = _finite(y)
        where = "above" if ends.size and ends.min() > high else "below"
        label = f"{label} (entirely {where} the plotted range)"
    ax.plot(xs, ys, label=label, gid=gid, **style)
    for ex, ey, side in edges:
        ax.plot([ex], [ey], linestyle="none", marker=EDGE_MARKERS[side], markersize=14, markeredgewidth=0,
                color=style["color"], clip_on=False, gid=f"edge-{gid}")
    return bool(edges)


def _edge_note(ax) -> None:
    """A legend entry explaining the arrows of bounds that leave the axes."""
    centred = Path([(x, y + 0.5) for x, y in _ARROW], closed=True)  # on the legend text's middle line
    ax.plot([], [], linestyle="none", marker=centred, markersize=7, markeredgewidth=0,
            color=REFERENCE, label="↑ ↓ a bound leaves the plot here")


def _room_for_bounds(low: float, high: float, rates: list[float], span: float) -> tuple[float, float]:
    """Log y-limits widened so that every bound exp(rate·lag) stays inside over at least the first half
    of the distances; the extra room on either side is at most the data's own span in decades, so
    the data keep at least a third of the height."""
    decades = high / low
    for rate in rates:
        reach = math.exp(rate * span / 2)
        high = max(high, min(reach * 1.2, high * decades)) if rate > 0 else high
        low = min(low, max(reach / 1.2, low / decades)) if rate < 0 else low
    return low, high


def coincide(a: dict, b: dict, log: bool = True, share: float = 0.015) -> bool:
    """Whether two series (lags or x, mean, optional lo/hi) would be drawn on top of each other: at
    every x they share their means differ by less than `share` of the plotted height (on a log
    axis in decades, the data's range and a factor 5 each side as gradient_vs_lag plots it),
    about one line's width on a 16 cm figure."""
    xa, xb = (np.asarray(s.get("lags", s.get("x", [])), float) for s in (a, b))
    common, ia, ib = np.intersect1d(xa, xb, return_indices=True)
    if not len(common):
        return False

    def values(s, key):
        v = np.asarray(s.get(key, s["mean"]), float)
        return np.log10(_positive(v)) if log else v
    ma, mb = values(a, "mean")[ia], values(b, "mean")[ib]
    both = np.isfinite(ma) & np.isfinite(mb)
    if not both.any() or (np.isfinite(ma) != np.isfinite(mb)).any():
        return False
    plotted = _finite(np.concatenate([values(s, k) for s in (a, b) for k in ("mean", "lo", "hi")]))
    height = float(plotted.max() - plotted.min()) + (2 * math.log10(5) if log else 0.0)
    return bool(np.max(np.abs(ma[both] - mb[both])) <= share * max(height, 1e-12))


def gradient_vs_lag(series: list[dict], bounds: list[dict], ylabel: str = "‖∂L/∂h_k‖ / ‖∂L/∂h_T‖",
                    xlabel: str = "distance T − k (steps back in time)", height: float = HEIGHT_IN + 0.5) -> str:
    """Log-scale ratio against lag, band over seeds; bound lines exp(rate·lag).

    Each series: label, lags, mean, optional lo/hi (band), optional slot. Each bound: label, rate
    (per-step log bound, e.g. log(γ·σ_max)), optional slot (drawn dotted in that series' colour),
    optional name (short; where there are two or more bounds each is named at its line).
    The y-limits come from the series, with room for each bound over half the distances; a bound that
    leaves them is cut there and marked with an arrow. A dashed series that coincides with another
    (see coincide) is drawn over it with hollow markers, so both stay visible."""
    with _figure(_key("lag", ylabel, [s["label"] for s in series], [b["label"] for b in bounds]),
                 height=height) as (fig, ax):
        top_lag, values, bands = 1.0, [], []
        for i, s in enumerate(series):
            lags = np.asarray(s["lags"], float)
            mean = _positive(s["mean"])
            if len(lags):
                top_lag = max(top_lag, float(np.nanmax(lags)))
            values.append(_finite(mean))
            style = _style(_slot(s, i))
            if style["linestyle"] != "-" and any(coincide(s, t) for t in series if t is not s):
                style.update(zorder=2.5, markerfacecolor="white")  # over the solid line it would hide behind
            ax.plot(lags, mean, label=s["label"], markevery=_markevery(len(lags), i, len(series)), **style)
            if "lo" in s and "hi" in s:
                ax.fill_between(lags, _positive(s["lo"]), _positive(s["hi"]), color=style["color"],
                                alpha=0.15, linewidth=0, zorder=1)  # behind every line
                bands.append((_finite(_positive(s["lo"])), _finite(_positive(s["hi"]))))
        means = np.concatenate(values) if values else np.array([])
        # The bands' upper ends are in view, their lower ends only down to 100× below the lowest mean:
        # one seed's vanished gradient would otherwise stretch the axis over many empty decades.
        floor = float(means.min()) / 100 if means.size else 0.0
        values += [hi for _, hi in bands] + [lo[lo >= floor] for lo, _ in bands]
        data = np.concatenate(values) if values else np.array([])
        low = float(data.min()) if data.size else 1e-3
        high = float(data.max()) if data.size else 1.0
        ax.set_yscale("log")
        rates = [b["rate"] for b in bounds if b.get("rate") is not None and math.isfinite(b["rate"])]
        ax.set_ylim(*_room_for_bounds(max(low / 5, 1e-300), max(high * 5, low * 10), rates, top_lag))
        ax.set_xlim(0, top_lag)
        grid = np.linspace(0, top_lag, 61)
        cut, names = False, []
        for j, b in enumerate(bounds):
            rate = b.get("rate")
            if rate is None or not math.isfinite(rate):
                continue
            color = PALETTE[int(b["slot"]) % len(PALETTE)] if "slot" in b else REFERENCE
            cut |= _bound(ax, grid, np.exp(rate * grid), b["label"], _reference(j, color), f"bound-{j}", log=True)
            xs, ys, _ = _inside(grid, np.exp(rate * grid), *ax.get_ylim(), log=True)
            names.append((f"bound-{j}", b.get("name", b["label"]), xs, ys, color))
        if cut:
            _edge_note(ax)
        _log_axis(ax, "y")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # lags are whole steps
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        _legend(fig, ax)
        if len(names) > 1:  # two dotted bounds: each named at its line
            _name_lines(fig, ax, names, [(a, b) for s in series for a, b in zip(s["lags"], _positive(s["mean"]))
                                         if np.isfinite(b)])
        return _svg(fig)


def score_vs_x(series: list[dict], chance: float | None, xlabel: str, ylabel: str, logx: bool = False,
               chance_label: str = "chance", lower_is_better: bool = False, height: float = HEIGHT_IN + 0.4) -> str:
    """Mean with 95% interval error bars against x (length), one series per model; chance line. A
    dashed series that coincides with another is drawn over it with hollow markers."""
    with _figure(_key("score", xlabel, ylabel, [s["label"] for s in series]), height=height) as (fig, ax):
        for i, s in enumerate(series):
            x = np.asarray(s["x"], float)
            mean = np.asarray(s["mean"], float)
            lo = np.where(np.isfinite(s["lo"]), s["lo"], mean)
            hi = np.where(np.isfinite(s["hi"]), s["hi"], mean)
            style = _style(_slot(s, i))
            over = {}
            if style["linestyle"] != "-" and any(coincide(s, t, log=False) for t in series if t is not s):
                over = {"zorder": 2.5, "markerfacecolor": "white"}  # over the solid line it would hide behind
            # Only a series measured at three or more x is joined: a line through two points draws an
            # interpolation nobody measured (the legend still shows its dash pattern).
            joined = len(x) >= 3
            ax.errorbar(x, mean, yerr=np.clip(np.vstack([mean - lo, hi - mean]), 0, None), label=s["label"],
                        capsize=2.5, color=style["color"], linestyle=style["linestyle"] if joined else "none",
                        marker=style["marker"], markersize=SCORE_MARKER_PT, markeredgecolor="#000000",
                        markeredgewidth=0.6, transform=_dodge(fig, ax, i, len(series)), **over)
        if chance is not None:
            ax.axhline(chance, label=chance_label, gid="chance-0", **_reference(0))
        if logx:
            ax.set_xscale("log")
        xs = sorted({float(v) for s in series for v in s["x"]})
        if xs:
            ax.set_xticks(xs)
            ax.set_xticklabels([f"{v:g}" for v in xs])
            # room beside the outermost x for the dodged series (the autoscaled limits sit on them):
            # half their spread, a marker and a margin, as a share of the axes' width (about the
            # figure's width less 0.8 in of labels)
            room = (_dodge_step() * (len(series) - 1) / 2 + SCORE_MARKER_PT + 4) / 72
            share = min(room / (fig.get_figwidth() - 0.8), 0.3)
            if logx and xs[0] > 0:
                pad = max(xs[-1] / xs[0], 4.0) ** (share / (1 - 2 * share))
                ax.set_xlim(xs[0] / pad, xs[-1] * pad)
            else:
                pad = max(xs[-1] - xs[0], 1.0) * share / (1 - 2 * share)
                ax.set_xlim(xs[0] - pad, xs[-1] + pad)
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel + (" (lower is better)" if lower_is_better else ""))
        if lower_is_better:
            ax.set_ylim(0, None)
        else:
            ax.set_ylim(0, 1.05)
        _legend(fig, ax)
        return _svg(fig)


def _dodge_step(marker_pt: float = SCORE_MARKER_PT) -> float:
    """Points between the centres of two series set side by side: a marker and a clear gap."""
    return marker_pt + DODGE_GAP_PT


def _dodge(fig: Figure, ax, i: int, count: int, step_pt: float | None = None):
    """Data coordinates shifted sideways for series i of `count`, a marker's width plus a gap from
    the next (the group centred on the true x): models measured at the same x (several at chance)
    sit side by side instead of one hiding the others, on a linear or a log axis alike."""
    shift = (step_pt or _dodge_step()) * (i - (count - 1) / 2) / 72
    return ax.transData + ScaledTranslation(shift, 0, fig.dpi_scale_trans)


def curves(series: list[dict], chance: float | None, xlabel: str, ylabel: str, logy: bool = False,
           marks: list[dict] = (), chance_label: str = "chance", height: float = HEIGHT_IN + 0.4) -> str:
    """Training curves: mean line with a band per series; chance line; vertical marks (x, label)."""
    with _figure(_key("curves", xlabel, ylabel, [s["label"] for s in series]), height=height) as (fig, ax):
        values = _draw_curves(ax, series, logy)
        if chance is not None:
            ax.axhline(chance, label=chance_label, gid="chance-0", **_reference(0))
        # the marks share one look, so they share one legend entry, and each is named at its top
        for j, m in enumerate(marks):
            ax.axvline(m["x"], label=", ".join(str(k.get("label")) for k in marks) if j == 0 else None,
                       gid=f"mark-{j}", **_reference(2))
            if m.get("label"):
                ax.annotate(str(m["label"]), (m["x"], 1), xycoords=("data", "axes fraction"), xytext=(2, -2),
                            textcoords="offset points", ha="left", va="top", fontsize=8, color=REFERENCE,
                            gid=f"name-mark-{j}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if not logy and chance is not None and chance < 1:
            ax.set_ylim(0, 1.05)
        if logy:
            ax.set_ylim(*_log_limits(values, (chance,) if chance is not None else ()))
            _log_axis(ax, "y")
        _legend(fig, ax)
        return _svg(fig)


def _draw_curves(ax, series: list[dict], logy: bool) -> list[np.ndarray]:
    """Mean lines with bands; returns the values the y-limits must show: every mean and the bands'
    upper ends. A band's lower end may leave the axes (a clipped fill): an arithmetic interval
    reaches down to almost 0, and on a log axis that would stretch the plot over many decades."""
    values = []
    for i, s in enumerate(series):
        x = np.asarray(s["x"], float)
        style = _style(_slot(s, i))
        mean = _positive(s["mean"]) if logy else np.asarray(s["mean"], float)
        ax.plot(x, mean, label=s["label"], markevery=_markevery(len(x), i, len(series)), **style)
        values.append(_finite(mean))
        if "lo" in s and "hi" in s and len(x) > 1:
            lo, hi = (_positive(s["lo"]), _positive(s["hi"])) if logy else (s["lo"], s["hi"])
            ax.fill_between(x, lo, hi, color=style["color"], alpha=0.15, linewidth=0)
            values.append(_finite(hi))
    if logy:
        ax.set_yscale("log")
    return values


def _log_limits(values: list[np.ndarray], extra: tuple = (), floor: float = 1e-300) -> tuple[float, float]:
    """y-limits of a log panel from its data: a factor 3 of room each side (so every line is inside)."""
    data = np.concatenate([v for v in values if v.size] + [np.asarray(extra, float)]) if values or extra \
        else np.array([])
    data = data[np.isfinite(data) & (data > 0)]
    if not data.size:
        return floor, 1.0
    return max(float(data.min()) / 3, floor), max(float(data.max()) * 3, float(data.min()) * 10)


def exploding(loss: list[dict], norm: list[dict], diverged: list[dict], chance_loss: float,
              clip: float | None) -> str:
    """Two log-scale panels: training loss with the chance-level loss, and the gradient norm before clipping.

    `diverged`: one dict per series that diverged (label, steps: list of divergence steps, slot);
    each step at which runs diverged is one ✕ near the loss panel's top, with "×n" beside it when n
    runs diverged there. A mean of exactly 0 (every seed's float32 loss rounded to 0) has no place on
    a log axis: it is a gap in the line with an arrow ↓ at the bottom edge. NaN are gaps; y-limits
    come from the data, so every line stays inside."""
    with _figure(_key("exploding", [s["label"] for s in loss + norm]), height=HEIGHT_IN + 0.4, ncols=2) as (fig, axes):
        left, right = axes
        values = _draw_curves(left, loss, logy=True)
        left.axhline(chance_loss, gid="chance-0", label=f"chance: loss of a uniform guess ({chance_loss:.2f})",
                     **_reference(0))
        bottom, top = _log_limits(values, (chance_loss,))
        top = max(top, chance_loss * 10)
        for d in diverged:
            style = _style(d.get("slot", 0))
            steps, counts = np.unique(np.asarray(d["steps"], float), return_counts=True)
            several = bool((counts > 1).any())
            left.plot(steps, np.full(len(steps), top / 2), linestyle="none", marker="X", markersize=7,
                      color=style["color"], gid=f"diverged-{d['label']}",
                      label=f"{d['label']}: loss NaN/inf (✕ at the step" + ("; ×n: n runs)" if several else ")"))
            for step, count in zip(steps, counts):
                if count > 1:
                    left.annotate(f"×{count}", (step, top / 2), xytext=(5, 0), textcoords="offset points",
                                  ha="left", va="center", fontsize=8, color=style["color"], gid="diverged-count")
        left.set_ylim(bottom, top)
        _log_axis(left, "y")
        left.set_xlabel("training step")
        left.set_ylabel("training loss")
        values = _draw_curves(right, norm, logy=True)
        if clip is not None:
            right.axhline(clip, label=f"clipping threshold {clip:g}", gid="threshold-0", **_reference(1))
        right.set_ylim(*_log_limits(values, (clip,) if clip is not None else ()))
        _log_axis(right, "y")
        right.set_xlabel("training step")
        right.set_ylabel("gradient norm before clipping")
        zeros = _zeros_at_the_edge(left, loss) | _zeros_at_the_edge(right, norm)
        if zeros:
            left.plot([], [], linestyle="none", marker=Path([(x, -y - 0.5) for x, y in _ARROW], closed=True),
                      markersize=7, markeredgewidth=0, color=REFERENCE,
                      label="mean exactly 0: off the log axis")
        handles, labels = [], []
        for ax in (left, right):
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        _legend(fig, left, (handles, labels))
        return _svg(fig)


def _zeros_at_the_edge(ax, series: list[dict]) -> bool:
    """An arrow ↓ at the bottom edge of a log panel at each x where a series' mean is exactly 0 (a
    gap in its line otherwise unexplained); returns whether there was any."""
    any_zero = False
    for i, s in enumerate(series):
        mean = np.asarray(s["mean"], float)
        at = np.asarray(s["x"], float)[mean == 0]
        if len(at):
            any_zero = True
            ax.plot(at, np.full(len(at), ax.get_ylim()[0]), linestyle="none", marker=EDGE_MARKERS["bottom"],
                    markersize=14, markeredgewidth=0, color=_style(_slot(s, i))["color"], clip_on=False,
                    gid=f"zero-{i}")
    return any_zero


def bars(rows: list[dict], chance: float | None, ylabel: str, chance_label: str = "chance") -> str:
    """One bar per configuration (mean), 95% interval whiskers and each seed as a dot."""
    with _figure(_key("bars", ylabel, [r["label"] for r in rows]), height=HEIGHT_IN + 0.2) as (fig, ax):
        for i, r in enumerate(rows):
            color = PALETTE[_slot(r, i) % len(PALETTE)]
            ax.bar(i, r["mean"], color=color, alpha=0.6, edgecolor="#333333", linewidth=0.6, width=0.6)
            lo = r["lo"] if math.isfinite(r["lo"]) else r["mean"]
            hi = r["hi"] if math.isfinite(r["hi"]) else r["mean"]
            ax.errorbar(i, r["mean"], yerr=[[max(r["mean"] - lo, 0)], [max(hi - r["mean"], 0)]], color="#000000",
                        capsize=3, linewidth=1.0)
            seeds = list(r.get("per_seed", []))
            ax.plot(i + np.linspace(-0.12, 0.12, len(seeds)) if len(seeds) > 1 else np.full(len(seeds), i), seeds,
                    "o", color="#000000", markersize=3, markerfacecolor="white")
        if chance is not None:
            ax.axhline(chance, label=chance_label, gid="chance-0", **_reference(0))
        ax.plot([], [], "o", color="#000000", markersize=3, markerfacecolor="white", label="one seed")
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([r["label"] for r in rows])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(ylabel)
        _legend(fig, ax)
        return _svg(fig)


def jacobian_check(series: list[dict]) -> str:
    """One panel per series (shared log y): autograd ratio (line), explicit Jacobian product (hollow
    markers), operator-norm bound (dotted). Side by side, no bound can be taken for another
    series' bound, which in one panel they could (they pile up at 10⁰ and differ only in rhythm)."""
    count = max(len(series), 1)
    with _figure(_key("jacobian", [s["label"] for s in series]), height=HEIGHT_IN + 0.5, ncols=count) as (fig, axes):
        axes = axes if isinstance(axes, list) else [axes]
        values = []
        for i, (s, ax) in enumerate(zip(series, axes)):
            style = _style(_slot(s, i))
            lags = np.asarray(s["lags"], float)
            measured = _positive(s["measured"])
            values += [_finite(measured), _finite(_positive(s["opnorm"]))]
            ax.plot(lags, measured, color=style["color"], linestyle=style["linestyle"])
            start, every = _markevery(len(lags), 0, 1)
            ax.plot(lags[start::every], _positive(s["chain"])[start::every], linestyle="none", marker=style["marker"],
                    color=style["color"], markerfacecolor="none")
            ax.plot([], [], color=style["color"], linestyle=style["linestyle"], marker=style["marker"],
                    markerfacecolor="none", label=f"{s['label']}: autograd and explicit product")
            ax.plot(lags, _positive(s["opnorm"]), gid=f"bound-{i}", label="bound ‖Π J_j‖₂" if i == 0 else None,
                    **_reference(0))
            ax.set_title(str(s["label"]), fontsize=8.5)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        data = np.concatenate(values) if values else np.array([])
        for j, ax in enumerate(axes):
            ax.set_yscale("log")
            if data.size:
                ax.set_ylim(max(float(data.min()) / 5, 1e-300), max(float(data.max()) * 5, float(data.min()) * 10))
            _log_axis(ax, "y")
            if j:  # one shared scale: the tick labels once, on the left
                ax.tick_params(labelleft=False)
            ax.set_xlabel("distance T − k")
        axes[0].set_ylabel("‖∂L/∂h_k‖ / ‖∂L/∂h_T‖")
        handles, labels = [], []
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.append(h)
                labels.append(lab)
        if "bound ‖Π J_j‖₂" in labels:  # the bound last, after the models
            handles.append(handles.pop(labels.index("bound ‖Π J_j‖₂")))
            labels.append(labels.pop(labels.index("bound ‖Π J_j‖₂")))
        _legend(fig, axes[0], (handles, labels))
        return _svg(fig)


def derivative_ranges(rows: list[dict]) -> str:
    """Per activation: 10th-90th percentile bar of φ′(a), median tick, mean marker; sigmoid cap 1/4."""
    with _figure(_key("derivs", [r["label"] for r in rows]), height=0.45 * max(len(rows), 2) + 1.1) as (fig, ax):
        for i, r in enumerate(rows):
            style = _style(_slot(r, i))
            ax.plot([r["p10"], r["p90"]], [i, i], color=style["color"], linewidth=7, solid_capstyle="butt", alpha=0.55)
            ax.plot([r["mean"]], [i], marker=style["marker"], color=style["color"], markeredgecolor="#000000",
                    linestyle="none", markersize=6, zorder=3)
            if r.get("p50") is not None:  # over the mean's marker, twice as tall: in view beside the mean
                ax.plot([r["p50"]], [i], marker="|", markersize=16, markeredgewidth=1.6, color="#000000",
                        linestyle="none", zorder=4, gid=f"median-{i}")
        ax.axvline(0.25, label="1/4: the largest possible sigmoid′", gid="bound-0", **_reference(0))
        ax.axvline(1.0, label="1: the largest tanh′, ReLU′, identity′", gid="bound-1", **_reference(1))
        ax.plot([], [], color="#999999", linewidth=7, alpha=0.55, label="10th–90th percentile")
        ax.plot([], [], marker="|", markersize=12, markeredgewidth=1.6, color="#000000", linestyle="none",
                label="median")
        ax.plot([], [], marker="o", color="#999999", markeredgecolor="#000000", linestyle="none", label="mean")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r["label"] for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(-0.03, 1.05)
        ax.set_xlabel("φ′(a_j) along the probe trajectories at initialisation")
        _legend(fig, ax)
        _name_lines(fig, ax, [("bound-0", "1/4", 0.25, None), ("bound-1", "1", 1.0, None)],
                    [(r[k], i) for i, r in enumerate(rows) for k in ("mean", "p50", "p10", "p90")
                     if r.get(k) is not None])
        return _svg(fig)


def _name_lines(fig: Figure, ax, lines: list[tuple], points: list[tuple[float, float]]) -> None:
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


def rate_vs_accuracy(rows: list[dict], chance: float | None) -> str:
    """Final accuracy (with interval) against the decay rate, one point per configuration, each
    named beside its marker (with a leader line where points crowd, as in the hero figure): two
    activations near rate 0 and accuracy 1 sit a marker's width apart, and only their names tell
    them apart in grayscale. The reference lines are named where they touch no other line or point."""
    usable = [r for r in rows if math.isfinite(r.get("rate", math.nan)) and math.isfinite(r.get("acc", math.nan))]
    with _figure(_key("rate_acc", [r["label"] for r in rows]), height=HEIGHT_IN + 0.3) as (fig, ax):
        for i, r in enumerate(usable):
            style = _style(_slot(r, i))
            lo = r["acc_lo"] if math.isfinite(r["acc_lo"]) else r["acc"]
            hi = r["acc_hi"] if math.isfinite(r["acc_hi"]) else r["acc"]
            ax.errorbar([r["rate"]], [r["acc"]], yerr=[[max(r["acc"] - lo, 0)], [max(hi - r["acc"], 0)]],
                        marker=style["marker"], color=style["color"], capsize=3, linestyle="none", label=r["label"],
                        markersize=7, markeredgecolor="#000000", markeredgewidth=0.6, gid=f"point-{i}")
        if chance is not None:
            ax.axhline(chance, label="chance", gid="chance-0", **_reference(0))
        ax.axvline(0, label="rate 0: no decay", gid="bound-0", **_reference(1))
        ax.set_ylim(0, 1.05)
        rates = [r["rate"] for r in usable] + [0.0]
        span = max(max(rates) - min(rates), 0.2)
        ax.set_xlim(min(rates) - 0.06 * span, max(rates) + 0.06 * span)
        ax.set_xlabel("per-step rate of log‖∂L/∂h_k‖ at initialisation (0 = no decay)")
        ax.set_ylabel("final recall accuracy")
        _legend(fig, ax)
        # As in hero: the names are placed in pixels, so the layout is made final first.
        fit_axis_labels(fig)
        for _ in range(3):
            if not (usable and _room_on_the_right(fig, ax, max(usable, key=lambda r: r["rate"]), most=0.25)):
                break
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
        drawn = _set_apart(fig, ax, usable, [c for c in ax.containers])
        label_points(fig, ax, drawn, [(0.0, None, "rate 0")] + ([(None, chance, "chance")] if chance is not None
                                                                 else []))
        return _svg(fig)


def _set_apart(fig: Figure, ax, points: list[dict], containers: list, marker_pt: float = 7) -> list[dict]:
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


def rate_vs_theory(series: list[dict]) -> str:
    """Measured per-step rate against log(γ·g), with the bound line rate = log(γ·g)."""
    with _figure(_key("sweep", [s["label"] for s in series]), height=HEIGHT_IN + 0.6) as (fig, ax):
        xs = np.concatenate([np.asarray(s["x"], float) for s in series]) if series else np.array([0.0])
        xs = xs[np.isfinite(xs)] if np.isfinite(xs).any() else np.array([0.0])
        grid = np.linspace(xs.min() - 0.05, xs.max() + 0.05, 20)
        ax.plot(grid, grid, label="bound log(γ·σ_max) = log(γ·g): exact for the linear RNN", gid="bound-0",
                **_reference(0))
        for i, s in enumerate(series):
            mean = np.asarray(s["mean"], float)
            lo = np.where(np.isfinite(s["lo"]), s["lo"], mean)
            hi = np.where(np.isfinite(s["hi"]), s["hi"], mean)
            style = _style(_slot(s, i))
            ax.errorbar(s["x"], mean, yerr=np.clip(np.vstack([mean - lo, hi - mean]), 0, None), label=s["label"],
                        capsize=2.5, color=style["color"], linestyle=style["linestyle"], marker=style["marker"])
        ax.axhline(0, color="#000000", linewidth=0.6)
        ax.axvline(0, color="#000000", linewidth=0.6)
        ax.text(0.02, 0.96, "gradient grows with distance ↑", transform=ax.transAxes, va="top", fontsize=8)
        ax.text(0.98, 0.04, "↓ gradient vanishes", transform=ax.transAxes, ha="right", fontsize=8)
        ax.set_xlabel("log(γ·g)   (γ = 1 for tanh and identity;  γ·g = 1 at 0)")
        ax.set_ylabel("measured rate per step")
        _legend(fig, ax)
        return _svg(fig)


# ---------------------------------------------------------------- the whole story in one figure

# A model family keeps the slot (colour, marker) its models have in the other figures; a family
# name is matched by the first of these words it contains ("plain RNN" -> rnn, "attention" -> 6).
_FAMILY_SLOTS = (("lstm", 1), ("gru", 3), ("transformer", 6), ("attention", 6), ("rnn", 0))


def _family_slots(families: list[str]) -> dict[str, int]:
    slots, free = {}, [i for i in range(len(PALETTE)) if i not in {slot for _, slot in _FAMILY_SLOTS}]
    for family in families:
        if family not in slots:
            known = next((slot for word, slot in _FAMILY_SLOTS if word in family.lower()), None)
            slots[family] = known if known is not None else (free.pop(0) if free else len(slots) % len(PALETTE))
    return slots


def hero(points: list[dict], chance: float | None = None,
         xlabel: str = "gradient decay rate per step at initialisation (slope of log‖∂L/∂h_k‖)",
         ylabel: str = "final accuracy at the longest length", chance_label: str = "chance",
         boundary_label: str = "r = 0: no decay", height: float = HEIGHT_IN + 1.2) -> str:
    """Every model and initialisation as one point: decay rate at initialisation (x) against the
    final accuracy at the longest length (y, 95% whiskers), each point labelled next to it.

    points: dicts with label, rate, acc, acc_lo, acc_hi, family (RNN, LSTM, GRU, transformer, ...:
    one colour and marker per family). A vertical line at rate 0 marks γ·σ_max = 1, where the
    bound no longer forces decay; a horizontal one marks chance."""
    usable = [p for p in points if math.isfinite(p.get("rate", math.nan)) and math.isfinite(p.get("acc", math.nan))]
    slots = _family_slots([str(p.get("family", "")) for p in usable])
    with _figure(_key("hero", [(p["label"], p.get("family")) for p in points]), height=height) as (fig, ax):
        seen = set()
        for p in usable:
            family = str(p.get("family", ""))
            style = _style(slots[family])
            lo = p.get("acc_lo", math.nan)
            hi = p.get("acc_hi", math.nan)
            yerr = ([[max(p["acc"] - lo, 0)], [max(hi - p["acc"], 0)]]
                    if math.isfinite(lo) and math.isfinite(hi) else None)
            ax.errorbar([p["rate"]], [p["acc"]], yerr=yerr, marker=style["marker"], color=style["color"],
                        markersize=7, markeredgecolor="#000000", markeredgewidth=0.6, capsize=3, linestyle="none",
                        label=family if family and family not in seen else None, gid=f"point-{len(seen)}")
            seen.add(family)
        rates = [p["rate"] for p in usable] + [0.0]
        span = max(max(rates) - min(rates), 0.2)
        ax.set_xlim(min(rates) - 0.12 * span, max(rates) + 0.3 * span)  # room for labels right of rate 0
        ax.set_ylim(-0.04, 1.22)  # a band above accuracy 1 for the labels of the models that learned
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.axvline(0, gid="bound-0", **_reference(1))
        if chance is not None:
            ax.axhline(chance, gid="chance-0", **_reference(0))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        _legend(fig, ax)
        # The labels are placed in pixels, so the layout must be final first: break a long y-label
        # now (it moves the axes), make room on the right, lay out, then freeze that layout (savefig
        # would lay the figure out again and move the points under the labels).
        fit_axis_labels(fig)
        for _ in range(3):  # wider limits bring new tick labels, which may narrow the axes a little
            if not (usable and _room_on_the_right(fig, ax, max(usable, key=lambda p: p["rate"]))):
                break
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
        # two models at nearly the same rate and accuracy (chrono LSTM and orthogonal RNN) would hide
        # one marker under the other: set apart sideways as in rate_vs_accuracy, then name them
        usable = _set_apart(fig, ax, usable, [c for c in ax.containers])
        label_points(fig, ax, usable, [(0.0, None, boundary_label)]
                     + ([(None, chance, chance_label)] if chance is not None else []))
        return _svg(fig)


def _room_on_the_right(fig: Figure, ax, point: dict, most: float = 0.45) -> bool:
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
