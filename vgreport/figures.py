"""Stage 9: figures. Each function takes plain arrays (from a table) and returns an SVG string.

One context manager sets the style and a per-figure hash salt, so the same data always gives
the same bytes and no figure depends on global state: figures are built on
`matplotlib.figure.Figure` directly (no pyplot, so no backend is switched for the caller) and
saved with the SVG canvas. Colours are Okabe-Ito (safe for colour-blind readers); every series
also differs by line style and marker so the figures survive grayscale printing.

Sizes are fixed, not "tight": a full-width figure is exactly 16 cm wide (the text width of an
A4 page with 2 cm margins), so text set at 8-8.5 pt stays at that size when the document shows
the SVG at its natural width. Glyphs are written as paths (`svg.fonttype: path`): the figures
look the same in every browser and in WeasyPrint without depending on installed fonts.
"""
from __future__ import annotations

import hashlib
import io
import math
import re
from contextlib import contextmanager

import matplotlib
import matplotlib.style
import numpy as np
from matplotlib.figure import Figure

__all__ = ["gradient_vs_lag", "score_vs_x", "curves", "exploding", "bars", "jacobian_check",
           "derivative_ranges", "rate_vs_accuracy", "rate_vs_theory", "PALETTE",
           "FULL_WIDTH_IN"]

# Okabe & Ito (2008): blue, vermillion, bluish green, reddish purple, orange, sky blue, black.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
REFERENCE = "#555555"  # bound and chance lines: gray, so they never look like a model
FULL_WIDTH_IN = 16 / 2.54  # the printed text width
HEIGHT_IN = 2.6

_STYLE = {
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 8.5, "axes.labelsize": 8.5,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8, "legend.frameon": False,
    "legend.handlelength": 2.6, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#dddddd", "grid.linewidth": 0.5, "lines.linewidth": 1.4,
    "lines.markersize": 4, "svg.fonttype": "path", "figure.dpi": 72, "path.simplify": True,
    "axes.formatter.use_mathtext": True, "mathtext.fontset": "dejavusans",
    "figure.constrained_layout.h_pad": 0.03, "figure.constrained_layout.w_pad": 0.03,
}


@contextmanager
def _figure(key: str, width: float = FULL_WIDTH_IN, height: float = HEIGHT_IN, ncols: int = 1):
    """Yield (fig, axes) under a fixed style; the hash salt makes SVG ids depend only on the data."""
    salt = hashlib.sha256(key.encode()).hexdigest()[:12]
    # The default style first: a user's matplotlibrc must not change the report (or its cache digest).
    with matplotlib.style.context("default"), matplotlib.rc_context({**_STYLE, "svg.hashsalt": salt}):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(1, ncols, squeeze=False)[0]
        yield fig, (axes[0] if ncols == 1 else list(axes))


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # inline: drop the XML declaration and doctype
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    return _unique_ids(text)


def _unique_ids(svg: str) -> str:
    """Prefix every id with a digest of the figure, so many inline SVGs share one HTML page."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    prefix = "f" + hashlib.sha256(svg.encode()).hexdigest()[:8] + "-"
    return re.sub(r'(\bid="|href="#|url\(#)([^")]+)',
                  lambda m: m.group(1) + (prefix + m.group(2) if m.group(2) in ids else m.group(2)), svg)


def _style(i: int) -> dict:
    return {"color": PALETTE[i % len(PALETTE)], "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def _slot(series: dict, i: int) -> int:
    """A series may pin its style ("slot"), so one model looks the same in every figure."""
    return int(series.get("slot", i))


def _markevery(n: int) -> int:
    return max(1, n // 8)


def _key(*parts) -> str:
    return "|".join(str(p) for p in parts)


def _legend(fig: Figure, ax) -> None:
    """Legend under the plot, in as many columns as fit the 16 cm width."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    longest = max(len(label) for label in labels)
    per_column_in = 0.05 * longest + 0.7  # 8 pt DejaVu Sans: ~3.6 pt per character, plus handle and gap
    ncols = max(1, min(len(labels), int((fig.get_figwidth() - 0.2) / per_column_in)))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, borderaxespad=0.2,
               columnspacing=1.2)


def _finite(values) -> np.ndarray:
    arr = np.asarray(values, float)
    return arr[np.isfinite(arr)]


def _positive(values, floor: float = 1e-300) -> np.ndarray:
    """For log axes: zeros (a dead ReLU gradient) and NaN become NaN, which matplotlib skips."""
    arr = np.asarray(values, float)
    return np.where(np.isfinite(arr) & (arr > floor), arr, np.nan)


