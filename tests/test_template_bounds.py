"""Templates are bounded in time, size and memory (issue 29): each hostile template of the issue,
and one per bound, is refused in one line naming the template and its line, in seconds, without
building gigabytes (report/bounds.py)."""
from __future__ import annotations

import resource
import time

import pytest

from vgreport.report import bounds
from vgreport.report.document import render_html
from vgreport.report.environment import ReportTemplateError

from helpers import hand_made_context as _context
from helpers import hand_made_evaluation as _evaluation


@pytest.fixture
def templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    return folder


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def _refused(folder, tmp_path, text: str, line: int = 2) -> str:
    """Render the report with notation.html.j2 replaced by `text` (the template's line 1 is a
    comment, so the bad expression is on `line`): a one-line ReportTemplateError naming the file
    and line, within 30 s (a loaded CI machine), the process's peak memory grown by less than the
    render budget's memory and 200 MB."""
    (folder / "notation.html.j2").write_text("{# hostile #}\n" + text)
    before, started = _peak_bytes(), time.monotonic()
    with pytest.raises(ReportTemplateError) as info:
        render_html(_evaluation(), _context(tmp_path / "data"), templates_dir=folder)
    seconds, grown = time.monotonic() - started, _peak_bytes() - before
    message = str(info.value)
    assert "\n" not in message and "notation.html.j2" in message and f"line {line}" in message, message
    assert seconds < 30, (seconds, message)
    assert grown < bounds.RENDER_MEMORY + 200e6, (grown, message)
    return message


# --------------------------------------------------------------- the reproductions

@pytest.mark.parametrize("text", [
    "{{ 'x'|center(2000000000) }}",
    "{{ '{:>2000000000}'.format('x') }}",
    "{{ '%2000000000s' % 'x' }}",
], ids=["center", "str.format", "percent"])
def test_a_filter_or_format_that_would_build_2_gb_is_refused_before_building(templates, tmp_path, text):
    """Each built 2.1 GB and exited 0 (under a 6 GB limit, the first ended "out of memory; make the
    battery smaller", which blamed the battery): refused from its arguments."""
    message = _refused(templates, tmp_path, text)
    assert "would build 2,000,000," in message, message
    assert f"{bounds.MAX_STRING:,}" in message, message


def test_a_string_doubled_with_tilde_in_a_namespace_is_refused(templates, tmp_path):
    """It passed 3 GB in 19 s; `~` is compiled through a bounded join."""
    message = _refused(templates, tmp_path, "{% set ns = namespace(s='x') %}\n"
                                            "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
                                            "{{ ns.s|length }}", line=3)
    assert "~" in message, message


def test_nested_range_loops_are_refused(templates, tmp_path):
    """Two nested range(100000) loops ran past 120 s: range() hands out at most a million numbers."""
    message = _refused(templates, tmp_path, "{% for i in range(100000) %}{% for j in range(100000) %}"
                                            "{% endfor %}{% endfor %}")
    assert "range()" in message and f"{bounds.MAX_RANGE_TOTAL:,}" in message, message


def test_lipsum_of_100000_paragraphs_is_refused(templates, tmp_path):
    message = _refused(templates, tmp_path, "{{ lipsum(100000, false, 50, 100) }}")
    assert "lipsum" in message, message


def test_cells_of_range_100000_in_a_loop_is_refused(templates, tmp_path):
    """An experiment's cells(range(100000)) builds 100,000 cell specs a call; in a loop it ran past 120 s."""
    message = _refused(templates, tmp_path, "{% for e in ctx.experiments %}\n"
                                            "{% for i in range(100) %}{{ e.cells(range(100000))|length }}{% endfor %}"
                                            "{% endfor %}", line=3)
    assert "render budget" in message or "range()" in message, message


# --------------------------------------------------------------- one test per bound

@pytest.mark.parametrize("text,what", [
    ("{{ 'x'.center(2000000000) }}", "center"),
    ("{{ 'x'.ljust(2000000000) }}", "ljust"),
    ("{{ 'x'.zfill(2000000000) }}", "zfill"),
    ("{{ ('\\t' * 1000).expandtabs(100000000) }}", "expandtabs"),
    ("{{ ('x' * 1000000).replace('x', 'y' * 1000) }}", "replace"),
    ("{{ ('x' * 1000000)|replace('x', 'y' * 1000) }}", "replace"),
    ("{{ ('y' * 100000).join(['a'] * 1000) }}", "join"),
    ("{{ (['y' * 100000] * 1000)|join }}", "join"),
    ("{{ ('\\n' * 1000000)|indent(100) }}", "indent"),
    ("{{ ('a ' * 1000000)|wordwrap(1, wrapstring='y' * 100) }}", "wordwrap"),
    ("{{ '%s%s'|format('x' * 9000000, 'y' * 9000000) }}", "format"),
    ("{{ '%*s' % (2000000000, 'x') }}", "%"),
    ("{{ '{:{w}}'.format('x', w=2000000000) }}", "str.format"),
    ("{{ '{a:>99999999}'.format_map({'a': 1}) }}", "str.format"),
    ("{{ ('x' * 9000000) + ('y' * 9000000) }}", "+"),
    ("{{ [0] * 2000000 }}", "x"),
    ("{{ 7 ** 1000000 }}", "**"),
    ("{{ [1]|batch(2000000000, 0) }}", "batch"),
    ("{{ [1]|slice(2000000000)|list }}", "slice"),
    ("{{ {'a': [1]}|tojson(2000000000) }}", "tojson"),
    ("{{ ([[0] * 1000] * 2000)|sum(start=[]) }}", "sum"),
    ("{{ ([[0]] * 100000)|sum(start=[]) }}", "items copied"),
    ("{{ ('x' * 1000000).translate({120: 'y' * 100}) }}", "translate"),
], ids=lambda v: v if len(v) < 12 else None)
def test_each_way_of_building_a_large_value_is_refused_from_its_arguments(templates, tmp_path, text, what):
    message = _refused(templates, tmp_path, text)
    assert what in message, message


