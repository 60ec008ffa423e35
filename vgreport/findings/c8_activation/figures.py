"""C8's own figures: the derivative's range per activation, and accuracy against decay rate."""
from __future__ import annotations

import math

from ...figures.labels import label_points
from ...figures.parts import chart_key, legend, name_lines, room_on_the_right, set_apart
from ...figures.style import HEIGHT_IN, fit_axis_labels, new_figure, reference_style, series_style, slot_of, to_svg


def derivative_ranges(rows: list[dict]) -> str:
    """Per activation: 10th-90th percentile bar of φ′(a), median tick, mean marker; sigmoid cap 1/4."""
    with new_figure(chart_key("derivs", [r["label"] for r in rows]), height=0.45 * max(len(rows), 2) + 1.1) as (fig, ax):
        for i, r in enumerate(rows):
            style = series_style(slot_of(r, i))
            ax.plot([r["p10"], r["p90"]], [i, i], color=style["color"], linewidth=7, solid_capstyle="butt", alpha=0.55)
            ax.plot([r["mean"]], [i], marker=style["marker"], color=style["color"], markeredgecolor="#000000",
                    linestyle="none", markersize=6, zorder=3)
            if r.get("p50") is not None:  # over the mean's marker, twice as tall: in view beside the mean
                ax.plot([r["p50"]], [i], marker="|", markersize=16, markeredgewidth=1.6, color="#000000",
                        linestyle="none", zorder=4, gid=f"median-{i}")
        ax.axvline(0.25, label="1/4: the largest possible sigmoid′", gid="bound-0", **reference_style(0))
        ax.axvline(1.0, label="1: the largest tanh′, ReLU′, identity′", gid="bound-1", **reference_style(1))
        ax.plot([], [], color="#999999", linewidth=7, alpha=0.55, label="10th–90th percentile")
        ax.plot([], [], marker="|", markersize=12, markeredgewidth=1.6, color="#000000", linestyle="none",
                label="median")
        ax.plot([], [], marker="o", color="#999999", markeredgecolor="#000000", linestyle="none", label="mean")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r["label"] for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(-0.03, 1.05)
        ax.set_xlabel("φ′(a_j) along the probe trajectories at initialisation")
        legend(fig, ax)
        name_lines(fig, ax, [("bound-0", "1/4", 0.25, None), ("bound-1", "1", 1.0, None)],
                    [(r[k], i) for i, r in enumerate(rows) for k in ("mean", "p50", "p10", "p90")
                     if r.get(k) is not None])
        return to_svg(fig)


def rate_vs_accuracy(rows: list[dict], chance: float | None, length: int | None = None) -> str:
    """Final accuracy (with interval) against the decay rate, one point per configuration, each
    named beside its marker (with a leader line where points crowd, as in the hero figure): two
    activations near rate 0 and accuracy 1 sit a marker's width apart, and only their names tell
    them apart in grayscale. The reference lines are named where they touch no other line or point.
    A row's `longer` ({length, acc, acc_lo, acc_hi} at other lengths) is drawn as a hollow marker of
    the same style straight above or below it (the rate at initialisation hardly moves with length),
    joined to it by a thin line: where a model's accuracy went as the dependency grew."""
    usable = [r for r in rows if math.isfinite(r.get("rate", math.nan)) and math.isfinite(r.get("acc", math.nan))]
    with new_figure(chart_key("rate_acc", [r["label"] for r in rows]), height=HEIGHT_IN + 0.3) as (fig, ax):
        for i, r in enumerate(usable):
            style = series_style(slot_of(r, i))
            lo = r["acc_lo"] if math.isfinite(r["acc_lo"]) else r["acc"]
            hi = r["acc_hi"] if math.isfinite(r["acc_hi"]) else r["acc"]
            ax.errorbar([r["rate"]], [r["acc"]], yerr=[[max(r["acc"] - lo, 0)], [max(hi - r["acc"], 0)]],
                        marker=style["marker"], color=style["color"], capsize=3, linestyle="none", label=r["label"],
                        markersize=7, markeredgecolor="#000000", markeredgewidth=0.6, gid=f"point-{i}")
        if chance is not None:
            ax.axhline(chance, label="chance", gid="chance-0", zorder=1, **reference_style(0))
        # behind the markers: the identity's rate is exactly 0, so its marker sits on this line
        ax.axvline(0, label="rate 0: no decay", gid="bound-0", zorder=1, **reference_style(1))
        longer = sorted({m["length"] for r in usable for m in r.get("longer", [])})
        if longer:  # the key: which marker is which length (the names say which activation); one entry, so
            # that no two entries of the key share a marker
            ax.plot([], [], marker="o", markerfacecolor="#ffffff", markeredgecolor="#555555", linestyle="none",
                    label="hollow: length " + ", ".join(map(str, longer)) + f" (filled: {length})")
        ax.set_ylim(0, 1.05)
        rates = [r["rate"] for r in usable] + [0.0]
        span = max(max(rates) - min(rates), 0.2)
        ax.set_xlim(min(rates) - 0.06 * span, max(rates) + 0.06 * span)
        ax.set_xlabel("per-step rate of log‖∂L/∂h_k‖ at initialisation (0 = no decay)")
        ax.set_ylabel("final recall accuracy")
        legend(fig, ax)
        # As in hero: the names are placed in pixels, so the layout is made final first.
        fit_axis_labels(fig)
        for _ in range(3):
            if not (usable and room_on_the_right(fig, ax, max(usable, key=lambda r: r["rate"]), most=0.25)):
                break
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
        drawn = set_apart(fig, ax, usable, [c for c in ax.containers])
        hollow = []
        for i, r in enumerate(drawn):  # at the x where its filled marker was drawn
            style = series_style(slot_of(r, i))
            for m in r.get("longer", []):
                if not math.isfinite(m["acc"]):
                    continue
                lo = m["acc_lo"] if math.isfinite(m["acc_lo"]) else m["acc"]
                hi = m["acc_hi"] if math.isfinite(m["acc_hi"]) else m["acc"]
                ax.plot([r["rate"], r["rate"]], [r["acc"], m["acc"]], color=style["color"], linewidth=0.8, zorder=1)
                ax.errorbar([r["rate"]], [m["acc"]], yerr=[[max(m["acc"] - lo, 0)], [max(hi - m["acc"], 0)]],
                            marker=style["marker"], color=style["color"], markerfacecolor="#ffffff", capsize=3,
                            linestyle="none", markersize=7, markeredgewidth=1.2, zorder=1.5,  # under the filled one
                            gid=f"point-{i}-length-{m['length']}")
                hollow.append({"rate": r["rate"], "acc": m["acc"], "acc_lo": lo, "acc_hi": hi})
        label_points(fig, ax, drawn, [(0.0, None, "rate 0")] + ([(None, chance, "chance")] if chance is not None
                                                                 else []), unlabelled=hollow)
        return to_svg(fig)


