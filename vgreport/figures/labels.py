"""Labels placed beside the points of a scatter plot (the hero figure): each one near its own point,
over no other label, marker or whisker, and joined to its point by a leader line when it has to
sit away from it.

Every label has a fixed list of candidate spots (beside its point, then rings further out). A
spot's cost is what the label would cover there (see COVERS) plus, for a far spot, its distance
and what its leader runs through. The labels are placed one at a time, each at its first free
spot (else its cheapest), then each is moved to a cheaper spot given all the others until none
moves; since the result depends on the order, a few fixed orders are tried and the cheapest
layout kept. Deterministic. Everything is in pixels, so the figure's layout must be final.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure

from .style import REFERENCE

__all__ = ["label_points", "point_boxes"]

# A point's candidate spots: offset in points, horizontal and vertical alignment. Beside the point
# first; then over or under it, ending just past it; then rings further out (with a leader line).
NEAR_SPOTS = [((7, 0), "left", "center"), ((-7, 0), "right", "center"), ((5, 6), "left", "bottom"),
              ((5, -6), "left", "top"), ((-5, 6), "right", "bottom"), ((-5, -6), "right", "top"),
              ((0, 9), "center", "bottom"), ((0, -9), "center", "top"),
              ((4, 8), "right", "bottom"), ((-4, 8), "left", "bottom"), ((4, -8), "right", "top"),
              ((-4, -8), "left", "top")]
FAR_SPOTS = [((round(d * math.cos(a), 1), round(d * math.sin(a), 1)),
              "left" if math.cos(a) > 0.3 else "right" if math.cos(a) < -0.3 else "center",
              "bottom" if math.sin(a) > 0.3 else "top" if math.sin(a) < -0.3 else "center")
             for d in (20, 32, 46, 62) for a in np.radians([30, 150, 210, 330, 90, 270, 0, 180, 60, 120, 240, 300])]
LEADER_FROM = 12  # pt: a label set further from its point than this gets a leader line
# What a label may cover, as a cost per pt² of overlap. Labels, markers and whiskers must stay
# readable, so covering one outweighs every softer cost; a dotted reference line under a label is
# only untidy; another point's surroundings are where that point's own label belongs.
COVERS = {"label": 100.0, "mark": 100.0, "line": 5.0, "near": 0.3}
LEADER_THROUGH = 100.0  # a leader through a label or another point's marker or whisker
LEADER_ACROSS = 200.0   # two leaders crossing
LEADER_UNDER = 500.0    # an earlier leader running under a label
LEADER_ALONG = 20.0     # per sample of a leader hidden along a reference line
AMBIGUOUS = 300.0       # a label beside its point, but as near another point: whose is it?
PER_PT_AWAY = 0.5       # a far label costs a little per point of distance
PAD = 1.0               # pt kept clear around a label: the PDF's text is not exactly Agg's
ORDERS = 6              # orders tried: as given, most crowded first, longest first, and seeded shuffles


def _overlap(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _crosses(a, b, c, d) -> bool:
    """Whether segments ab and cd intersect (strictly)."""
    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0


def _through(start, end, box) -> float:
    """The fraction of segment start-end inside the box (Liang-Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    for p, q in ((start[0] - end[0], start[0] - box[0]), (end[0] - start[0], box[2] - start[0]),
                 (start[1] - end[1], start[1] - box[1]), (end[1] - start[1], box[3] - start[1])):
        if p == 0:
            if q < 0:
                return 0.0
        elif p < 0:
            t0 = max(t0, q / p)
        else:
            t1 = min(t1, q / p)
    return max(0.0, t1 - t0)


def _inside(point, box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _distance(box, point) -> float:
    """From a point to the nearest part of a box (0 inside it)."""
    return math.hypot(max(box[0] - point[0], 0.0, point[0] - box[2]), max(box[1] - point[1], 0.0, point[1] - box[3]))


def point_boxes(ax, points: list[dict], pt: float = 1.0) -> list[list[tuple]]:
    """Per point, the boxes (x0, y0, x1, y1 in pixels, in the axes' current layout) its 7-pt marker
    and its whisker cover: what no other label may cover."""
    to_px = ax.transData.transform
    out = []
    for p in points:
        x, y = to_px((p["rate"], p["acc"]))
        boxes = [(x - 5 * pt, y - 5 * pt, x + 5 * pt, y + 5 * pt)]  # the marker with its edge, and a hair
        lo, hi = p.get("acc_lo", math.nan), p.get("acc_hi", math.nan)
        if math.isfinite(lo) and math.isfinite(hi):
            y0, y1 = to_px((p["rate"], lo))[1], to_px((p["rate"], hi))[1]
            boxes.append((x - 3 * pt, min(y0, y1) - pt, x + 3 * pt, max(y0, y1) + pt))  # whisker and caps
        out.append(boxes)
    return out


def label_points(fig: Figure, ax, points: list[dict], lines: list[tuple], unlabelled: list[dict] | None = None) -> None:
    """Label each point (dicts with label, rate, acc, acc_lo, acc_hi) and the reference lines
    (x, y, text: a vertical line at x or a horizontal one at y), as the module says. A line's label
    over another line is untidy and ambiguous: it goes to its line's middle when both ends are taken.
    `unlabelled`: more markers (same keys) that carry no label of their own but that no label may cover."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    frame = ax.get_window_extent(renderer)
    to_px = ax.transData.transform
    pt = fig.dpi / 72  # one point in pixels
    centres = [tuple(to_px((p["rate"], p["acc"]))) for p in points]
    marks = [(box, i) for i, boxes in enumerate(point_boxes(ax, points, pt)) for box in boxes]
    marks += [(box, -2) for boxes in point_boxes(ax, unlabelled or [], pt) for box in boxes]  # owned by no label
    nears = [((x - 16 * pt, y - 12 * pt, x + 16 * pt, y + 12 * pt), i) for i, (x, y) in enumerate(centres)]
    rules = [(to_px((x, 0))[0] - 1.5 * pt, frame.y0, to_px((x, 0))[0] + 1.5 * pt, frame.y1) if x is not None
             else (frame.x0, to_px((0, y))[1] - 1.5 * pt, frame.x1, to_px((0, y))[1] + 1.5 * pt) for x, y, _ in lines]

    # Items: (annotation, owner: the point's index or -1 for a line's label, candidate spots).
    (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
    items = []
    for j, (x, y, text) in enumerate(lines):
        label = ax.annotate(text, (0, 0), xytext=(0, 0), textcoords="offset points", fontsize=8, color=REFERENCE,
                            annotation_clip=False, gid=f"label-line-{j}")
        if x is not None:  # along a vertical line: at its foot, then its head, then its middle, left then right
            spots = [((x, yy), (dx, dy), ha, va) for yy, dy, va in ((y_lo, 3, "bottom"), (y_hi, -3, "top"),
                                                                    ((y_lo + y_hi) / 2, 0, "center"))
                     for dx, ha in ((-4, "right"), (4, "left"))]
        else:  # above or below a horizontal line, at its left end, right end or middle
            spots = [((xx, y), (dx, dy), ha, va) for dy, va in ((2, "bottom"), (-2, "top"))
                     for xx, dx, ha in ((x_lo, 4, "left"), (x_hi, -4, "right"), ((x_lo + x_hi) / 2, 0, "center"))]
        items.append((label, -1, spots))
    for i, p in enumerate(points):
        xy = (p["rate"], p["acc"])
        label = ax.annotate(p["label"], xy, xytext=(0, 0), textcoords="offset points", fontsize=8,
                            annotation_clip=False, gid=f"label-{i}")
        items.append((label, i, [(xy, offset, ha, va) for offset, ha, va in NEAR_SPOTS + FAR_SPOTS]))

    def put(label, spot) -> tuple:
        """Set the label at the spot; its box in pixels."""
        label.xy, (offset, ha, va) = spot[0], spot[1:]
        label.set_position(offset)
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        e = label.get_window_extent(renderer)
        return e.x0, e.y0, e.x1, e.y1

    # Each candidate: (spot, box, padded box, leader or None, cost of what it covers alone).
    candidates = []
    for label, owner, spots in items:
        label.set_in_layout(False)
        mine = []
        for spot in spots:
            box = put(label, spot)
            padded = (box[0] - PAD * pt, box[1] - PAD * pt, box[2] + PAD * pt, box[3] + PAD * pt)
            anchor = tuple(to_px(spot[0]))
            alone = 1e4 * (max(0.0, frame.x0 - box[0]) + max(0.0, box[2] - frame.x1)
                           + max(0.0, frame.y0 - box[1]) + max(0.0, box[3] - frame.y1))
            alone += sum(COVERS["mark"] * _overlap(padded, b) for b, _ in marks)
            alone += sum(COVERS["near"] * _overlap(padded, b) for b, who in nears if who != owner)
            alone += sum(COVERS["line"] * _overlap(padded, b) for b in rules)
            leader = None
            away = math.hypot(*spot[1])
            if owner >= 0 and away > LEADER_FROM:  # drawn from the label's anchor to its point
                leader = (anchor, (anchor[0] + spot[1][0] * pt, anchor[1] + spot[1][1] * pt))
                alone += PER_PT_AWAY * away
                alone += LEADER_THROUGH * sum(_through(*leader, b) > 0 for b, who in marks
                                              if who != owner and not _inside(anchor, b))
                alone += LEADER_ALONG * sum(24 * _through(*leader, b) for b in rules)
            elif owner >= 0 and len(centres) > 1:
                others = min(_distance(box, c) for i, c in enumerate(centres) if i != owner)
                if others < _distance(box, anchor) + 4 * pt:
                    alone += AMBIGUOUS
            mine.append((spot, box, padded, leader, alone))
        candidates.append(mine)

    @lru_cache(maxsize=None)
    def pair(k: int, c: int, j: int, d: int) -> float:
        """What label k at its candidate c costs because of label j at its candidate d."""
        _, _, padded, leader, _ = candidates[k][c]
        _, other, _, other_leader, _ = candidates[j][d]
        total = COVERS["label"] * _overlap(padded, other)
        if other_leader and _through(*other_leader, padded) > 0:
            total += LEADER_UNDER
        if leader:
            total += LEADER_THROUGH * (_through(*leader, other) > 0)
            if other_leader and _crosses(*leader, *other_leader):
                total += LEADER_ACROSS
        return total

    def price(k: int, c: int, placed: dict) -> float:
        return candidates[k][c][4] + sum(pair(k, c, j, d) for j, d in placed.items() if j != k)

    def choose(k: int, placed: dict) -> tuple[float, int]:
        """Label k's first free candidate, or else its cheapest: (cost, index)."""
        best = (math.inf, 0)
        for c in range(len(candidates[k])):
            cost = price(k, c, placed)
            if cost < best[0]:
                best = (cost, c)
            if cost == 0:
                break
        return best

    def layout(order: list[int]) -> tuple[float, dict]:
        """The points' labels in this order, then the lines'; then moves to cheaper spots, a few rounds."""
        keys = [len(lines) + i for i in order] + list(range(len(lines)))
        placed: dict[int, int] = {}
        for k in keys:
            placed[k] = choose(k, placed)[1]
        for _ in range(4):
            moved = False
            for k in keys:
                cost, c = choose(k, placed)
                if cost < price(k, placed[k], placed) - 1e-6:
                    placed[k], moved = c, True
            if not moved:
                break
        return sum(price(k, c, placed) for k, c in placed.items()), placed

    def crowd(i: int) -> int:
        return sum(1 for j, c in enumerate(centres) if j != i and math.dist(c, centres[i]) < 60 * pt)

    given = list(range(len(points)))
    rng = np.random.default_rng(0)
    orders = [given, sorted(given, key=lambda i: (-crowd(i), i)),
              sorted(given, key=lambda i: (-len(str(points[i]["label"])), i))]
    orders += [list(rng.permutation(len(points))) for _ in range(ORDERS - len(orders))]
    _, placed = min((layout(order) for order in orders), key=lambda result: result[0])
    for k, (label, owner, _) in enumerate(items):
        spot, _, _, leader, _ = candidates[k][placed[k]]
        put(label, spot)
        if leader:  # away from its point: a leader line says whose label it is
            ax.annotate("", spot[0], xytext=spot[1], textcoords="offset points", annotation_clip=False,
                        arrowprops={"arrowstyle": "-", "color": REFERENCE, "linewidth": 0.6, "shrinkA": 1,
                                    "shrinkB": 4}, gid=f"leader-{owner}").set_in_layout(False)
