"""Stage 9: figures. Each function takes plain arrays (from a table) and returns an SVG string.

One context manager sets the backend, the style and a per-figure hash salt, so the same data
always gives the same bytes and no figure depends on global state. Colours are Okabe-Ito
(safe for colour-blind readers); every series also differs by line style and marker so the
figures survive grayscale printing.
"""
from __future__ import annotations

import hashlib
import io
import math
import re
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["gradient_vs_lag", "score_vs_x", "curves", "bars", "jacobian_check", "derivative_ranges",
           "rate_vs_accuracy", "rate_vs_theory", "equation", "PALETTE"]

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
WIDTH_IN, HEIGHT_IN = 6.3, 2.75  # 16 cm wide: the text width of an A4 page with 2 cm margins

_STYLE = {
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 9, "axes.labelsize": 8.5,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.color": "#dddddd",
    "grid.linewidth": 0.5, "lines.linewidth": 1.4, "lines.markersize": 4, "svg.fonttype": "path",
    "figure.dpi": 100, "savefig.bbox": "tight", "savefig.pad_inches": 0.03,
}


@contextmanager
def _figure(key: str, width: float = WIDTH_IN, height: float = HEIGHT_IN):
    """Yield (fig, ax) under a fixed style; the hash salt makes SVG ids depend only on `key`."""
    salt = hashlib.sha256(key.encode()).hexdigest()[:12]
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": salt}):
        fig, ax = plt.subplots(figsize=(width, height))
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # inline: drop the XML declaration and doctype
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _style(i: int) -> dict:
    return {"color": PALETTE[i % len(PALETTE)], "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def _markevery(n: int) -> int:
    return max(1, n // 10)


def _key(*parts) -> str:
    return "|".join(str(p) for p in parts)


def gradient_vs_lag(series: list[dict], bounds: list[dict], ylabel: str = "‖∂L/∂h_k‖ / ‖∂L/∂h_T‖",
                    xlabel: str = "distance T − k (steps back in time)") -> str:
    """Log-scale ratio against lag; each series has label, lags, mean, lo, hi; bounds have label, rate."""
    with _figure(_key("lag", ylabel, [s["label"] for s in series])) as (fig, ax):
        floor = 1e-300
        top_lag = 1
        for i, s in enumerate(series):
            lags = np.asarray(s["lags"], float)
            mean = np.clip(np.asarray(s["mean"], float), floor, None)
            top_lag = max(top_lag, lags.max())
            ax.plot(lags, mean, label=s["label"], markevery=_markevery(len(lags)), **_style(i))
            if "lo" in s:
                ax.fill_between(lags, np.clip(s["lo"], floor, None), np.clip(s["hi"], floor, None),
                                color=PALETTE[i % len(PALETTE)], alpha=0.15, linewidth=0)
        low = min((np.nanmin(np.clip(s["mean"], floor, None)) for s in series), default=1e-3)
        for j, b in enumerate(bounds):
            if b.get("rate") is None or not math.isfinite(b["rate"]):
                continue
            lags = np.linspace(0, top_lag, 50)
            ax.plot(lags, np.exp(b["rate"] * lags), color="#555555", linestyle=(0, (4, 2 + 2 * j)), linewidth=1.0,
                    label=b["label"])
        ax.set_yscale("log")
        ax.set_ylim(max(low / 3, floor), None)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _svg(fig)


def score_vs_x(series: list[dict], chance: float, xlabel: str, ylabel: str, logx: bool = False,
               chance_label: str = "chance", lower_is_better: bool = False) -> str:
    """Mean with 95% interval error bars against x (length), one series per model; chance line."""
    with _figure(_key("score", xlabel, ylabel, [s["label"] for s in series])) as (fig, ax):
        for i, s in enumerate(series):
            x = np.asarray(s["x"], float) * (1 + 0.02 * (i - len(series) / 2))  # offset: bars stay apart
            mean = np.asarray(s["mean"], float)
            lo, hi = np.asarray(s["lo"], float), np.asarray(s["hi"], float)
            if not lower_is_better:  # an accuracy interval is cut to [0, 1], where accuracy lives
                lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
            else:
                lo = np.clip(lo, 0, None)
            err = np.vstack([mean - lo, hi - mean])
            style = _style(i)
            ax.errorbar(x, mean, yerr=np.clip(err, 0, None), label=s["label"], capsize=2.5, color=style["color"],
                        linestyle=style["linestyle"], marker=style["marker"])
        if chance is not None:
            ax.axhline(chance, color="#555555", linestyle=":", linewidth=1.2, label=chance_label)
        if logx:
            ax.set_xscale("log")
        xs = sorted({float(v) for s in series for v in s["x"]})
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{v:g}" for v in xs])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel + (" (lower is better)" if lower_is_better else ""))
        if not lower_is_better:
            ax.set_ylim(0, 1.05)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _svg(fig)


def curves(series: list[dict], chance: float | None, xlabel: str, ylabel: str, logy: bool = False,
           marks: list[float] = (), end_markers: dict | None = None) -> str:
    """Training curves: mean line with a min-max band per series; optional chance line and marks."""
    with _figure(_key("curves", xlabel, ylabel, [s["label"] for s in series])) as (fig, ax):
        for i, s in enumerate(series):
            x = np.asarray(s["x"], float)
            style = _style(i)
            ax.plot(x, s["mean"], label=s["label"], markevery=_markevery(len(x)), **style)
            ax.fill_between(x, s["lo"], s["hi"], color=style["color"], alpha=0.15, linewidth=0)
            if end_markers and s["label"] in end_markers and len(x):
                ax.plot([x[-1]], [np.asarray(s["mean"])[-1]], marker="x", markersize=8, color=style["color"],
                        linestyle="none")
                ax.annotate("diverged", (x[-1], np.asarray(s["mean"])[-1]), textcoords="offset points",
                            xytext=(6, 4), fontsize=8, color=style["color"])
        if chance is not None:
            ax.axhline(chance, color="#555555", linestyle=":", linewidth=1.2, label="chance")
        for m in marks:
            ax.axvline(m, color="#888888", linewidth=0.8, linestyle="-.")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _svg(fig)


def bars(rows: list[dict], chance: float, ylabel: str) -> str:
    """One bar per configuration (mean), 95% interval whiskers and each seed as a dot."""
    with _figure(_key("bars", ylabel, [r["label"] for r in rows]), height=2.6) as (fig, ax):
        hatches = ["", "//", "..", "xx", "\\\\", "--"]
        for i, r in enumerate(rows):
            ax.bar(i, r["mean"], color=PALETTE[i % len(PALETTE)], alpha=0.55, hatch=hatches[i % len(hatches)],
                   edgecolor="#333333", linewidth=0.6)
            lo = r["lo"] if math.isfinite(r["lo"]) else r["mean"]
            hi = r["hi"] if math.isfinite(r["hi"]) else r["mean"]
            ax.errorbar(i, r["mean"], yerr=[[r["mean"] - lo], [hi - r["mean"]]], color="#000000", capsize=3)
            seeds = r.get("per_seed", [])
            ax.plot(np.full(len(seeds), i) + np.linspace(-0.15, 0.15, len(seeds)), seeds, "o", color="#000000",
                    markersize=3)
        ax.axhline(chance, color="#555555", linestyle=":", linewidth=1.2, label="chance")
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([r["label"].replace(" (", "\n(") for r in rows])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left")
        return _svg(fig)


def jacobian_check(series: list[dict]) -> str:
    """Autograd ratio (line), explicit Jacobian product (markers), operator-norm bound (dashed)."""
    with _figure(_key("jacobian", [s["label"] for s in series])) as (fig, ax):
        for i, s in enumerate(series):
            style = _style(i)
            lags = np.asarray(s["lags"], float)
            ax.plot(lags, np.clip(s["measured"], 1e-300, None), color=style["color"], linestyle=style["linestyle"],
                    label=f"{s['label']}: autograd")
            every = _markevery(len(lags))
            ax.plot(lags[::every], np.clip(np.asarray(s["chain"])[::every], 1e-300, None), linestyle="none",
                    marker=style["marker"], color=style["color"], markerfacecolor="none")
            ax.plot(lags, np.clip(s["opnorm"], 1e-300, None), color=style["color"], linestyle=(0, (2, 2)),
                    linewidth=0.9)
        ax.plot([], [], color="#555555", linestyle="none", marker="o", markerfacecolor="none",
                label="explicit Jacobian product")
        ax.plot([], [], color="#555555", linestyle=(0, (2, 2)), label="‖Π J‖₂ (bound)")
        ax.set_yscale("log")
        ax.set_xlabel("distance T − k (steps back in time)")
        ax.set_ylabel("‖∂L/∂h_k‖ / ‖∂L/∂h_T‖")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _svg(fig)


def derivative_ranges(rows: list[dict]) -> str:
    """Per activation: 10th-90th percentile bar of f'(a), median tick, mean marker; sigmoid cap 1/4."""
    with _figure(_key("derivs", [r["label"] for r in rows]), height=2.2) as (fig, ax):
        for i, r in enumerate(rows):
            style = _style(i)
            ax.plot([r["p10"], r["p90"]], [i, i], color=style["color"], linewidth=6, solid_capstyle="butt", alpha=0.6)
            ax.plot([r["p50"]], [i], marker="|", markersize=14, color="#000000", linestyle="none")
            ax.plot([r["mean"]], [i], marker=style["marker"], color=style["color"], markeredgecolor="#000000",
                    linestyle="none", markersize=6)
        ax.axvline(0.25, color="#555555", linestyle="--", linewidth=1.0, label="1/4: the largest sigmoid′")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r["label"] for r in rows])
        ax.set_xlim(-0.03, 1.05)
        ax.set_xlabel("f′(a) along the trajectories (bar: 10th–90th percentile, |: median, marker: mean)")
        ax.legend(loc="lower right")
        return _svg(fig)


