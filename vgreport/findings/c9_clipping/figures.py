"""C9's own figure: the exploding regime's loss and gradient norm, divergences marked."""
from __future__ import annotations

import numpy as np
from matplotlib.path import Path

from ...figures.parts import ARROW, EDGE_MARKERS, chart_key, draw_curves, legend, log_axis, log_limits
from ...figures.style import HEIGHT_IN, REFERENCE, new_figure, reference_style, series_style, slot_of, to_svg


def exploding(loss: list[dict], norm: list[dict], diverged: list[dict], chance_loss: float,
              clip: float | None) -> str:
    """Two log-scale panels: training loss with the chance-level loss, and the gradient norm before clipping.

    `diverged`: one dict per series that diverged (label, steps: list of divergence steps, slot);
    each step at which runs diverged is one ✕ near the loss panel's top, with "×n" beside it when n
    runs diverged there. A mean of exactly 0 (every seed's float32 loss rounded to 0) has no place on
    a log axis: it is a gap in the line with an arrow ↓ at the bottom edge. NaN are gaps; y-limits
    come from the data, so every line stays inside."""
    with new_figure(chart_key("exploding", [s["label"] for s in loss + norm]), height=HEIGHT_IN + 0.4, ncols=2) as (fig, axes):
        left, right = axes
        values = draw_curves(left, loss, logy=True)
        left.axhline(chance_loss, gid="chance-0", label=f"chance: loss of a uniform guess ({chance_loss:.2f})",
                     **reference_style(0))
        bottom, top = log_limits(values, (chance_loss,))
        top = max(top, chance_loss * 10)
        # the ✕ marks sit in a strip above every curve (a decade of headroom), so no "×n" meets a line
        mark_y = top * 3 if diverged else top
        top = top * 10 if diverged else top
        for d in diverged:
            style = series_style(d.get("slot", 0))
            steps, counts = np.unique(np.asarray(d["steps"], float), return_counts=True)
            several = bool((counts > 1).any())
            left.plot(steps, np.full(len(steps), mark_y), linestyle="none", marker="X", markersize=7,
                      color=style["color"], gid=f"diverged-{d['label']}",
                      label=f"{d['label']}: loss NaN/inf (✕ at the step" + ("; ×n: n runs)" if several else ")"))
            for step, count in zip(steps, counts):
                if count > 1:
                    left.annotate(f"×{count}", (step, mark_y), xytext=(5, 0), textcoords="offset points",
                                  ha="left", va="center", fontsize=8, color=style["color"], gid="diverged-count")
        left.set_ylim(bottom, top)
        log_axis(left, "y")
        left.set_xlabel("training step")
        left.set_ylabel("training loss")
        values = draw_curves(right, norm, logy=True)
        if clip is not None:
            right.axhline(clip, label=f"clipping threshold {clip:g}", gid="threshold-0", **reference_style(1))
        right.set_ylim(*log_limits(values, (clip,) if clip is not None else ()))
        log_axis(right, "y")
        right.set_xlabel("training step")
        right.set_ylabel("gradient norm before clipping")
        zeros = _zeros_at_the_edge(left, loss) | _zeros_at_the_edge(right, norm)
        if zeros:
            left.plot([], [], linestyle="none", marker=Path([(x, -y - 0.5) for x, y in ARROW], closed=True),
                      markersize=7, markeredgewidth=0, color=REFERENCE,
                      label="mean exactly 0: off the log axis")
        handles, labels = [], []
        for ax in (left, right):
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        legend(fig, left, (handles, labels))
        return to_svg(fig)


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
                    markersize=14, markeredgewidth=0, color=series_style(slot_of(s, i))["color"], clip_on=False,
                    gid=f"zero-{i}")
    return any_zero