def gradient_vs_lag(series: list[dict], bounds: list[dict], ylabel: str = "‖∂L/∂h_k‖ / ‖∂L/∂h_T‖",
                    xlabel: str = "distance T − k (steps back in time)", height: float = HEIGHT_IN + 0.5) -> str:
    """Log-scale ratio against lag, band over seeds; bound lines exp(rate·lag).

    Each series: label, lags, mean, optional lo/hi (band), optional slot. Each bound: label, rate
    (per-step log bound, e.g. log(γ·σ_max)), optional slot (drawn thin in that series' colour)."""
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
            ax.plot(lags, mean, label=s["label"], markevery=_markevery(len(lags)), **style)
            if "lo" in s and "hi" in s:
                ax.fill_between(lags, _positive(s["lo"]), _positive(s["hi"]), color=style["color"],
                                alpha=0.15, linewidth=0)
                values += [_finite(_positive(s["lo"])), _finite(_positive(s["hi"]))]  # the whole band in view
        data = np.concatenate(values) if values else np.array([])
        low = float(data.min()) if data.size else 1e-3
        high = float(data.max()) if data.size else 1.0
        grid = np.linspace(0, top_lag, 60)
        for j, b in enumerate(bounds):
            rate = b.get("rate")
            if rate is None or not math.isfinite(rate):
                continue
            color = PALETTE[int(b["slot"]) % len(PALETTE)] if "slot" in b else REFERENCE
            ax.plot(grid, np.exp(rate * grid), color=color, linestyle=(0, (4, 2 + 2 * j)),
                    linewidth=0.9, label=b["label"], gid=f"bound-{j}")
        ax.set_yscale("log")
        ax.set_ylim(max(low / 5, 1e-300), max(high * 5, low * 10))
        ax.set_xlim(0, top_lag)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        _legend(fig, ax)
        return _svg(fig)