def rate_vs_accuracy(rows: list[dict], chance: float) -> str:
    """Final accuracy (with interval) against the decay rate, one point per activation."""
    with _figure(_key("rate_acc", [r["label"] for r in rows]), height=2.5) as (fig, ax):
        for i, r in enumerate(rows):
            style = _style(i)
            lo = r["acc_lo"] if math.isfinite(r["acc_lo"]) else r["acc"]
            hi = r["acc_hi"] if math.isfinite(r["acc_hi"]) else r["acc"]
            ax.errorbar([r["rate"]], [r["acc"]], yerr=[[r["acc"] - lo], [hi - r["acc"]]], marker=style["marker"],
                        color=style["color"], capsize=3, linestyle="none", label=r["label"])
        ax.axhline(chance, color="#555555", linestyle=":", linewidth=1.2, label="chance")
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("per-step rate of log‖∂L/∂h_k‖ at initialisation (0 = no decay)")
        ax.set_ylabel("final recall accuracy")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _svg(fig)


def rate_vs_theory(series: list[dict]) -> str:
    """Measured per-step rate against log(gamma g), with the diagonal rate = log(gamma g)."""
    with _figure(_key("sweep", [s["label"] for s in series])) as (fig, ax):
        xs = np.concatenate([np.asarray(s["x"], float) for s in series]) if series else np.array([0.0])
        grid = np.linspace(xs.min() - 0.05, xs.max() + 0.05, 20)
        ax.plot(grid, grid, color="#555555", linestyle="--", linewidth=1.0, label="rate = log(γ·g)")
        for i, s in enumerate(series):
            mean = np.asarray(s["mean"], float)
            err = np.vstack([mean - np.asarray(s["lo"], float), np.asarray(s["hi"], float) - mean])
            style = _style(i)
            ax.errorbar(s["x"], mean, yerr=np.clip(err, 0, None), label=s["label"], capsize=2.5,
                        color=style["color"], linestyle=style["linestyle"], marker=style["marker"])
        ax.axhline(0, color="#000000", linewidth=0.6)
        ax.axvline(0, color="#000000", linewidth=0.6)
        ax.text(0.02, 0.95, "exploding ↑", transform=ax.transAxes, va="top", fontsize=8)
        ax.text(0.98, 0.05, "↓ vanishing", transform=ax.transAxes, ha="right", fontsize=8)
        ax.set_xlabel("log(γ·g)   (γ = 1 for tanh and identity)")
        ax.set_ylabel("measured rate per step")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _svg(fig)


def equation(tex: str, fontsize: float = 11.0) -> str:
    """A formula rendered by matplotlib's mathtext to SVG paths: no JavaScript, same in HTML and PDF."""
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": hashlib.sha256(tex.encode()).hexdigest()[:12],
                                "mathtext.fontset": "dejavusans"}):
        fig = plt.figure(figsize=(0.01, 0.01))
        try:
            fig.text(0, 0, f"${tex}$", fontsize=fontsize)
            return _svg(fig)
        finally:
            plt.close(fig)
