"""The data figures several results draw: each function takes plain lists (from a table) and returns
one SVG string. A figure that only one finding draws lives in that finding's folder (figures.py),
built from the same parts (figures/parts.py) and style."""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation

from .labels import label_points
from .parts import (
    ARROW,
    EDGE_MARKERS,
    chart_key,
    draw_curves,
    finite,
    legend,
    log_axis,
    log_limits,
    name_lines,
    positive,
    room_on_the_right,
    set_apart,
)
from .style import (
    HEIGHT_IN,
    PALETTE,
    REFERENCE,
    fit_axis_labels,
    markevery,
    new_figure,
    reference_style,
    series_style,
    slot_of,
    to_svg,
)

SCORE_MARKER_PT = 6.5  # a score's marker: big enough to tell its shape at 70 dpi in grayscale
DODGE_GAP_PT = 4      # clear space between two markers set side by side at the same x


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



def _bound(ax, x, y, label: str, style: dict, gid: str, log: bool) -> bool:
    """Draw a reference curve inside the axes' current y-limits, an arrow (↑/↓) where it leaves them;
    returns whether it was cut."""
    low, high = ax.get_ylim()
    xs, ys, edges = _inside(x, y, low, high, log)
    if not len(xs):
        ends = finite(y)
        where = "above" if ends.size and ends.min() > high else "below"
        label = f"{label} (entirely {where} the plotted range)"
    ax.plot(xs, ys, label=label, gid=gid, **style)
    for ex, ey, side in edges:
        ax.plot([ex], [ey], linestyle="none", marker=EDGE_MARKERS[side], markersize=14, markeredgewidth=0,
                color=style["color"], clip_on=False, gid=f"edge-{gid}")
    return bool(edges)


def _edge_note(ax) -> None:
    """A legend entry explaining the arrows of bounds that leave the axes."""
    centred = Path([(x, y + 0.5) for x, y in ARROW], closed=True)  # on the legend text's middle line
    ax.plot([], [], linestyle="none", marker=centred, markersize=7, markeredgewidth=0,
            color=REFERENCE, label="a bound leaves the plot here (at the top or bottom)")


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
        return np.log10(positive(v)) if log else v
    ma, mb = values(a, "mean")[ia], values(b, "mean")[ib]
    both = np.isfinite(ma) & np.isfinite(mb)
    if not both.any() or (np.isfinite(ma) != np.isfinite(mb)).any():
        return False
    plotted = finite(np.concatenate([values(s, k) for s in (a, b) for k in ("mean", "lo", "hi")]))
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
    with new_figure(chart_key("lag", ylabel, [s["label"] for s in series], [b["label"] for b in bounds]),
                 height=height) as (fig, ax):
        top_lag, values, bands = 1.0, [], []
        for i, s in enumerate(series):
            lags = np.asarray(s["lags"], float)
            mean = positive(s["mean"])
            if len(lags):
                top_lag = max(top_lag, float(np.nanmax(lags)))
            values.append(finite(mean))
            style = series_style(slot_of(s, i))
            if style["linestyle"] != "-" and any(coincide(s, t) for t in series if t is not s):
                style.update(zorder=2.5, markerfacecolor="white")  # over the solid line it would hide behind
            ax.plot(lags, mean, label=s["label"], markevery=markevery(len(lags), i, len(series)), **style)
            if "lo" in s and "hi" in s:
                ax.fill_between(lags, positive(s["lo"]), positive(s["hi"]), color=style["color"],
                                alpha=0.15, linewidth=0, zorder=1)  # behind every line
                bands.append((finite(positive(s["lo"])), finite(positive(s["hi"]))))
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
            cut |= _bound(ax, grid, np.exp(rate * grid), b["label"], reference_style(j, color), f"bound-{j}", log=True)
            xs, ys, _ = _inside(grid, np.exp(rate * grid), *ax.get_ylim(), log=True)
            names.append((f"bound-{j}", b.get("name", b["label"]), xs, ys, color))
        if cut:
            _edge_note(ax)
        log_axis(ax, "y")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # lags are whole steps
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        legend(fig, ax)
        if len(names) > 1:  # two dotted bounds: each named at its line
            name_lines(fig, ax, names, [(a, b) for s in series for a, b in zip(s["lags"], positive(s["mean"]))
                                         if np.isfinite(b)])
        return to_svg(fig)


