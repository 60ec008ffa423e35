"""Figures: valid, deterministic, vector SVG with the theory and chance lines drawn on them."""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import synthetic as syn
from vgreport import figures
from vgreport.findings import evaluate

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
    "exploding": lambda: figures.exploding(
        [_curve("clipped", [400.0, 5.0, 1.0, 0.0])], [_curve("clipped", [1e4, 500.0, 60.0, 0.0])],
        [{"label": "no clipping", "steps": [2, 2, 3], "slot": 1}], chance_loss=math.log(8), clip=1.0),
    "bars": lambda: figures.bars(
        [{"label": "tanh\ndefault init", "mean": 0.4, "lo": 0.1, "hi": 0.7, "per_seed": [0.14, 0.24, 0.83]},
         {"label": "tanh\northogonal init", "mean": 0.76, "lo": math.nan, "hi": math.nan, "per_seed": [0.76]}],
        chance=0.125, ylabel="accuracy"),
    "jacobian_check": lambda: figures.jacobian_check(
        [{"label": "tanh", "lags": LAGS, "measured": np.exp(-0.05 * LAGS), "chain": np.exp(-0.05 * LAGS),
          "opnorm": np.exp(-0.01 * LAGS)},
         {"label": "relu", "lags": LAGS, "measured": np.where(LAGS < 20, np.exp(-0.3 * LAGS), 0.0),
          "chain": np.where(LAGS < 20, np.exp(-0.3 * LAGS), 0.0), "opnorm": np.exp(-0.1 * LAGS)}]),
    "derivative_ranges": lambda: figures.derivative_ranges(
        [{"label": "sigmoid", "p10": 0.21, "p50": 0.24, "p90": 0.25, "mean": 0.235},
         {"label": "relu", "p10": 0.0, "p50": None, "p90": 1.0, "mean": 0.5}]),
    "rate_vs_accuracy": lambda: figures.rate_vs_accuracy(
        [{"label": "tanh", "rate": -0.04, "acc": 0.76, "acc_lo": 0.23, "acc_hi": 1.0},
         {"label": "sigmoid", "rate": -1.44, "acc": 0.14, "acc_lo": math.nan, "acc_hi": math.nan}], chance=0.125),
    "rate_vs_theory": lambda: figures.rate_vs_theory(
        [{"label": "identity", "x": np.log([0.5, 1.0, 1.5]), "mean": np.log([0.5, 1.0, 1.5]),
          "lo": np.log([0.5, 1.0, 1.5]), "hi": np.log([0.5, 1.0, 1.5])}]),
}
# Which reference line each figure must carry (as an SVG group id set by the figure code).
REFERENCE_LINES = {"gradient_vs_lag": "bound", "score_vs_x": "chance", "curves": "chance", "exploding": "chance",
                   "bars": "chance", "jacobian_check": "bound", "derivative_ranges": "bound",
                   "rate_vs_accuracy": "chance", "rate_vs_theory": "bound"}


@pytest.fixture(scope="module")
def rendered():
    return {name: make() for name, make in CASES.items()}


def _ids(svg: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', svg)


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_is_valid_inline_svg(rendered, name):
    """Each figure is one well-formed <svg> element with no XML prolog, ready to inline in HTML."""
    svg = rendered[name]
    assert svg.startswith("<svg")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_is_deterministic(rendered, name):
    """Drawing the same data twice gives byte-identical SVG (salted ids, no date)."""
    assert CASES[name]() == rendered[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_draws_its_reference_line(rendered, name):
    """Gradient plots carry a bound line and score plots a chance line."""
    kind = REFERENCE_LINES[name]
    assert any(re.search(rf"-{kind}-\d+$", i) for i in _ids(rendered[name])), kind


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_is_vector_and_small(rendered, name):
    """No raster images, no metadata date, and under 150 kB, so the PDF stays within its size budget."""
    svg = rendered[name]
    assert "<image" not in svg and "<metadata" not in svg and "dc:date" not in svg
    assert len(svg.encode()) < 150_000


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_is_printed_at_text_width(rendered, name):
    """Every figure is exactly 16 cm wide, so its 8–8.5 pt text prints at that size."""
    width = ET.fromstring(rendered[name]).get("width")
    assert width.endswith("pt") and float(width[:-2]) == pytest.approx(16 / 2.54 * 72, abs=0.5)


def test_text_sizes_are_at_least_8_points():
    """The figure style sets no font below 8 pt."""
    sizes = [v for k, v in figures._STYLE.items() if k.endswith("size") and k != "lines.markersize"]
    assert sizes and min(sizes) >= 8


def test_palette_is_okabe_ito_and_series_differ_without_colour():
    """Series styles use the Okabe–Ito colours and also differ in line style and marker."""
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert set(figures.PALETTE) <= okabe_ito
    styles = [figures._style(i) for i in range(len(figures.PALETTE))]
    assert len({str(s["linestyle"]) for s in styles}) == len(styles)
    assert len({s["marker"] for s in styles}) == len(styles)


def test_ids_differ_between_figures(rendered):
    """Two figures inlined in one page never share an element id."""
    a, b = _ids(rendered["gradient_vs_lag"]), _ids(rendered["curves"])
    assert not set(a) & set(b)
    assert len(a) == len(set(a))


def test_every_finding_figure_is_valid_with_alt_text():
    """On a full synthetic build every finding's figures are valid SVG with a caption and data-based alt text."""
    findings = evaluate(syn.world(), None, with_figures=True).results
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
    "exploding": lambda: figures.exploding([], [], [{"label": "no clipping", "steps": [2]}], math.log(8), 1.0),
    "bars": lambda: figures.bars([], chance=0.125, ylabel="accuracy"),
    "jacobian_check": lambda: figures.jacobian_check([]),
    "derivative_ranges": lambda: figures.derivative_ranges([]),
    "rate_vs_accuracy": lambda: figures.rate_vs_accuracy([], chance=0.125),
    "rate_vs_theory": lambda: figures.rate_vs_theory([]),
}


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_figure_survives_missing_data(name):
    """With no series at all (every run diverged, a subset build) a figure still draws, without warnings."""
    ET.fromstring(EMPTY[name]())
