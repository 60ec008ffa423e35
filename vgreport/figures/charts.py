"""The data figures: each function takes plain lists (from a table) and returns one SVG string."""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .labels import label_points
from .style import (HEIGHT_IN, PALETTE, REFERENCE, _figure, _markevery, _reference,
                    _slot, _style, _svg, fit_axis_labels)

def _key(*parts) -> str:
    return "|".join(str(p) for p in parts)


def _legend(fig: Figure, ax) -> None:
    """Legend under the plot, in as many columns as fit the 16 cm width."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    longest = max(len(label) for label in labels)
    per_column_in = 0.05 * longest + 0.8  # 8 pt DejaVu Sans: ~3.6 pt per character, plus handle and gap
    ncols = max(1, min(len(labels), int((fig.get_figwidth() - 0.2) / per_column_in)))
    _grow_for_legend(fig, math.ceil(len(labels) / ncols))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, borderaxespad=0.2,
               columnspacing=1.2)


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


def _bound(ax, x, y, label: str, style: dict, gid: str, log: bool) -> bool:
    """Draw a reference curve inside the axes' current y-limits, ▲/▼ where it leaves them;
    returns whether it was cut."""
    low, high = ax.get_ylim()
    xs, ys, edges = _inside(x, y, low, high, log)
    if not len(xs):
        ends = _finite(y)
        where = "above" if ends.size and ends.min() > high else "below"
        label = f"{label} (entirely {where} the plotted range)"
    ax.plot(xs, ys, label=label, gid=gid, **style)
    for ex, ey, side in edges:
        ax.plot([ex], [ey], linestyle="none", marker="^" if side == "top" else "v", markersize=6,
                color=style["color"], clip_on=False, gid=f"edge-{gid}")
    return bool(edges)


def _edge_note(ax) -> None:
    """A legend entry explaining the ▲/▼ marks of bounds that leave the axes."""
    ax.plot([], [], linestyle="none", marker="^", markersize=6, color=REFERENCE,
            label="where a bound leaves the plot (▲ above, ▼ below); it goes on beyond the axes")


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
    (per-step log bound, e.g. log(γ·σ_max)), optional slot (drawn dotted in that series' colour).
    The y-limits come from the series; a bound that leaves them is cut there and marked ▲/▼. A
    dashed series that coincides with another (see coincide) is drawn over it with hollow markers,
    so both stay visible."""
    with _figure(_key("lag", ylabel, [s["label"] for s in series], [b["label"] for b in bounds]),
                 height=height) as (fig, ax):
        top_lag, values = 1.0, []
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
                                alpha=0.15, linewidth=0)
                values += [_finite(_positive(s["lo"])), _finite(_positive(s["hi"]))]  # the whole band in view
        data = np.concatenate(values) if values else np.array([])
        low = float(data.min()) if data.size else 1e-3
        high = float(data.max()) if data.size else 1.0
        ax.set_yscale("log")
        ax.set_ylim(max(low / 5, 1e-300), max(high * 5, low * 10))
        ax.set_xlim(0, top_lag)
        grid = np.linspace(0, top_lag, 61)
        cut = False
        for j, b in enumerate(bounds):
            rate = b.get("rate")
            if rate is None or not math.isfinite(rate):
                continue
            color = PALETTE[int(b["slot"]) % len(PALETTE)] if "slot" in b else REFERENCE
            cut |= _bound(ax, grid, np.exp(rate * grid), b["label"], _reference(j, color), f"bound-{j}", log=True)
        if cut:
            _edge_note(ax)
        _log_axis(ax, "y")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # lags are whole steps
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        _legend(fig, ax)
        return _svg(fig)


