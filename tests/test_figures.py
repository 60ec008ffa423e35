"""Figures: valid, deterministic, vector SVG with the theory and chance lines drawn on them."""
from __future__ import annotations

import functools
import itertools
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from vgreport import figures
from vgreport.figures import charts
from vgreport.figures import style as figure_style
from vgreport.figures import svg as figure_svg
from vgreport.findings.c8_activation.figures import derivative_ranges, rate_vs_accuracy
from vgreport.findings.c9_clipping.figures import exploding
from vgreport.findings.g2_gain.figures import rate_vs_theory
from vgreport.findings.k1_bptt.figures import jacobian_check

import helpers

SVG_NS = "{http://www.w3.org/2000/svg}"
LAGS = np.arange(30.0)


def _series(label, rate, slot=None):
    mean = np.exp(rate * LAGS)
    s = {"label": label, "lags": LAGS, "mean": mean, "lo": mean * 0.8, "hi": mean * 1.2}
    return s if slot is None else {**s, "slot": slot}


def _curve(label, values):
    x = np.arange(1, len(values) + 1) * 25.0
    values = np.asarray(values, float)
    return {"label": label, "x": x, "mean": values, "lo": values - 0.05, "hi": values + 0.05}


# One call of every figure function, with small data of the shape the findings pass.
CASES = {
    "gradient_vs_lag": lambda: figures.gradient_vs_lag(
        [_series("tanh", -0.05, 0), _series("sigmoid", -1.4, 1), _series("relu", -0.3, 3)],
        [{"label": "bound for sigmoid", "rate": math.log(0.25)}, {"label": "bound for tanh", "rate": 0.0}]),
    "score_vs_x": lambda: figures.score_vs_x(
        [{"label": "RNN", "x": [10, 30, 100], "mean": [1.0, 0.5, 0.13], "lo": [1.0, 0.2, 0.1], "hi": [1.0, 0.8, 0.16]}],
        chance=0.125, xlabel="sequence length", ylabel="accuracy", logx=True),
    "curves": lambda: figures.curves([_curve("RNN", [0.12, 0.13, 0.5, 0.9])], chance=0.125, xlabel="step",
                                     ylabel="accuracy", marks=[{"x": 50, "label": "standard budget"}]),
    "gradient_vs_lag_cut": lambda: figures.gradient_vs_lag(
        [_series("tanh", -0.05, 0), _series("sigmoid", -0.4, 1)],
        [{"label": "bound that grows", "rate": 0.3, "slot": 0}, {"label": "bound that falls", "rate": -2.0}]),
    "curves_log": lambda: figures.curves(  # a zero (a gap), a tiny value, a band reaching down to ~0
        [{**_curve("loss", [1.0, 0.1, 0.0, 1e-20, 0.01]), "lo": np.array([0.5, 1e-9, 0.0, 1e-25, 1e-30])}],
        chance=2.08, xlabel="step", ylabel="loss", logy=True),
    "exploding": lambda: exploding(
        [_curve("clipped", [400.0, 5.0, 1e-6, 0.0])], [_curve("clipped", [1e4, 500.0, 1e-14, 60.0, 0.0])],
        [{"label": "no clipping", "steps": [2, 2, 3], "slot": 1}], chance_loss=math.log(8), clip=1.0),
    "bars": lambda: figures.bars(
        [{"label": "tanh\ndefault init", "mean": 0.4, "lo": 0.1, "hi": 0.7, "per_seed": [0.14, 0.24, 0.83]},
         {"label": "tanh\northogonal init", "mean": 0.76, "lo": math.nan, "hi": math.nan, "per_seed": [0.76]}],
        chance=0.125, ylabel="accuracy"),
    "jacobian_check": lambda: jacobian_check(
        [{"label": "tanh", "lags": LAGS, "measured": np.exp(-0.05 * LAGS), "chain": np.exp(-0.05 * LAGS),
          "opnorm": np.exp(-0.01 * LAGS)},
         {"label": "relu", "lags": LAGS, "measured": np.where(LAGS < 20, np.exp(-0.3 * LAGS), 0.0),
          "chain": np.where(LAGS < 20, np.exp(-0.3 * LAGS), 0.0), "opnorm": np.exp(-0.1 * LAGS)}]),
    "derivative_ranges": lambda: derivative_ranges(
        [{"label": "sigmoid", "p10": 0.21, "p50": 0.24, "p90": 0.25, "mean": 0.235},
         {"label": "relu", "p10": 0.0, "p50": None, "p90": 1.0, "mean": 0.5}]),
    "rate_vs_accuracy": lambda: rate_vs_accuracy(
        [{"label": "tanh", "rate": -0.04, "acc": 0.76, "acc_lo": 0.23, "acc_hi": 1.0},
         {"label": "sigmoid", "rate": -1.44, "acc": 0.14, "acc_lo": math.nan, "acc_hi": math.nan}], chance=0.125),
    "rate_vs_theory": lambda: rate_vs_theory(
        [{"label": "identity", "x": np.log([0.5, 1.0, 1.5]), "mean": np.log([0.5, 1.0, 1.5]),
          "lo": np.log([0.5, 1.0, 1.5]), "hi": np.log([0.5, 1.0, 1.5])}]),
    "hero": lambda: figures.hero(HERO_POINTS, chance=0.125),
}
# Points of the shape the findings feed the hero figure: clustered near chance on purpose.
HERO_POINTS = [
    {"label": "RNN, default init", "rate": -0.50, "acc": 0.13, "acc_lo": 0.10, "acc_hi": 0.16, "family": "RNN"},
    {"label": "RNN, orthogonal init", "rate": -0.046, "acc": 0.90, "acc_lo": 0.83, "acc_hi": 0.96, "family": "RNN"},
    {"label": "RNN, sigmoid", "rate": -1.45, "acc": 0.125, "acc_lo": 0.11, "acc_hi": 0.14, "family": "RNN"},
    {"label": "LSTM, default init", "rate": -0.44, "acc": 0.12, "acc_lo": 0.09, "acc_hi": 0.15, "family": "LSTM"},
    {"label": "LSTM, chrono init", "rate": -0.021, "acc": 1.0, "acc_lo": 0.97, "acc_hi": 1.0, "family": "LSTM"},
    {"label": "GRU, default init", "rate": -0.42, "acc": 0.12, "acc_lo": 0.09, "acc_hi": 0.15, "family": "GRU"},
    {"label": "Transformer", "rate": 0.001, "acc": 1.0, "acc_lo": math.nan, "acc_hi": math.nan,
     "family": "transformer"},
    {"label": "never probed", "rate": math.nan, "acc": 0.5, "acc_lo": 0.4, "acc_hi": 0.6, "family": "RNN"},
]
DIAGRAM_CASES = {name: draw for name, draw in figures.DIAGRAMS.items()}
DIAGRAM_CASES.update({f"{name}_narrow": functools.partial(draw, narrow=True) for name, draw in figures.DIAGRAMS.items()})
# Text each figure must carry as <text> (its series, references and axis labels).
TEXTS = {
    "gradient_vs_lag": ["tanh", "sigmoid", "relu", "bound for sigmoid", "distance T − k (steps back in time)"],
    "gradient_vs_lag_cut": ["bound that grows", "bound that falls", "leaves the plot"],
    "score_vs_x": ["RNN", "chance", "sequence length", "accuracy"],
    "curves": ["RNN", "chance", "standard budget", "step"],
    "curves_log": ["loss", "chance", "10⁻"],
    "exploding": ["clipped", "no clipping: loss NaN/inf", "clipping threshold 1", "training loss"],
    "bars": ["tanh", "default init", "one seed", "chance"],
    "jacobian_check": ["tanh: autograd and explicit product", "relu: autograd and explicit product", "bound ‖Π J"],
    "derivative_ranges": ["sigmoid", "relu", "1/4: the largest possible sigmoid′"],
    "rate_vs_accuracy": ["tanh", "sigmoid", "chance", "rate 0: no decay"],
    "rate_vs_theory": ["identity", "bound log(γ·σmax)", "measured rate per step"],
    "hero": [p["label"] for p in HERO_POINTS[:-1]] + ["chance", "r = 0: no decay", "LSTM", "GRU"],
    "unrolled_rnn": ["diag(φ′(a", "W", "L", "backward (dashed)"],
    "lstm_cell": ["c", "forget f", "gradient: ∂c", "tanh"],
    "unrolled_rnn_narrow": ["diag(φ′(a", "W", "L", "backward (dashed)", "forward (grey)"],
    "lstm_cell_narrow": ["c", "forget f", "gradient: ∂c", "tanh", "candidate update z"],
}
# Which reference line each figure must carry (as an SVG group id set by the figure code).
REFERENCE_LINES = {"gradient_vs_lag": "bound", "score_vs_x": "chance", "curves": "chance", "exploding": "chance",
                   "bars": "chance", "jacobian_check": "bound", "derivative_ranges": "bound",
                   "rate_vs_accuracy": "chance", "rate_vs_theory": "bound", "gradient_vs_lag_cut": "bound", "curves_log": "chance",
                   "hero": "chance"}