def score_vs_x(series: list[dict], chance: float | None, xlabel: str, ylabel: str, logx: bool = False,
               chance_label: str = "chance", lower_is_better: bool = False, height: float = HEIGHT_IN + 0.4) -> str:
    """Mean with 95% interval error bars against x (length), one series per model; chance line. A
    dashed series that coincides with another is drawn over it with hollow markers."""
    with new_figure(chart_key("score", xlabel, ylabel, [s["label"] for s in series]), height=height) as (fig, ax):
        for i, s in enumerate(series):
            x = np.asarray(s["x"], float)
            mean = np.asarray(s["mean"], float)
            lo = np.where(np.isfinite(s["lo"]), s["lo"], mean)
            hi = np.where(np.isfinite(s["hi"]), s["hi"], mean)
            style = series_style(slot_of(s, i))
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
            ax.axhline(chance, label=chance_label, gid="chance-0", **reference_style(0))
        if logx:
            ax.set_xscale("log")
        xs = sorted({float(v) for s in series for v in s["x"]})
        if xs:
            ax.set_xticks(xs)
            ax.set_xticklabels([f"{v:g}" for v in xs])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel + (" (lower is better)" if lower_is_better else ""))
        if lower_is_better:
            ax.set_ylim(0, None)
        else:
            ax.set_ylim(0, 1.05)
        legend(fig, ax)
        if xs:
            # room beside the outermost x for the dodged series (the autoscaled limits sit on them):
            # half their spread, a marker and a margin, as a share of the axes' width once the layout
            # has placed the legend (beside the axes, it takes much of the figure's width)
            room = (_dodge_step() * (len(series) - 1) / 2 + SCORE_MARKER_PT + 4) / 72
            fig.canvas.draw()
            share = min(room / (ax.get_position().width * fig.get_figwidth()), 0.3)
            if logx and xs[0] > 0:
                pad = max(xs[-1] / xs[0], 4.0) ** (share / (1 - 2 * share))
                ax.set_xlim(xs[0] / pad, xs[-1] * pad)
            else:
                pad = max(xs[-1] - xs[0], 1.0) * share / (1 - 2 * share)
                ax.set_xlim(xs[0] - pad, xs[-1] + pad)
        return to_svg(fig)


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
    with new_figure(chart_key("curves", xlabel, ylabel, [s["label"] for s in series]), height=height) as (fig, ax):
        values = draw_curves(ax, series, logy)
        if chance is not None:
            ax.axhline(chance, label=chance_label, gid="chance-0", **reference_style(0))
        # the marks share one look, so they share one legend entry, and each is named at its top
        for j, m in enumerate(marks):
            ax.axvline(m["x"], label=", ".join(str(k.get("label")) for k in marks) if j == 0 else None,
                       gid=f"mark-{j}", **reference_style(2))
            if m.get("label"):
                ax.annotate(str(m["label"]), (m["x"], 1), xycoords=("data", "axes fraction"), xytext=(2, -2),
                            textcoords="offset points", ha="left", va="top", fontsize=8, color=REFERENCE,
                            gid=f"name-mark-{j}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if not logy and chance is not None and chance < 1:
            ax.set_ylim(0, 1.05)
        if logy:
            ax.set_ylim(*log_limits(values, (chance,) if chance is not None else ()))
            log_axis(ax, "y")
        legend(fig, ax)
        return to_svg(fig)


def bars(rows: list[dict], chance: float | None, ylabel: str, chance_label: str = "chance") -> str:
    """One bar per configuration (mean), 95% interval whiskers and each seed as a dot."""
    with new_figure(chart_key("bars", ylabel, [r["label"] for r in rows]), height=HEIGHT_IN + 0.2) as (fig, ax):
        for i, r in enumerate(rows):
            color = PALETTE[slot_of(r, i) % len(PALETTE)]
            ax.bar(i, r["mean"], color=color, alpha=0.6, edgecolor="#333333", linewidth=0.6, width=0.6)
            lo = r["lo"] if math.isfinite(r["lo"]) else r["mean"]
            hi = r["hi"] if math.isfinite(r["hi"]) else r["mean"]
            ax.errorbar(i, r["mean"], yerr=[[max(r["mean"] - lo, 0)], [max(hi - r["mean"], 0)]], color="#000000",
                        capsize=3, linewidth=1.0)
            seeds = list(r.get("per_seed", []))
            ax.plot(i + np.linspace(-0.12, 0.12, len(seeds)) if len(seeds) > 1 else np.full(len(seeds), i), seeds,
                    "o", color="#000000", markersize=3, markerfacecolor="white")
        if chance is not None:
            ax.axhline(chance, label=chance_label, gid="chance-0", **reference_style(0))
        ax.plot([], [], "o", color="#000000", markersize=3, markerfacecolor="white", label="one seed")
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([r["label"] for r in rows])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(ylabel)
        legend(fig, ax)
        return to_svg(fig)


# ---------------------------------------------------------------- the whole story in one figure

def _family_slots(points: list[dict]) -> dict[str, int]:
    """One slot (colour, marker) per family: the slot its points pin (the caller gives each family the
    style its models have in the other figures), else the first slot no family took."""
    slots: dict[str, int] = {}
    for p in points:
        family = str(p.get("family", ""))
        if family not in slots and "slot" in p:
            slots[family] = int(p["slot"])
    free = [i for i in range(len(PALETTE)) if i not in slots.values()]
    for p in points:
        family = str(p.get("family", ""))
        if family not in slots:
            slots[family] = free.pop(0) if free else len(slots) % len(PALETTE)
    return slots


def hero(points: list[dict], chance: float | None = None,
         xlabel: str = "gradient decay rate per step at initialisation (slope of log‖∂L/∂h_k‖)",
         ylabel: str = "final accuracy at the longest length", chance_label: str = "chance",
         boundary_label: str = "r = 0: no decay", height: float = HEIGHT_IN + 1.2) -> str:
    """Every model and initialisation as one point: decay rate at initialisation (x) against the
    final accuracy at the longest length (y, 95% whiskers), each point labelled next to it.

    points: dicts with label, rate, acc, acc_lo, acc_hi, family (RNN, LSTM, GRU, transformer, ...:
    one colour and marker per family) and optionally slot (the family's style). A vertical line at rate 0 marks γ·σ_max = 1, where the
    bound no longer forces decay; a horizontal one marks chance."""
    usable = [p for p in points if math.isfinite(p.get("rate", math.nan)) and math.isfinite(p.get("acc", math.nan))]
    slots = _family_slots(usable)
    with new_figure(chart_key("hero", [(p["label"], p.get("family")) for p in points]), height=height) as (fig, ax):
        seen = set()
        for p in usable:
            family = str(p.get("family", ""))
            style = series_style(slots[family])
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
        ax.axvline(0, gid="bound-0", **reference_style(1))
        if chance is not None:
            ax.axhline(chance, gid="chance-0", **reference_style(0))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        legend(fig, ax, beside=False)  # the points' names need the whole width
        # The labels are placed in pixels, so the layout must be final first: break a long y-label
        # now (it moves the axes), make room on the right, lay out, then freeze that layout (savefig
        # would lay the figure out again and move the points under the labels).
        fit_axis_labels(fig)
        for _ in range(3):  # wider limits bring new tick labels, which may narrow the axes a little
            if not (usable and room_on_the_right(fig, ax, max(usable, key=lambda p: p["rate"]))):
                break
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
        # two models at nearly the same rate and accuracy (chrono LSTM and orthogonal RNN) would hide
        # one marker under the other: set apart sideways as in rate_vs_accuracy, then name them
        usable = set_apart(fig, ax, usable, [c for c in ax.containers])
        label_points(fig, ax, usable, [(0.0, None, boundary_label)]
                     + ([(None, chance, chance_label)] if chance is not None else []))
        return to_svg(fig)


