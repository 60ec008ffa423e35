"""Figures for print and phone: every figure of a build tells its series apart without colour,
no series hides behind another, and figure text is at least 11 px on a 390-px-wide phone."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest

from vgreport.figures import REFERENCE_DOTS, charts
from vgreport.figures.style import NARROW_WIDTH_IN

import helpers

PHONE_PX = 390


def _dash(line) -> str:
    if line.get_linestyle() in ("None", "none", " ", ""):
        return "none"
    offset, pattern = line._unscaled_dash_pattern
    return "solid" if pattern is None else str(tuple(round(float(v), 2) for v in pattern))


@pytest.fixture(scope="module")
def drawn(synthetic_drawn):
    """Every matplotlib Figure the findings draw for the synthetic world (every finding decided,
    every figure drawn), with the SVG each became (conftest.py draws them once a session)."""
    figures, svgs, evaluation = synthetic_drawn
    assert len(figures) >= 15, "the synthetic world should draw every kind of figure"
    return figures, svgs, evaluation


def _series(ax) -> list[tuple[str, str, str]]:
    """(dash, marker, label) of every labelled line of a panel, error bars' lines included."""
    out = []
    for line in ax.get_lines():
        label = line.get_label()
        if label.startswith("_"):
            continue
        out.append((_dash(line), str(line.get_marker()), label))
    for container in ax.containers:  # errorbar(): the label sits on the container
        if container.get_label() and not container.get_label().startswith("_") and container.lines[0] is not None:
            line = container.lines[0]
            out.append((_dash(line), str(line.get_marker()), container.get_label()))
    return out


def test_no_two_series_of_a_panel_share_marker_and_dash(drawn):
    """In grayscale only marker and dash remain: in every panel of every figure, no two labelled
    series look the same, and two model series (the ones with markers) differ in both."""
    figures, _, _ = drawn
    dotted = {str(tuple(float(v) for v in d[1])) for d in REFERENCE_DOTS}
    checked = 0
    for fig in figures:
        for ax in fig.axes:
            series = _series(ax)
            looks = Counter((dash, marker) for dash, marker, _ in series)
            assert all(n == 1 for n in looks.values()), [s for s in series if looks[s[:2]] > 1]
            models = [s for s in series if s[1] not in ("None", "none", "") and s[0] not in dotted]
            for i, a in enumerate(models):
                for b in models[i + 1:]:
                    if a[0] != "none" and b[0] != "none":  # lines: both dash and marker differ
                        assert a[0] != b[0] and a[1] != b[1], (a, b)
                    else:
                        assert a[1] != b[1], (a, b)
                checked += 1
    assert checked >= 20


def _marked_x(line) -> set[float]:
    x = np.asarray(line.get_xdata(), float)
    every = line.get_markevery()
    if every is None:
        return set(x)
    start, step = every if isinstance(every, tuple) else (0, every)
    return set(x[start::step])


def test_coinciding_lines_show_their_markers_side_by_side():
    """Two models with the very same curve (both at chance): each line's markers sit at other
    points than the other's, so neither hides behind the other."""
    x = np.arange(0, 400, 10.0)
    same = {"x": x, "mean": np.full(len(x), 0.125)}
    with helpers.figures_drawn() as drawn:
        charts.curves([{"label": "a", **same}, {"label": "b", **same}], chance=0.125, xlabel="step", ylabel="accuracy")
        charts.gradient_vs_lag([{"label": "a", "lags": x, "mean": np.exp(-0.1 * x)},
                                {"label": "b", "lags": x, "mean": np.exp(-0.1 * x)}], bounds=[])
    for fig in drawn:
        a, b = [line for line in fig.axes[0].get_lines() if line.get_label() in ("a", "b")]
        assert _marked_x(a) and _marked_x(b) and not _marked_x(a) & _marked_x(b)


def test_marks_of_one_look_share_one_legend_entry_and_are_named_in_the_plot():
    """Vertical marks (1×, 2×, 4× the budget) look alike, so the legend names them once and each
    carries its own name at the top of the plot."""
    x = np.arange(0, 400, 10.0)
    with helpers.figures_drawn() as drawn:
        svg = charts.curves([{"label": "RNN", "x": x, "mean": np.linspace(0.1, 0.9, len(x))}], chance=0.125,
                            xlabel="step", ylabel="accuracy",
                            marks=[{"x": 100, "label": "1×"}, {"x": 200, "label": "2×"}])
    ax = drawn[0].axes[0]
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels.count("1×, 2×") == 1 and "2×" not in labels
    assert {t.get_text() for t in ax.texts} >= {"1×", "2×"}
    assert ">1×<" in svg and ">2×<" in svg


def _font_sizes(svg: str) -> list[float]:
    sizes = [float(v) for v in re.findall(r'font-size="([\d.]+)', svg)]
    return sizes + [float(v) for v in re.findall(r"font-size:\s*([\d.]+)px", svg)]


def _words(svg: str) -> list[str]:
    """The words of a figure's text, tick labels left out (numbers: a narrower axis may have fewer)."""
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    return sorted(w for t in texts if re.search(r"[A-Za-z\u0370-\u03ff]", t) for w in t.split())


def test_every_figure_has_a_narrow_layout_with_11_px_text_on_a_phone(drawn):
    """report.html shows a figure's narrow layout below 41rem: 3.4 in (245 pt) wide, so on a 390-px
    screen (a column of 368 px between the page's margins) its smallest text is at least 11 px (at
    least 8 pt, scaled by 368/245) and the page does not scroll sideways. It says what the full
    layout says: the same words (legend, labels, names), lines broken differently."""
    _, svgs, evaluation = drawn
    figures = [figure for result in evaluation.results for figure in result.figures]
    column = PHONE_PX - 2 * 0.7 * 11.5 * 4 / 3  # body padding 0.7rem at 11.5pt (report.css, max-width 40rem)
    for figure in figures:
        assert figure.narrow and figure.narrow != figure.svg, figure.key
        view_width = float(ET.fromstring(figure.narrow).get("viewBox").split()[2])
        assert view_width == pytest.approx(NARROW_WIDTH_IN * 72, abs=0.5), figure.key
        assert min(_font_sizes(figure.narrow)) * column / view_width >= 11, figure.key
        assert _words(figure.narrow) == _words(figure.svg), figure.key