def score_vs_x(series: list[dict], chance: float | None, xlabel: str, ylabel: str, logx: bool = False,
               chance_label: str = "chance", lower_is_better: bool = False, height: float = HEIGHT_IN + 0.4) -> str:
    """Mean with 95% interval error bars against x (length), one series per model; chance line."""
    with _figure(_key("score", xlabel, ylabel, [s["label"] for s in series]), height=height) as (fig, ax):
        for i, s in enumerate(series):
            # a small multiplicative offset keeps the error bars of different models apart
            x = np.asarray(s["x"], float) * (1 + 0.015 * (i - (len(series) - 1) / 2))
            mean = np.asarray(s["mean"], float)
            lo = np.where(np.isfinite(s["lo"]), s["lo"], mean)
            hi = np.where(np.isfinite(s["hi"]), s["hi"], mean)
            style = _style(_slot(s, i))
            ax.errorbar(x, mean, yerr=np.clip(np.vstack([mean - lo, hi - mean]), 0, None), label=s["label"],
                        capsize=2.5, color=style["color"], linestyle=style["linestyle"], marker=style["marker"])
        if chance is not None:
            ax.axhline(chance, color=REFERENCE, linestyle=":", linewidth=1.2, label=chance_label, gid="chance-0")
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
        _draw_curves(ax, series, logy)
        if chance is not None:
            ax.axhline(chance, color=REFERENCE, linestyle=":", linewidth=1.2, label=chance_label, gid="chance-0")
        for m in marks:
            ax.axvline(m["x"], color="#888888", linewidth=0.9, linestyle="-.", label=m.get("label"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if not logy and chance is not None and chance < 1:
            ax.set_ylim(0, 1.05)
        _legend(fig, ax)
        return _svg(fig)


def _draw_curves(ax, series: list[dict], logy: bool) -> None:
    for i, s in enumerate(series):
        x = np.asarray(s["x"], float)
        style = _style(_slot(s, i))
        mean = _positive(s["mean"]) if logy else np.asarray(s["mean"], float)
        ax.plot(x, mean, label=s["label"], markevery=_markevery(len(x)), **style)
        if "lo" in s and "hi" in s and len(x) > 1:
            lo, hi = (_positive(s["lo"]), _positive(s["hi"])) if logy else (s["lo"], s["hi"])
            ax.fill_between(x, lo, hi, color=style["color"], alpha=0.15, linewidth=0)
    if logy:
        ax.set_yscale("log")


def exploding(loss: list[dict], norm: list[dict], diverged: list[dict], chance_loss: float, clip: float | None,
              floor: float = 1e-3) -> str:
    """Two log-scale panels: training loss with the chance-level loss, and the gradient norm before clipping.

    `diverged`: one dict per series that diverged (label, steps: list of divergence steps, slot);
    each divergence is drawn as an ✕ at its step near the loss panel's top. Values below `floor`
    (a float32 loss of exactly 0) leave the panel at its bottom edge."""
    with _figure(_key("exploding", [s["label"] for s in loss + norm]), height=HEIGHT_IN + 0.4, ncols=2) as (fig, axes):
        left, right = axes
        _draw_curves(left, loss, logy=True)
        left.axhline(chance_loss, color=REFERENCE, linestyle=":", linewidth=1.2, gid="chance-0",
                     label=f"chance: loss of a uniform guess ({chance_loss:.2f})")
        tops = [float(np.nanmax(_positive(s["hi"]))) for s in loss if np.isfinite(_positive(s["hi"])).any()]
        top = max([chance_loss * 10] + [t * 3 for t in tops])
        for d in diverged:
            style = _style(d.get("slot", 0))
            steps = np.asarray(d["steps"], float)
            left.plot(steps, np.full(len(steps), top / 2), linestyle="none", marker="X", markersize=7,
                      color=style["color"], label=f"{d['label']}: loss NaN/inf (✕ at the step)")
        left.set_ylim(floor, top)
        left.set_xlabel("training step")
        left.set_ylabel("training loss")
        _draw_curves(right, norm, logy=True)
        if clip is not None:
            right.axhline(clip, color=REFERENCE, linestyle="--", linewidth=1.0, label=f"clipping threshold {clip:g}", gid="threshold-0")
        right.set_ylim(bottom=floor)
        right.set_xlabel("training step")
        right.set_ylabel("gradient norm before clipping")
        handles, labels = [], []
        for ax in (left, right):
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
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
            ax.axhline(chance, color=REFERENCE, linestyle=":", linewidth=1.2, label=chance_label, gid="chance-0")
        ax.plot([], [], "o", color="#000000", markersize=3, markerfacecolor="white", label="one seed")
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([r["label"] for r in rows])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(ylabel)
        _legend(fig, ax)
        return _svg(fig)


def jacobian_check(series: list[dict]) -> str:
    """Autograd ratio (line), explicit Jacobian product (hollow markers), operator-norm bound (dashed)."""
    with _figure(_key("jacobian", [s["label"] for s in series]), height=HEIGHT_IN + 0.5) as (fig, ax):
        values = []
        for i, s in enumerate(series):
            style = _style(_slot(s, i))
            lags = np.asarray(s["lags"], float)
            measured = _positive(s["measured"])
            values += [_finite(measured), _finite(_positive(s["opnorm"]))]
            ax.plot(lags, measured, color=style["color"], linestyle=style["linestyle"], label=f"{s['label']}: autograd")
            every = _markevery(len(lags))
            ax.plot(lags[::every], _positive(s["chain"])[::every], linestyle="none", marker=style["marker"],
                    color=style["color"], markerfacecolor="none")
            ax.plot(lags, _positive(s["opnorm"]), color=style["color"], linestyle=(0, (1.5, 1.5)), linewidth=0.9,
                    gid=f"bound-{i}")
        ax.plot([], [], color=REFERENCE, linestyle="none", marker="o", markerfacecolor="none",
                label="explicit product of Jacobians (markers)")
        ax.plot([], [], color=REFERENCE, linestyle=(0, (1.5, 1.5)), linewidth=0.9,
                label="bound ‖Π J_j‖₂ (dotted, per activation)")
        data = np.concatenate(values) if values else np.array([1.0])
        ax.set_yscale("log")
        if data.size:
            ax.set_ylim(max(float(data.min()) / 5, 1e-300), float(data.max()) * 5)
        ax.set_xlabel("distance T − k (steps back in time)")
        ax.set_ylabel("‖∂L/∂h_k‖ / ‖∂L/∂h_T‖")
        _legend(fig, ax)
        return _svg(fig)


def derivative_ranges(rows: list[dict]) -> str:
    """Per activation: 10th-90th percentile bar of f'(a), median tick, mean marker; sigmoid cap 1/4."""
    with _figure(_key("derivs", [r["label"] for r in rows]), height=0.45 * max(len(rows), 2) + 1.1) as (fig, ax):
        for i, r in enumerate(rows):
            style = _style(_slot(r, i))
            ax.plot([r["p10"], r["p90"]], [i, i], color=style["color"], linewidth=7, solid_capstyle="butt", alpha=0.55)
            if r.get("p50") is not None:
                ax.plot([r["p50"]], [i], marker="|", markersize=13, markeredgewidth=1.6, color="#000000", linestyle="none")
            ax.plot([r["mean"]], [i], marker=style["marker"], color=style["color"], markeredgecolor="#000000",
                    linestyle="none", markersize=6)
        ax.axvline(0.25, color=REFERENCE, linestyle="--", linewidth=1.0, label="1/4: the largest possible sigmoid′", gid="bound-0")
        ax.axvline(1.0, color=REFERENCE, linestyle=":", linewidth=1.0, label="1: the largest tanh′, ReLU′, identity′")
        ax.plot([], [], color="#999999", linewidth=7, alpha=0.55, label="10th–90th percentile")
        ax.plot([], [], marker="|", markersize=10, markeredgewidth=1.6, color="#000000", linestyle="none", label="median")
        ax.plot([], [], marker="o", color="#999999", markeredgecolor="#000000", linestyle="none", label="mean")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r["label"] for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(-0.03, 1.05)
        ax.set_xlabel("f′(a_j) along the probe trajectories at initialisation")
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
            ax.axhline(chance, color=REFERENCE, linestyle=":", linewidth=1.2, label="chance", gid="chance-0")
        ax.axvline(0, color=REFERENCE, linestyle="--", linewidth=0.9, label="rate 0: no decay")
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
        ax.plot(grid, grid, color=REFERENCE, linestyle="--", linewidth=1.0,
                label="bound log(γ·σ_max) = log(γ·g): exact for the linear RNN", gid="bound-0")
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