@pytest.fixture(scope="module")
def rendered():
    return {name: make() for name, make in {**CASES, **DIAGRAM_CASES}.items()}


def _ids(svg: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', svg)


ALL = sorted(CASES) + sorted(DIAGRAM_CASES)


@pytest.mark.parametrize("name", ALL)
def test_figure_is_valid_inline_svg(rendered, name):
    """Each figure is one well-formed <svg> element with no XML prolog, ready to inline in HTML."""
    svg = rendered[name]
    assert svg.startswith("<svg")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"


@pytest.mark.parametrize("name", ALL)
def test_figure_is_deterministic(rendered, name):
    """Drawing the same data twice gives byte-identical SVG (salted ids, no date)."""
    assert {**CASES, **DIAGRAM_CASES}[name]() == rendered[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_draws_its_reference_line(rendered, name):
    """Gradient plots carry a bound line and score plots a chance line."""
    kind = REFERENCE_LINES[name]
    assert any(re.search(rf"-{kind}-\d+$", i) for i in _ids(rendered[name])), kind


@pytest.mark.parametrize("name", ALL)
def test_figure_is_vector_and_small(rendered, name):
    """No raster images, no metadata date, and under 40 kB, so the HTML stays within its size budget."""
    svg = rendered[name]
    assert "<image" not in svg and "<metadata" not in svg and "dc:date" not in svg
    assert len(svg.encode()) < 40_000


@pytest.mark.parametrize("name", ALL)
def test_figure_is_printed_at_text_width(rendered, name):
    """Every figure is exactly 16 cm wide, so its 8–8.5 pt text prints at that size (a narrow layout,
    for phones, NARROW_WIDTH_IN)."""
    width = ET.fromstring(rendered[name]).get("width")
    expected = figure_style.NARROW_WIDTH_IN * 72 if name.endswith("_narrow") else 16 / 2.54 * 72
    assert width.endswith("pt") and float(width[:-2]) == pytest.approx(expected, abs=0.5)


def _size(element) -> float | None:
    """An element's font size in SVG user units (points here), from its attribute or style."""
    size = element.get("font-size")
    if size is None:
        match = re.search(r"font-size:\s*([\d.]+)", element.get("style", ""))
        size = match.group(1) if match else None
    return float(size.removesuffix("px").removesuffix("pt")) if size is not None else None


def _texts(svg: str) -> list[tuple[str, float]]:
    """(text, font size) of every <text> and <tspan> that holds characters; a tspan inherits its text's size."""
    out = []
    for text in ET.fromstring(svg).iter(f"{SVG_NS}text"):
        base = _size(text)
        spans = list(text.iter(f"{SVG_NS}tspan"))
        if spans:  # the label as read, scripts included ('σmax'), and each piece at its own size
            out.append(("".join(text.itertext()), base))
        elif text.text and text.text.strip():
            out.append((text.text, base))
        for span in spans:
            if span.text and span.text.strip():
                out.append((span.text, _size(span) or base))
    return out


@pytest.mark.parametrize("name", ALL)
def test_figure_text_is_text_of_at_least_8_points(rendered, name):
    """Labels are <text> (searchable, selectable), none smaller than 8 pt: exponents and subscripts included."""
    svg = rendered[name]
    root = ET.fromstring(svg)
    assert float(root.get("width")[:-2]) == pytest.approx(float(root.get("viewBox").split()[2]), abs=0.01)  # 1 unit = 1 pt
    texts = _texts(svg)
    sizes = [size for _, size in texts]
    assert None not in sizes and min(sizes) >= 8, [t for t in texts if t[1] is None or t[1] < 8]
    assert "$" not in "".join(t for t, _ in texts)  # no mathtext source leaked in
    assert "glyph" not in svg.lower()  # no glyph outlines: the text is text


@pytest.mark.parametrize("name", ALL)
def test_figure_shows_its_labels_as_text(rendered, name):
    """Every series, reference line and axis label of the figure is present as text."""
    joined = " ".join(t for t, _ in _texts(rendered[name]))
    for label in TEXTS[name]:
        assert label in joined, label


@pytest.mark.parametrize("name", ALL)
def test_coordinates_have_at_most_two_decimals(rendered, name):
    """No coordinate has more than 2 decimals (1/100 pt); scale factors and text content are left alone."""
    for value in re.findall(r'\s[\w:-]+="([^"]*)"', rendered[name]):
        assert not re.search(r"\d\.\d{3,}", re.sub(r"(scale|matrix)\([^)]*\)", "", value)), value


def test_rounding_keeps_scale_factors():
    """Rounding touches positions, never a scale factor (0.115 rounded to 0.11 would shrink glyphs by 4%)."""
    svg = figure_svg.tidy_svg('<svg><use transform="translate(12.3456 7.891) scale(0.114961 -0.114961)"/></svg>')
    assert 'transform="translate(12.35 7.89) scale(0.114961 -0.114961)"' in svg


def test_log_tick_labels_are_full_size_unicode_powers():
    """Log-axis labels are plain text: 10⁻⁵, 2×10⁻⁵, 10⁰, and nothing for values that are not positive."""
    assert figures.power_text(1e-5) == "10⁻⁵"
    assert figures.power_text(2e-5) == "2×10⁻⁵"
    assert figures.power_text(1.0) == "10⁰" and figures.power_text(1e12) == "10¹²"
    assert figures.power_text(0.0) == "" and figures.power_text(math.nan) == ""
    svg = CASES["gradient_vs_lag"]()
    assert "10⁻" in svg and "mathdefault" not in svg


def _clip_rects(svg: str) -> dict[str, tuple[float, float, float, float]]:
    root = ET.fromstring(svg)
    rects = {}
    for clip in root.iter(f"{SVG_NS}clipPath"):
        r = clip.find(f"{SVG_NS}rect")
        x, y, w, h = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        rects[clip.get("id")] = (x, y, x + w, y + h)
    return rects


def _stroked_lines(svg: str):
    """(group id, vertices, clip rectangle) of every unfilled, clipped path: the plotted lines."""
    rects = _clip_rects(svg)
    root = ET.fromstring(svg)
    for group in root.iter(f"{SVG_NS}g"):
        for path in group.findall(f"{SVG_NS}path"):
            clip = re.fullmatch(r"url\(#(.+)\)", path.get("clip-path", ""))
            if clip is None or "fill: none" not in path.get("style", ""):
                continue
            yield group.get("id", ""), _vertices(path.get("d")), rects[clip.group(1)]


def _vertices(d: str) -> list[tuple[float, float]]:
    """The points of path data made of M/m/L/l/z (absolute or relative, implicit repeats)."""
    points, x, y, start, command = [], 0.0, 0.0, (0.0, 0.0), "M"
    tokens = re.findall(r"[MmLlz]|-?\d+(?:\.\d+)?", d)
    i = 0
    while i < len(tokens):
        if tokens[i] in "MmLlz":
            command = tokens[i]
            i += 1
            if command == "z":
                x, y = start
                continue
        dx, dy = float(tokens[i]), float(tokens[i + 1])
        x, y = (x + dx, y + dy) if command.islower() else (dx, dy)
        if command in "Mm":
            start = (x, y)
            command = "l" if command == "m" else "L"
        points.append((x, y))
        i += 2
    return points


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_line_lies_inside_its_axes(rendered, name):
    """Every plotted line, bounds included, has all its vertices inside its axes: none runs off and gets cut silently."""
    checked = 0
    for gid, vertices, (x0, y0, x1, y1) in _stroked_lines(rendered[name]):
        for x, y in vertices:
            assert x0 - 0.5 <= x <= x1 + 0.5 and y0 - 0.5 <= y <= y1 + 0.5, (gid, x, y, (x0, y0, x1, y1))
        checked += 1
    assert checked


def test_a_bound_that_leaves_the_axes_is_cut_at_the_edge_and_marked():
    """A bound beyond the data's range ends exactly at the axes' edge, where an arrow marks it; the legend says so."""
    svg = CASES["gradient_vs_lag_cut"]()
    lines = {gid.split("-", 1)[1]: (v, r) for gid, v, r in _stroked_lines(svg) if re.search(r"-bound-\d+$", gid)}
    (grows, (_, y0, _, y1)), (falls, _) = lines["bound-0"], lines["bound-1"]
    assert min(y for _, y in grows) == pytest.approx(y0, abs=0.02)  # reaches the top edge, not beyond
    assert max(y for _, y in falls) == pytest.approx(y1, abs=0.02)  # reaches the bottom edge
    assert len(re.findall(r'id="[^"]*edge-bound-\d+"', svg)) == 2
    assert "a bound leaves the plot" in svg  # the legend entry (beside the plot, broken onto two lines)


def test_compact_path_data_keeps_every_point():
    """Relative path data with implicit repeats decodes to the same points, to the hundredth of a point."""
    d = "M 10 20 L 12.5 21 L 15.25 22 M 40 40 L 41 39.5 z M 1.11 2.22 L 3 4"
    assert np.allclose(_vertices(figure_svg._compact_path(d)), _vertices(d), rtol=0, atol=1e-9)
    curve = "M " + " L ".join(f"{40 + 4.17 * i:.2f} {200 - 3.3 * i ** 0.5:.2f}" for i in range(50))
    compact = figure_svg._compact_path(curve)
    assert len(compact) < 0.7 * len(curve)
    assert np.allclose(_vertices(compact), _vertices(curve), rtol=0, atol=1e-9)


def test_cutting_a_line_at_the_limits_is_exact_in_log_space():
    """_inside keeps the part of an exponential between the limits and reports where it crosses them."""
    x = np.array([0.0, 10.0])
    xs, ys, edges = charts._inside(x, np.exp(0.5 * x), 1e-3, 10.0, log=True)
    assert xs[0] == 0 and ys[0] == pytest.approx(1.0)
    assert xs[-1] == pytest.approx(math.log(10) / 0.5) and ys[-1] == pytest.approx(10.0)
    assert [(round(e[0], 6), e[2]) for e in edges] == [(round(math.log(10) / 0.5, 6), "top")]
    xs, ys, edges = charts._inside(x, np.exp(3.0 * x), 1e-3, 10.0, log=False)  # straight in linear space
    assert xs[-1] == pytest.approx(10 * 9 / (math.exp(30) - 1)) and ys[-1] == pytest.approx(10.0)
    assert [e[2] for e in edges] == ["top"]
    xs, _, edges = charts._inside(x, np.full(2, 100.0), 1e-3, 10.0, log=True)
    assert len(xs) == 0 and edges == []  # wholly above: nothing drawn


def _dash(pattern) -> str:
    """A dash pattern (offset, sequence) in one canonical spelling: '0|1,1.5'; solid is '0|'."""
    offset, sequence = pattern
    return f"{float(offset):g}|" + ",".join(f"{float(v):g}" for v in (sequence or ()))


def _drawn(monkeypatch, make):
    """The matplotlib figure that `make` draws (caught on its way to SVG)."""
    return helpers.drawn(make)


def _legend_styles(monkeypatch, make) -> list[tuple]:
    """(dash pattern, marker, label) of every legend entry of the figure `make` draws."""
    from matplotlib.container import ErrorbarContainer

    fig = _drawn(monkeypatch, make)
    styles = []
    entries = {}
    for ax in fig.axes:  # the artists behind the legend entries (fig.legend is made from these)
        entries.update(zip(*reversed(ax.get_legend_handles_labels())))
    assert entries, "the figure has no legend entries"
    for text, handle in entries.items():
        if isinstance(handle, ErrorbarContainer):
            handle = handle[0]
        if hasattr(handle, "get_marker"):
            solid_band = handle.get_linewidth() >= 4  # a range drawn as a thick bar, not a line
            styles.append((_dash(handle._unscaled_dash_pattern) if handle.get_linestyle() != "None"
                           and not solid_band else "none", str(handle.get_marker()), text))
    return styles


@pytest.mark.parametrize("name", sorted(CASES))
def test_series_differ_in_grayscale_and_references_never_look_like_a_model(monkeypatch, name):
    """In every legend each entry differs from the others by dash pattern or marker (colour aside), and a
    dotted pattern belongs to reference lines only: they carry no marker, models always do. Within one
    axes, dotted reference lines differ by their rhythm alone (and colour, lost in grayscale): of two or
    more, all but one must be named at the line itself."""
    styles = _legend_styles(monkeypatch, CASES[name])
    pairs = [(dash, marker) for dash, marker, _ in styles]
    assert len(pairs) == len(set(pairs)), styles
    dotted = {_dash(d) for d in figures.REFERENCE_DOTS}
    for dash, marker, label in styles:
        if dash in dotted:
            assert marker == "None", label
        elif dash != "none" and marker == "None":
            pytest.fail(f"{label!r}: a line with neither a marker nor a reference pattern")
    for ax in _drawn(monkeypatch, CASES[name]).axes:
        references = [line.get_gid() for line in ax.lines if len(line.get_xdata()) > 1
                      and line.get_linestyle() != "None" and _dash(line._unscaled_dash_pattern) in dotted]
        named = {text.get_gid() for text in ax.texts}
        unnamed = [gid for gid in references if gid is None or f"name-{gid}" not in named]
        # the hero figure names its lines with its point labels (label-line-j)
        unnamed = unnamed[len([g for g in named if g and g.startswith("label-line-")]):]
        assert len(references) < 2 or len(unnamed) <= 1, (references, unnamed)


def test_model_and_reference_styles_never_share_a_pattern():
    """The model dash patterns and the reference dot rhythms are disjoint, and no model is dotted."""
    models = {str(figure_style.series_style(i)["linestyle"]) for i in range(len(figures.PALETTE))}
    references = {str(d) for d in figures.REFERENCE_DOTS}
    assert len(models) == len(figures.PALETTE) and not models & references
    assert ":" not in models


def _text_boxes(svg: str) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Approximate boxes of the point and line labels of a hero SVG, from DejaVu Sans metrics."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure = TextToPath()
    boxes = []
    root = ET.fromstring(svg)
    for group in root.iter(f"{SVG_NS}g"):
        if not re.search(r"-label-(line-)?\d+$", group.get("id", "")):
            continue
        text = group.find(f".//{SVG_NS}text")
        size = _size(text)
        label = "".join(text.itertext())  # scripts are <tspan>s at the label's size: measure them as text
        width = measure.get_text_width_height_descent(label, FontProperties(family="DejaVu Sans", size=size),
                                                      ismath=False)[0]
        x, y = float(text.get("x")), float(text.get("y"))
        anchor = re.search(r"text-anchor:\s*(\w+)", text.get("style", "")).group(1)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        boxes.append((label, (left, y - 0.75 * size, left + width, y + 0.2 * size)))
    return boxes


def test_hero_labels_every_point_without_overlaps_inside_the_axes(rendered):
    """Each point with a rate is labelled next to it; no two labels overlap and all lie inside the axes."""
    svg = rendered["hero"]
    boxes = _text_boxes(svg)
    labels = [t for t, _ in boxes]
    assert sorted(labels) == sorted([p["label"] for p in HERO_POINTS[:-1]] + ["chance", "r = 0: no decay"])
    assert "never probed" not in svg  # a point without a measured rate is not placed anywhere
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            apart = ba[2] <= bb[0] or bb[2] <= ba[0] or ba[3] <= bb[1] or bb[3] <= ba[1]
            assert apart, (a, b)
    (x0, y0, x1, y1), = set(_clip_rects(svg).values())
    for label, (left, top, right, bottom) in boxes:
        assert x0 - 1 <= left and right <= x1 + 1 and y0 - 1 <= top and bottom <= y1 + 1, label


# The standard build's crowd: three models at chance within 0.3 of each other (two of them 3 pt
# apart), a fourth at chance by the r = 0 line, and the learners bunched near rate 0 at accuracy ≈ 1.
CROWDED_HERO = [
    {"label": "RNN (tanh, PyTorch default init)", "rate": -0.539, "acc": 0.422, "acc_lo": 0.125, "acc_hi": 0.72,
     "family": "plain RNN"},
    {"label": "RNN (tanh, Xavier init)", "rate": -0.119, "acc": 0.831, "acc_lo": 0.593, "acc_hi": 1.0,
     "family": "plain RNN"},
    {"label": "RNN (tanh, orthogonal init, gain 1)", "rate": -0.045, "acc": 0.959, "acc_lo": 0.871, "acc_hi": 1.0,
     "family": "plain RNN"},
    {"label": "RNN (relu, identity init, gain 1)", "rate": -0.0086, "acc": 0.122, "acc_lo": 0.116, "acc_hi": 0.129,
     "family": "plain RNN"},
    {"label": "LSTM (PyTorch default init)", "rate": -0.4515, "acc": 0.1325, "acc_lo": 0.118, "acc_hi": 0.147,
     "family": "LSTM"},
    {"label": "LSTM (forget-gate bias 1)", "rate": -0.164, "acc": 0.128, "acc_lo": 0.114, "acc_hi": 0.142,
     "family": "LSTM"},
    {"label": "LSTM (chrono init)", "rate": -0.059, "acc": 0.987, "acc_lo": 0.953, "acc_hi": 1.0, "family": "LSTM"},
    {"label": "GRU (PyTorch default init)", "rate": -0.446, "acc": 0.125, "acc_lo": 0.116, "acc_hi": 0.134,
     "family": "GRU"},
    {"label": "Transformer (1 layer, 2 heads, causal)", "rate": 0.0006, "acc": 1.0, "acc_lo": 1.0, "acc_hi": 1.0,
     "family": "attention"},
]


def _final_hero_geometry(monkeypatch, points, chance):
    """The hero's label boxes, leaders and point boxes in pixels, read from the matplotlib figure
    after savefig has drawn it (the final layout, as the SVG has it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _drawn(monkeypatch, lambda: figures.hero(points, chance=chance))
    ax = fig.axes[0]
    renderer = FigureCanvasAgg(fig).get_renderer()
    to_px, pt = ax.transData.transform, fig.dpi / 72
    labels, leaders = {}, {}
    for text in ax.texts:
        gid = text.get_gid() or ""
        if gid.startswith("label-"):
            e = text.get_window_extent(renderer)
            labels[gid] = (text.get_text(), (e.x0, e.y0, e.x1, e.y1))
        elif gid.startswith("leader-"):
            leaders[int(gid.split("-")[1])] = tuple(to_px(text.xy))
    marks = []  # (owner, box): the 7-pt marker (radius 3.5 pt plus its edge) and the whisker with its caps
    # where each marker is drawn: markers that would touch are set apart sideways, so read each
    # point's own line (its errorbar container) through its transform, not the data alone
    drawn_at = [tuple(c.lines[0].get_transform().transform(c.lines[0].get_xydata())[0]) for c in ax.containers]
    for i, p in enumerate(points):
        x, y = drawn_at[i]
        marks.append((i, (x - 4 * pt, y - 4 * pt, x + 4 * pt, y + 4 * pt)))
        y0, y1 = to_px((p["rate"], p.get("acc_lo", math.nan)))[1], to_px((p["rate"], p.get("acc_hi", math.nan)))[1]
        if math.isfinite(y0) and math.isfinite(y1):  # a point without an interval draws no whisker
            marks.append((i, (x - 3 * pt, min(y0, y1), x + 3 * pt, max(y0, y1))))
    frame = ax.get_window_extent(renderer)
    centres = drawn_at
    return labels, leaders, marks, centres, (frame.x0, frame.y0, frame.x1, frame.y1), pt


def _apart(a, b) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def _gap(box, point) -> float:
    return math.hypot(max(box[0] - point[0], 0, point[0] - box[2]), max(box[1] - point[1], 0, point[1] - box[3]))


@pytest.mark.parametrize("points", [CROWDED_HERO, HERO_POINTS[:-1]], ids=["crowded", "spread"])
def test_hero_labels_in_the_final_layout_cover_no_label_or_other_point_and_say_whose_they_are(monkeypatch, points):
    """In the figure as saved (after the layout that savefig does, which once moved the axes under
    labels placed earlier, so that "GRU (PyTorch default init)" ran into "LSTM (forget-gate bias
    1)"): no two labels overlap, no label covers another point's marker or whisker, every label
    is inside the axes, and each label is clearly nearer its own point than any other, or joined
    to it by a leader line."""
    labels, leaders, marks, centres, frame, pt = _final_hero_geometry(monkeypatch, points, chance=0.125)
    assert len(labels) == len(points) + 2  # every point, the r = 0 line and the chance line
    boxes = list(labels.values())
    for k, (a, box_a) in enumerate(boxes):
        assert frame[0] - 0.5 <= box_a[0] and box_a[2] <= frame[2] + 0.5, a
        assert frame[1] - 0.5 <= box_a[1] and box_a[3] <= frame[3] + 0.5, a
        for b, box_b in boxes[k + 1:]:
            assert _apart(box_a, box_b), (a, b)
    for gid, (text, box) in labels.items():
        owner = int(gid.split("-")[1]) if not gid.startswith("label-line-") else -1
        for who, mark in marks:
            assert who == owner or _apart(box, mark), (text, points[who]["label"])
        if owner < 0:
            continue
        if owner in leaders:
            assert math.dist(leaders[owner], centres[owner]) < 0.01, text  # the leader ends at its own point
        else:
            nearest_other = min(_gap(box, c) for i, c in enumerate(centres) if i != owner)
            assert _gap(box, centres[owner]) + 2 * pt < nearest_other, text


def test_hero_gives_each_family_its_own_marker(monkeypatch):
    """Families differ by marker (not only colour), and the legend lists each family once."""
    styles = _legend_styles(monkeypatch, CASES["hero"])
    families = {label: marker for _, marker, label in styles}
    assert set(families) == {"RNN", "LSTM", "GRU", "transformer"}
    assert len(set(families.values())) == 4


@pytest.mark.parametrize("name", sorted(DIAGRAM_CASES))
def test_diagram_text_fits_inside_the_drawing(rendered, name):
    """No label of a diagram runs past its edges (widths from DejaVu Sans metrics)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    root = ET.fromstring(rendered[name])
    width = float(root.get("viewBox").split()[2])
    for text in root.iter(f"{SVG_NS}text"):
        content = "".join(text.itertext())
        size = _size(text)
        w = TextToPath().get_text_width_height_descent(content, FontProperties(family="DejaVu Sans", size=size),
                                                       ismath=False)[0]
        x = float(text.get("x"))
        left = {"start": x, "middle": x - w / 2, "end": x - w}[text.get("text-anchor")]
        assert left >= 0 and left + w <= width, (content, left, left + w)


def test_palette_is_okabe_ito_and_series_differ_without_colour():
    """Series styles use the Okabe–Ito colours and also differ in line style and marker."""
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert set(figures.PALETTE) <= okabe_ito
    styles = [figure_style.series_style(i) for i in range(len(figures.PALETTE))]
    assert len({str(s["linestyle"]) for s in styles}) == len(styles)
    assert len({s["marker"] for s in styles}) == len(styles)


def test_ids_differ_between_figures(rendered):
    """Two figures inlined in one page never share an element id."""
    a, b = _ids(rendered["gradient_vs_lag"]), _ids(rendered["curves"])
    assert not set(a) & set(b)
    assert len(a) == len(set(a))


def test_every_finding_figure_is_valid_with_alt_text(synthetic_drawn):
    """On a full synthetic build every finding's figures are valid SVG with a caption and data-based alt text."""
    findings = synthetic_drawn[2].results
    keys = {(f.id, fig.key) for f in findings for fig in f.figures}
    assert ("C2", "decay") in keys and ("C9", "exploding") in keys and ("G2", "sweep") in keys and ("K1", "jacobians") in keys
    for f in findings:
        for fig in f.figures:
            ET.fromstring(fig.svg)
            assert fig.caption and fig.alt and "nan" not in fig.alt.lower()
        assert f.figure_keys == [fig.key for fig in f.figures]


EMPTY = {
    "gradient_vs_lag": lambda: figures.gradient_vs_lag([], [{"label": "bound", "rate": -0.1}]),
    "score_vs_x": lambda: figures.score_vs_x([], chance=0.125, xlabel="T", ylabel="accuracy"),
    "curves": lambda: figures.curves([], chance=0.125, xlabel="step", ylabel="accuracy"),
    "curves_log": lambda: figures.curves(  # a zero (a gap), a tiny value, a band reaching down to ~0
        [{**_curve("loss", [1.0, 0.1, 0.0, 1e-20, 0.01]), "lo": np.array([0.5, 1e-9, 0.0, 1e-25, 1e-30])}],
        chance=2.08, xlabel="step", ylabel="loss", logy=True),
    "exploding": lambda: exploding([], [], [{"label": "no clipping", "steps": [2]}], math.log(8), 1.0),
    "bars": lambda: figures.bars([], chance=0.125, ylabel="accuracy"),
    "jacobian_check": lambda: jacobian_check([]),
    "derivative_ranges": lambda: derivative_ranges([]),
    "rate_vs_accuracy": lambda: rate_vs_accuracy([], chance=0.125),
    "rate_vs_theory": lambda: rate_vs_theory([]),
    "hero": lambda: figures.hero([], chance=0.125),
}


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_figure_survives_missing_data(name):
    """With no series at all (every run diverged, a subset build) a figure still draws, without warnings."""
    ET.fromstring(EMPTY[name]())


def test_log_curve_leaves_a_gap_at_zero_instead_of_dropping_to_the_floor(rendered):
    """On a log axis a zero is a gap in the line (a new subpath), and the tiny value after it is shown, inside."""
    lines = [d for d in re.findall(r'<path d="([^"]*)"[^>]*clip-path[^>]*stroke: #0072b2', rendered["curves_log"])]
    assert len(lines) == 1
    moves = re.findall(r"[Mm]", lines[0])
    assert len(moves) == 2, lines[0]  # 1, 0.1 | gap | 1e-20, 0.01
    assert len(_vertices(lines[0])) == 4


def test_hero_families_keep_the_slot_their_points_pin_and_others_get_free_ones():
    """A family is drawn in the slot its points pin (the overview gives each family its architecture's
    style); a family without one gets a slot no other family took."""
    points = [{"family": f, **({"slot": s} if s is not None else {})}
              for f, s in (("plain RNN", 0), ("LSTM", 1), ("plain RNN", None), ("attention", 6), ("SSM", None),
                           ("MLP", None))]
    slots = charts._family_slots(points)
    assert (slots["plain RNN"], slots["LSTM"], slots["attention"]) == (0, 1, 6)
    assert len({slots["SSM"], slots["MLP"], 0, 1, 6}) == 5


def test_a_y_label_taller_than_its_axes_is_broken_onto_two_lines_and_fits():
    """A long y-label on a short panel (the clipping figure's right panel) used to run off the
    figure's edge ('gradient norm before clippin'): it is broken at a space and then fits."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2, 1.4), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_ylabel("gradient norm before clipping")
    figure_style.fit_axis_labels(fig)
    renderer = FigureCanvasAgg(fig).get_renderer()
    assert "\n" in ax.yaxis.label.get_text()
    box = ax.yaxis.label.get_window_extent(renderer)
    assert box.y0 >= -0.5 and box.y1 <= fig.bbox.height + 0.5
    assert ax.yaxis.label.get_fontsize() >= 8
    short = Figure(figsize=(3.2, 2.4)).subplots()
    short.set_ylabel("loss")
    figure_style.fit_axis_labels(short.figure)
    assert short.yaxis.label.get_text() == "loss"


def _profile(rate, lags=LAGS):
    return {"label": f"rate {rate}", "lags": lags, "mean": np.exp(rate * lags)}


def test_coincide_means_within_a_line_width_of_the_plotted_height():
    """Two decays a hair apart (−0.500 against −0.501 over 30 steps: 0.013 decades of ~8) coincide;
    −0.5 against −0.55 (0.63 decades apart at the end) do not; no shared lags, no coincidence."""
    assert figures.coincide(_profile(-0.5), _profile(-0.501))
    assert not figures.coincide(_profile(-0.5), _profile(-0.55))
    assert not figures.coincide(_profile(-0.5), _profile(-0.5, lags=LAGS + 100))


def test_a_dashed_series_hidden_behind_a_solid_one_is_drawn_over_it_with_hollow_markers(monkeypatch):
    """C9's vanishing regime drew 'no clipping' (dashed) under 'clipped' (solid) on the same line:
    when they coincide the dashed one goes on top with white-filled markers; apart, both as usual."""
    def lines(rate):
        fig = _drawn(monkeypatch, lambda: figures.gradient_vs_lag([{**_profile(-0.5), "label": "no clipping", "slot": 1},
                                                                   {**_profile(rate), "label": "clipped", "slot": 0}], []))
        return {line.get_label(): line for line in fig.axes[0].lines}

    same = lines(-0.5)
    assert same["no clipping"].get_zorder() > same["clipped"].get_zorder()
    assert same["no clipping"].get_markerfacecolor() == "white"
    apart = lines(-0.8)
    assert apart["no clipping"].get_zorder() == apart["clipped"].get_zorder()
    assert apart["no clipping"].get_markerfacecolor() != "white"



def test_a_dashed_score_series_on_top_of_another_gets_hollow_markers(monkeypatch):
    """Fig. 11 drew the GRU and the forget-bias LSTM (both 1.0 at length 10, chance at 40) on one
    line: the dashed one of two coinciding series goes on top with hollow markers."""
    def data_lines(second):
        fig = _drawn(monkeypatch, lambda: figures.score_vs_x(
            [{"label": "solid", "x": [10, 40], "mean": [1.0, 0.13], "lo": [1.0, 0.1], "hi": [1.0, 0.16], "slot": 0},
             {"label": "dashed", "x": [10, 40], "mean": second, "lo": second, "hi": second, "slot": 3}],
            chance=0.125, xlabel="T", ylabel="accuracy", logx=True))
        return {c.get_label(): c.lines[0] for c in fig.axes[0].containers}

    same = data_lines([1.0, 0.128])
    assert same["dashed"].get_markerfacecolor() == "white"
    assert same["dashed"].get_zorder() > same["solid"].get_zorder()
    assert data_lines([0.6, 0.128])["dashed"].get_markerfacecolor() != "white"


def test_a_growing_bound_stays_in_view_over_half_the_distances(monkeypatch):
    """The y-range makes room for a bound over at least the first half of the distances (so the
    comparison with the data is on the plot), but never more than the data's own span in decades."""
    svg = CASES["gradient_vs_lag_cut"]()  # bound exp(0.3·lag) over lags 0..29: 10^3.8 at lag 14.5
    (x0, _, x1, _), = set(_clip_rects(svg).values())
    grows = next(v for gid, v, _ in _stroked_lines(svg) if gid.endswith("-bound-0"))
    assert max(x for x, _ in grows) - x0 >= 0.5 * (x1 - x0) - 0.5
    series = [_series("tanh", -0.05, 0)]
    plain = _drawn(monkeypatch, lambda: figures.gradient_vs_lag(series, [])).axes[0].get_ylim()
    steep_bound = [{"label": "b", "rate": 5.0}]
    steep = _drawn(monkeypatch, lambda: figures.gradient_vs_lag(series, steep_bound)).axes[0].get_ylim()
    decades = math.log10(plain[1] / plain[0])
    assert steep[0] == pytest.approx(plain[0]) and math.log10(steep[1] / steep[0]) <= 2 * decades + 1e-9


def test_edge_marks_are_arrows_no_model_uses_drawn_inside_the_axes(monkeypatch):
    """Where a bound leaves the axes, its mark is no model's marker (▲/▼ are) and lies wholly inside
    the axes with its tip on the edge, so it covers no tick label."""
    fig = _drawn(monkeypatch, CASES["gradient_vs_lag_cut"])
    ax = fig.axes[0]
    marks = [line for line in ax.lines if (line.get_gid() or "").startswith("edge-")]
    assert len(marks) == 2
    frame = ax.get_window_extent()
    for line in marks:
        assert line.get_marker() not in figures.MARKERS
        marker = line._marker
        pixels = marker.get_path().transformed(marker.get_transform()).vertices * line.get_markersize() * fig.dpi / 72
        centre = ax.transData.transform((line.get_xdata()[0], line.get_ydata()[0]))
        xs, ys = centre[0] + pixels[:, 0], centre[1] + pixels[:, 1]
        assert frame.x0 - 0.5 <= xs.min() and xs.max() <= frame.x1 + 0.5
        assert frame.y0 - 0.5 <= ys.min() and ys.max() <= frame.y1 + 0.5
        assert min(abs(ys.max() - frame.y1), abs(ys.min() - frame.y0)) < 0.5  # the tip touches the edge


def test_one_seeds_vanished_gradient_does_not_stretch_the_axis_and_bands_lie_behind(monkeypatch):
    """A band reaching 10⁻³⁰ (one seed) is cut at the axes instead of stretching them over empty
    decades, and every band is drawn behind every line."""
    s = _series("tanh", -0.05, 0)
    s["lo"] = np.full(len(LAGS), 1e-30)
    fig = _drawn(monkeypatch, lambda: figures.gradient_vs_lag([s, _series("relu", -0.3, 3)], []))
    ax = fig.axes[0]
    assert ax.get_ylim()[0] > 1e-8  # the lowest mean is 1.7×10⁻⁴; the band alone reaches 10⁻³⁰
    assert max(c.get_zorder() for c in ax.collections) < min(line.get_zorder() for line in ax.lines)


def test_series_at_the_same_point_sit_side_by_side_and_two_points_are_not_joined(monkeypatch):
    """Models with the same score at the same x (several at chance) are drawn a few points apart,
    and a series measured at only two x is not joined by a line nobody measured; three are joined."""
    two = [{"label": name, "x": [10, 40], "mean": [1.0, 0.125], "lo": [1.0, 0.1], "hi": [1.0, 0.15]}
           for name in ("a", "b", "c", "d")]
    three = {"label": "e", "x": [10, 20, 40], "mean": [1.0, 0.5, 0.125], "lo": [1, 0.4, 0.1], "hi": [1, 0.6, 0.15]}
    fig = _drawn(monkeypatch, lambda: figures.score_vs_x(two + [three], chance=0.125, xlabel="T", ylabel="acc"))
    ax = fig.axes[0]
    drawn = [c[0] for c in ax.containers]  # each errorbar's data line
    at_40 = sorted(line.get_transform().transform((40, 0.125))[0] for line in drawn)
    size = min(line.get_markersize() for line in drawn)
    assert size >= 6  # a shape one can tell at 70 dpi
    # a marker's width and a clear gap of 3 pt at least between neighbours: none touches another
    assert min(np.diff(at_40)) >= (size + 3) * fig.dpi / 72
    frame = ax.get_window_extent()
    margin = size / 2 * fig.dpi / 72
    assert frame.x0 < at_40[0] - margin and at_40[-1] + margin < frame.x1  # dodged, the whole marker inside
    assert [line.get_linestyle() == "None" for line in drawn] == [True] * 4 + [False]


def test_median_tick_is_drawn_over_the_mean_and_reaches_beyond_it(monkeypatch):
    """A median next to the mean stays in view: its tick is drawn after the mean's marker and is taller."""
    fig = _drawn(monkeypatch, CASES["derivative_ranges"])
    lines = fig.axes[0].lines
    median = next(line for line in lines if line.get_gid() == "median-0")
    mean = next(line for line in lines if line.get_marker() not in ("|", "None") and len(line.get_xdata())
                and line.get_ydata()[0] == 0)
    assert median.get_zorder() > mean.get_zorder() and median.get_markersize() >= 2 * mean.get_markersize()


def test_jacobian_check_gives_each_series_its_own_panel_and_bound(monkeypatch):
    """Four bounds in one panel pile up at 10⁰ and differ only in dot rhythm: each series has its own
    panel (one shared scale) with its one bound."""
    fig = _drawn(monkeypatch, CASES["jacobian_check"])
    assert [ax.get_title() for ax in fig.axes] == ["tanh", "relu"]
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()
    for ax in fig.axes:
        assert len([line for line in ax.lines if (line.get_gid() or "").startswith("bound-")]) == 1


def test_runs_diverging_at_one_step_are_one_cross_with_a_count_and_a_zero_mean_is_marked(monkeypatch):
    """Six runs that diverge at the same step are one ✕ with "×6" beside it, not six crosses on top
    of each other; a mean loss of exactly 0 (every seed's float32 loss rounded to 0) is not just a
    gap in the line: an arrow at the bottom edge marks it at its step, and the legend says what it is."""
    fig = _drawn(monkeypatch, CASES["exploding"])  # steps [2, 2, 3]; the loss mean is 0 at step 100
    left = fig.axes[0]
    crosses = [line for line in left.lines if line.get_marker() == "X"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [2, 3]
    assert [t.get_text() for t in left.texts if t.get_gid() == "diverged-count"] == ["×2"]
    zeros = [line for line in left.lines if (line.get_gid() or "").startswith("zero-")]
    assert len(zeros) == 1 and list(zeros[0].get_xdata()) == [100.0]
    assert list(zeros[0].get_ydata()) == [left.get_ylim()[0]]
    right = [line for line in fig.axes[1].lines if (line.get_gid() or "").startswith("zero-")]
    assert len(right) == 1 and list(right[0].get_xdata()) == [125.0]  # the norm's mean is 0 at step 125
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert any("mean exactly 0" in label for label in labels)


def test_exploding_caption_says_what_the_lines_alone_do_not():
    """The caption's notes come from the data: an arm with no logged step (it diverged first), the
    share of losses that are exactly 0 (gaps on a log axis), the steps where the mean is 0, and the
    smallest mean gradient norm; nothing about zeros when there are none."""
    import pandas as pd

    from vgreport.findings.c9_clipping.finding import _exploding_notes

    steps = [5, 10, 15]
    loss = pd.DataFrame({0: [2.0, 0.0, 0.0], 1: [1.5, 0.3, 0.0]}, index=steps)
    norm = pd.DataFrame({0: [50.0, 0.0, 1e-20], 1: [40.0, 3.0, 1e-18]}, index=steps)
    e = {"no_clip": {"steps": [2, 2]}, "clipped": {"steps": []}}
    notes = _exploding_notes({("clipped", "train_loss"): loss, ("clipped", "grad_norm_total"): norm}, e)
    assert "The unclipped runs diverged before the first logged step (5)" in notes
    assert "3 of the clipped runs' 6 logged losses are exactly 0" in notes
    assert "↓ where the mean is 0 (step 15)" in notes
    assert "mean down to 5×10⁻¹⁹; 1 exactly 0" in notes
    clean = _exploding_notes({("clipped", "train_loss"): loss + 1, ("clipped", "grad_norm_total"): norm + 1},
                             {"no_clip": {"steps": []}, "clipped": {"steps": []}})
    assert clean == ""


def test_points_near_one_another_are_set_apart_named_and_the_lines_named_off_each_other(monkeypatch):
    """C8's case: tanh and identity both near rate 0 and accuracy 1 would draw their markers into
    each other: they are set two markers' widths apart (order kept, the middle kept) and each point
    is named; "rate 0" (at the foot of its line the chance line crosses) and "chance" are named
    where neither touches the other line, a marker or a point's name."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    points = [{"label": "sigmoid", "rate": -1.44, "acc": 0.13, "acc_lo": 0.12, "acc_hi": 0.14},
              {"label": "tanh", "rate": -0.04, "acc": 1.0, "acc_lo": 1.0, "acc_hi": 1.0},
              {"label": "relu", "rate": -0.34, "acc": 0.13, "acc_lo": 0.11, "acc_hi": 0.15},
              {"label": "identity", "rate": 0.0, "acc": 0.98, "acc_lo": 0.95, "acc_hi": 1.0}]
    fig = _drawn(monkeypatch, lambda: rate_vs_accuracy(points, chance=0.125))
    ax = fig.axes[0]
    renderer = FigureCanvasAgg(fig).get_renderer()
    pt = fig.dpi / 72
    centres = [c[0].get_transform().transform((p["rate"], p["acc"])) for c, p in zip(ax.containers, points)]
    assert centres[3][0] - centres[1][0] >= 2 * 7 * pt - 1e-6  # tanh left of identity, two markers apart
    assert abs((centres[1][0] + centres[3][0]) / 2 - sum(ax.transData.transform((r, 1))[0] for r in (-0.04, 0)) / 2) < 1e-6
    assert abs(centres[0][0] - ax.transData.transform((-1.44, 0))[0]) < 1e-6  # a point alone stays where it is
    texts = {t.get_gid(): t for t in ax.texts}
    assert [texts[f"label-{i}"].get_text() for i in range(4)] == [p["label"] for p in points]
    boxes = {gid: t.get_window_extent(renderer) for gid, t in texts.items() if gid and gid.startswith("label")}
    chance_y = ax.transData.transform((0, 0.125))[1]
    zero_x = ax.transData.transform((0, 0))[0]
    rate0, chance = boxes["label-line-0"], boxes["label-line-1"]
    assert texts["label-line-0"].get_text() == "rate 0" and texts["label-line-1"].get_text() == "chance"
    assert not rate0.y0 - pt <= chance_y <= rate0.y1 + pt  # "rate 0" off the chance line
    assert not chance.x0 - pt <= zero_x <= chance.x1 + pt  # "chance" off the rate-0 line
    for (gid_a, a), (gid_b, b) in itertools.combinations(boxes.items(), 2):
        assert not a.overlaps(b), (gid_a, gid_b)
    for gid, box in boxes.items():
        for c in centres:
            assert not (box.x0 - 3 * pt < c[0] < box.x1 + 3 * pt and box.y0 - 3 * pt < c[1] < box.y1 + 3 * pt), gid


@pytest.mark.parametrize("narrow", [False, True], ids=["print", "phone"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_no_panel_is_a_strip(name, narrow):
    """Every panel is at most 2.5 times as wide as it is tall, in print and on a phone: a slope or a
    gap read off a flat strip looks a fraction of its size."""
    make = functools.partial(figure_style.narrow, CASES[name]) if narrow else CASES[name]
    fig = helpers.drawn(make)
    for ax in fig.axes:
        box = ax.get_window_extent()
        assert box.width <= figure_style.MOST_WIDE * box.height + 1, (name, box.width, box.height)
