"""G2's own figure: the measured rate against log(γ·g), with the bound."""
from __future__ import annotations

import numpy as np

from ...figures.parts import chart_key, legend
from ...figures.style import HEIGHT_IN, new_figure, reference_style, series_style, slot_of, to_svg


def rate_vs_theory(series: list[dict]) -> str:
    """Measured per-step rate against log(γ·g), with the bound line rate = log(γ·g)."""
    with new_figure(chart_key("sweep", [s["label"] for s in series]), height=HEIGHT_IN + 0.6) as (fig, ax):
        xs = np.concatenate([np.asarray(s["x"], float) for s in series]) if series else np.array([0.0])
        xs = xs[np.isfinite(xs)] if np.isfinite(xs).any() else np.array([0.0])
        grid = np.linspace(xs.min() - 0.05, xs.max() + 0.05, 20)
        ax.plot(grid, grid, label="bound log(γ·σ_max) = log(γ·g): exact for the linear RNN", gid="bound-0",
                **reference_style(0))
        for i, s in enumerate(series):
            mean = np.asarray(s["mean"], float)
            lo = np.where(np.isfinite(s["lo"]), s["lo"], mean)
            hi = np.where(np.isfinite(s["hi"]), s["hi"], mean)
            style = series_style(slot_of(s, i))
            ax.errorbar(s["x"], mean, yerr=np.clip(np.vstack([mean - lo, hi - mean]), 0, None), label=s["label"],
                        capsize=2.5, color=style["color"], linestyle=style["linestyle"], marker=style["marker"])
        ax.axhline(0, color="#000000", linewidth=0.6)
        ax.axvline(0, color="#000000", linewidth=0.6)
        ax.text(0.02, 0.96, "gradient grows with distance ↑", transform=ax.transAxes, va="top", fontsize=8)
        ax.text(0.98, 0.04, "↓ gradient vanishes", transform=ax.transAxes, ha="right", fontsize=8)
        ax.set_xlabel("log(γ·g)   (γ = 1 for tanh and identity;  γ·g = 1 at 0)")
        ax.set_ylabel("measured rate per step")
        legend(fig, ax)
        return to_svg(fig)