def score_vs_x(series: list[dict], chance: float | None, xlabel: str, ylabel: str, logx: bool = False,
               chance_label: str = "chance", lower_is_better: bool = False, height: float = HEIGHT_IN + 0.4) -> str:
    """Mean with 95% interval error bars against x (length), one series per model; chance line. A
    dashed series that coincides with another is drawn over it with hollow markers."""
    with _figure(_key("score", xlabel, ylabel, [s["label"] for s in series]), height=height) as (fig, ax):
        for i, s in enumerate(series):
            # a small multiplicative offset keeps the error bars of different models apart
            x = np.asarray(s["x"], float) * (1 + 0.015 * (i - (len(series) - 1) / 2))
            mean = np.asarray(s["mean"], float)
            lo = np.where(np.isfinite(s["lo"]), s["lo"], mean)
            hi = np.where(np.isfinite(s["hi"]), s["hi"], mean)
            style = _style(_slot(s, i))
            over = {}
            if style["linestyle"] != "-" and any(coincide(s, t, log=False) for t in series if t is not s):
                over = {"zorder": 2.5, "markerfacecolor": "white"}  # over the solid line it would hide behind
            ax.errorbar(x, mean, yerr=np.clip(np.vstack([mean - lo, hi - mean]), 0, None), label=s["label"],
                        capsize=2.5, color=style["color"], linestyle=style["linestyle"], marker=style["marker"], **over)
        if chance is not None:
            ax.axhline(chance, label=chance_label, gid="chance-0", **_reference(0))
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
        _legend(fig, ax)
        return _svg(fig)


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
                       **_reference(2))
            if m.get("label"):
                ax.annotate(str(m["label"]), (m["x"], 1), xycoords=("data", "axes fraction"), xytext=(2, -2),
                            textcoords="offset points", ha="left", va="top", fontsize=8, color=REFERENCE)
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
    each divergence is drawn as an ✕ at its step near the loss panel's top. Zeros (a float32 loss
    of exactly 0) and NaN are gaps; y-limits come from the data, so every line stays inside."""
    with _figure(_key("exploding", [s["label"] for s in loss + norm]), height=HEIGHT_IN + 0.4, ncols=2) as (fig, axes):
        left, right = axes
        values = _draw_curves(left, loss, logy=True)
        left.axhline(chance_loss, gid="chance-0", label=f"chance: loss of a uniform guess ({chance_loss:.2f})",
                     **_reference(0))
        bottom, top = _log_limits(values, (chance_loss,))
        top = max(top, chance_loss * 10)
        for d in diverged:
            style = _style(d.get("slot", 0))
            steps = np.asarray(d["steps"], float)
            left.plot(steps, np.full(len(steps), top / 2), linestyle="none", marker="X", markersize=7,
                      color=style["color"], label=f"{d['label']}: loss NaN/inf (✕ at the step)")
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
        handles, labels = [], []
        for ax in (left, right):
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        _grow_for_legend(fig, math.ceil(len(labels) / 2))
        fig.legend(handles, labels, loc="outside lower center", ncols=2, borderaxespad=0.2)
        return _svg(fig)


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
    """Autograd ratio (line), explicit Jacobian product (hollow markers), operator-norm bound (dotted)."""
    with _figure(_key("jacobian", [s["label"] for s in series]), height=HEIGHT_IN + 0.5) as (fig, ax):
        values = []
        for i, s in enumerate(series):
            style = _style(_slot(s, i))
            lags = np.asarray(s["lags"], float)
            measured = _positive(s["measured"])
            values += [_finite(measured), _finite(_positive(s["opnorm"]))]
            ax.plot(lags, measured, color=style["color"], linestyle=style["linestyle"])
            start, every = _markevery(len(lags), i, len(series))
            ax.plot(lags[start::every], _positive(s["chain"])[start::every], linestyle="none", marker=style["marker"],
                    color=style["color"], markerfacecolor="none")
            ax.plot([], [], color=style["color"], linestyle=style["linestyle"], marker=style["marker"],
                    markerfacecolor="none", label=f"{s['label']}: autograd and explicit product")
            ax.plot(lags, _positive(s["opnorm"]), gid=f"bound-{i}", label=f"{s['label']}: bound ‖Π J_j‖₂",
                    **_reference(i, style["color"]))
        data = np.concatenate(values) if values else np.array([])
        ax.set_yscale("log")
        if data.size:
            ax.set_ylim(max(float(data.min()) / 5, 1e-300), max(float(data.max()) * 5, float(data.min()) * 10))
        _log_axis(ax, "y")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("distance T − k (steps back in time)")
        ax.set_ylabel("‖∂L/∂h_k‖ / ‖∂L/∂h_T‖")
        _legend(fig, ax)
        return _svg(fig)


def derivative_ranges(rows: list[dict]) -> str:
    """Per activation: 10th-90th percentile bar of φ′(a), median tick, mean marker; sigmoid cap 1/4."""
    with _figure(_key("derivs", [r["label"] for r in rows]), height=0.45 * max(len(rows), 2) + 1.1) as (fig, ax):
        for i, r in enumerate(rows):
            style = _style(_slot(r, i))
            ax.plot([r["p10"], r["p90"]], [i, i], color=style["color"], linewidth=7, solid_capstyle="butt", alpha=0.55)
            if r.get("p50") is not None:
                ax.plot([r["p50"]], [i], marker="|", markersize=13, markeredgewidth=1.6, color="#000000", linestyle="none")
            ax.plot([r["mean"]], [i], marker=style["marker"], color=style["color"], markeredgecolor="#000000",
                    linestyle="none", markersize=6)
        ax.axvline(0.25, label="1/4: the largest possible sigmoid′", gid="bound-0", **_reference(0))
        ax.axvline(1.0, label="1: the largest tanh′, ReLU′, identity′", gid="bound-1", **_reference(1))
        ax.plot([], [], color="#999999", linewidth=7, alpha=0.55, label="10th–90th percentile")
        ax.plot([], [], marker="|", markersize=10, markeredgewidth=1.6, color="#000000", linestyle="none", label="median")
        ax.plot([], [], marker="o", color="#999999", markeredgecolor="#000000", linestyle="none", label="mean")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r["label"] for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(-0.03, 1.05)
        ax.set_xlabel("φ′(a_j) along the probe trajectories at initialisation")
        _legend(fig, ax)
        return _svg(fig)


def rate_vs_accuracy(rows: list[dict], chance: float | None) -> str:
    """Final accuracy (with interval) against the decay rate, one point per configuration."""
    with _figure(_key("rate_acc", [r["label"] for r in rows]), height=HEIGHT_IN + 0.3) as (fig, ax):
        for i, r in enumerate(rows):
            style = _style(_slot(r, i))
            lo = r["acc_lo"] if math.isfinite(r["acc_lo"]) else r["acc"]
            hi = r["acc_hi"] if math.isfinite(r["acc_hi"]) else r["acc"]
            ax.errorbar([r["rate"]], [r["acc"]], yerr=[[max(r["acc"] - lo, 0)], [max(hi - r["acc"], 0)]],
                        marker=style["marker"], color=style["color"], capsize=3, linestyle="none", label=r["label"],
                        markersize=6)
        if chance is not None:
            ax.axhline(chance, label="chance", gid="chance-0", **_reference(0))
        ax.axvline(0, label="rate 0: no decay", **_reference(1))
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("per-step rate of log‖∂L/∂h_k‖ at initialisation (0 = no decay)")
        ax.set_ylabel("final recall accuracy")
        _legend(fig, ax)
        return _svg(fig)


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
