"""The dynamical-systems section's figure: what training did to the plain tanh RNN's gradient, seed
by seed, and the cue's influence against the output's sensitivity to it."""
from __future__ import annotations

import math

import numpy as np

from .parts import chart_key, legend, log_axis, positive
from .style import FULL_WIDTH_IN, fit_axis_labels, markevery, new_figure, reference_style, series_style, to_svg

# The three groups (report/dynamics.py decides who is in which), in the order of the legend.
GROUPS = ("solved", "stores", "ignores")
GROUP_LABELS = {"solved": "solved (display grouping)", "stores": "stores the cue, not solved",
                "ignores": "ignores the cue"}
INIT_COLOR = "#bbbbbb"


def dynamics_figure(seeds: list[dict], threshold: float, height: float = FULL_WIDTH_IN / 2.5) -> str:
    """(a) ‖∂L/∂h_k‖/‖∂L/∂h_T‖ against the distance T − k: the band of every seed at initialisation,
    one line per seed after training, styled by its group; (b) per trained seed, log10 of the output's
    sensitivity to the cue relative to the last input (x) against the cue's influence (y).
    seeds: dicts with group, init, trained (relative curves), sens_log10, influence."""
    key = chart_key("dynamics", [(s["seed"], s["group"], s["trained"][-1]) for s in seeds])
    with new_figure(key, height=height, ncols=2) as (fig, (curves, scatter)):
        init = np.array([positive(s["init"]) for s in seeds])
        x = np.arange(init.shape[1])
        curves.fill_between(x, np.nanmin(init, axis=0), np.nanmax(init, axis=0), color=INIT_COLOR, linewidth=0,
                            label="at initialisation (all seeds)")
        handles: dict[str, object] = {}
        for i, group in enumerate(GROUPS):
            style = series_style(i)
            members = [s for s in seeds if s["group"] == group]
            for j, s in enumerate(members):
                y = positive(s["trained"])
                (line,) = curves.plot(np.arange(len(y)), y, markevery=markevery(len(y), j, len(members)),
                                      label=GROUP_LABELS[group], **style)
                handles.setdefault(group, line)
                if math.isfinite(s["sens_log10"]) and math.isfinite(s["influence"]):
                    scatter.plot([s["sens_log10"]], [s["influence"]], linestyle="none", marker=style["marker"],
                                 color=style["color"], markersize=6, markeredgecolor="#000000", markeredgewidth=0.5)
        curves.axhline(1.0, **reference_style(0))
        curves.set_xlabel("distance back, T − k (steps)")
        curves.set_ylabel("‖∂L/∂h_k‖ / ‖∂L/∂h_T‖")
        curves.set_title("(a) the gradient, before and after training", loc="left")
        log_axis(curves)
        scatter.axvline(0.0, **reference_style(1))
        scatter.axhline(threshold, **reference_style(0))
        scatter.set_ylim(-0.05, 1.05)
        scatter.set_xlabel("log₁₀ (sensitivity to the cue ÷ to the last input)")
        scatter.set_ylabel("answers that change with the cue")
        scatter.set_title("(b) influence is not gradient size", loc="left")
        band = curves.get_legend_handles_labels()
        entries = ([band[0][0]] + [handles[g] for g in GROUPS if g in handles],
                   [band[1][0]] + [GROUP_LABELS[g] for g in GROUPS if g in handles])
        legend(fig, curves, entries)
        fit_axis_labels(fig)
        return to_svg(fig)