def test_lists_and_dicts_cannot_grow_in_place(templates, tmp_path):
    """`l.extend(l)` forty times would double a list to 10^12 items: the immutable sandbox refuses
    every in-place change (append, extend, update)."""
    message = _refused(templates, tmp_path, "{% set l = [1] %}\n{% for i in range(40) %}{{ l.extend(l) }}{% endfor %}",
                       line=3)
    assert "sandbox" in message and "extend" in message, message


def test_the_render_budget_stops_a_loop_that_builds_nothing(templates, tmp_path, monkeypatch):
    """Nested loops over strings (no range, no output) are stopped by the time budget: here 1 s,
    so the test is short; the line named is the loop's."""
    monkeypatch.setattr(bounds, "RENDER_SECONDS", 1.0)
    message = _refused(templates, tmp_path, "{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}"
                                            "{% endfor %}{% endfor %}")
    assert "longer than 1 s" in message, message


def test_the_render_budget_stops_memory_that_grows_a_little_at_a_time(templates, tmp_path, monkeypatch):
    """Distinct 1 MB strings collected in a namespace pass no per-operation bound; the memory budget
    (here 100 MB, so the test is light) stops them."""
    monkeypatch.setattr(bounds, "RENDER_MEMORY", 100 << 20)
    message = _refused(templates, tmp_path, "{% set ns = namespace(l=[]) %}\n{% for i in range(100000) %}"
                                            "{% set ns.l = ns.l + [('x' * 1000000) ~ i] %}{% endfor %}", line=3)
    assert "100 MiB of memory" in message, message


def test_a_page_over_its_size_limit_is_refused_where_it_grows(templates, tmp_path):
    message = _refused(templates, tmp_path, "{% for i in range(100) %}{{ 'x' * 9000000 }}{% endfor %}")
    assert f"{bounds.MAX_PAGE:,}" in message, message


def test_the_shipped_report_renders_within_its_bounds(tmp_path):
    """The bounds leave the shipped templates alone (the full report of test_render's evaluation)."""
    page = render_html(_evaluation(), _context(tmp_path / "data"))
    assert "C11" in page and len(page) < bounds.MAX_PAGE


def test_a_long_word_is_typeset_in_linear_time():
    """Every printed string passes keep_formulas; its old pattern, (\\S+) before ' = ', tried every
    start inside a long word (quadratic: a printed 9-million-character word never finished)."""
    from vgreport.report.format import keep_formulas
    started = time.monotonic()
    assert keep_formulas("x" * 3_000_000 + " = 1") == "x" * 3_000_000 + "\u00a0=\u00a01"
    assert time.monotonic() - started < 5


def test_watchdog_exception_landing_in_a_gc_callback_is_sent_again_and_never_printed():
    """CI failed once when the watchdog's exception landed in a garbage-collector callback (one that
    hypothesis installs): Python printed "Exception ignored in ..." and dropped it. The budget drops
    that report (the watchdog sends the exception again) and the render still ends RenderTooSlow."""
    import gc
    import sys

    armed = [True]

    def slow_callback(phase, info):
        if armed:  # the first collection outlasts the budget, so the watchdog's exception lands here
            armed.pop()
            time.sleep(0.5)

    reports = []
    previous = sys.unraisablehook
    sys.unraisablehook = reports.append
    gc.callbacks.append(slow_callback)
    try:
        with pytest.raises(bounds.RenderTooSlow):
            with bounds.Budget(seconds=0.2):
                while True:
                    cycle = []
                    cycle.append(cycle)
    finally:
        gc.callbacks.remove(slow_callback)
        sys.unraisablehook = previous
    assert not armed
    assert reports == [], [r.exc_type for r in reports]


def test_the_budget_passes_on_other_unraisable_reports():
    import sys
    from types import SimpleNamespace

    reports = []
    previous = sys.unraisablehook
    sys.unraisablehook = reports.append
    try:
        with bounds.Budget(seconds=60) as spent:
            sys.unraisablehook(SimpleNamespace(exc_type=bounds.RenderTooSlow, exc_value=bounds.RenderTooSlow()))
            sys.unraisablehook(SimpleNamespace(exc_type=ValueError, exc_value=ValueError("x")))
        assert spent.exceeded is None
        assert sys.unraisablehook == reports.append  # put back
    finally:
        sys.unraisablehook = previous
    assert [r.exc_type for r in reports] == [ValueError]
