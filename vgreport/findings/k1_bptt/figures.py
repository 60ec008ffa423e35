"""K1's own figure: autograd against the explicit Jacobian product, one panel per activation."""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from ...figures.parts import chart_key, finite, legend, log_axis, positive
from ...figures.style import HEIGHT_IN, markevery, new_figure, reference_style, series_style, slot_of, to_svg


def jacobian_check(series: list[dict]) -> str:
    """One panel per series (shared log y): autograd ratio (line), explicit Jacobian product (hollow
    markers), operator-norm bound (dotted). Side by side, no bound can be taken for another
    series' bound, which in one panel they could (they pile up at 10⁰ and differ only in rhythm)."""
    count = max(len(series), 1)
    with new_figure(chart_key("jacobian", [s["label"] for s in series]), height=HEIGHT_IN + 0.5, ncols=count) as (fig, axes):
        axes = axes if isinstance(axes, list) else [axes]
        values = []
        for i, (s, ax) in enumerate(zip(series, axes)):
            style = series_style(slot_of(s, i))
            lags = np.asarray(s["lags"], float)
            measured = positive(s["measured"])
            values += [finite(measured), finite(positive(s["opnorm"]))]
            ax.plot(lags, measured, color=style["color"], linestyle=style["linestyle"])
            start, every = markevery(len(lags), 0, 1)
            ax.plot(lags[start::every], positive(s["chain"])[start::every], linestyle="none", marker=style["marker"],
                    color=style["color"], markerfacecolor="none")
            ax.plot([], [], color=style["color"], linestyle=style["linestyle"], marker=style["marker"],
                    markerfacecolor="none", label=f"{s['label']}: autograd and explicit product")
            ax.plot(lags, positive(s["opnorm"]), gid=f"bound-{i}", label="bound ‖Π J_j‖₂" if i == 0 else None,
                    **reference_style(0))
            ax.set_title(str(s["label"]), fontsize=8.5)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        data = np.concatenate(values) if values else np.array([])
        for j, ax in enumerate(axes):
            ax.set_yscale("log")
            if data.size:
                ax.set_ylim(max(float(data.min()) / 5, 1e-300), max(float(data.max()) * 5, float(data.min()) * 10))
            log_axis(ax, "y")
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
        legend(fig, axes[0], (handles, labels))
        return to_svg(fig)


