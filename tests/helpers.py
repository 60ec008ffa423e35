"""Helpers several test modules share (import them from here, never from another test module)."""
from __future__ import annotations

import contextlib
import functools
import re
from typing import Iterator

import pytest
from matplotlib.figure import Figure


@contextlib.contextmanager
def figures_drawn() -> Iterator[list[Figure]]:
    """Every matplotlib Figure saved as SVG inside the block (each chart's last step), wherever the
    chart lives: figures/charts.py or a finding's own figures.py."""
    drawn: list[Figure] = []
    original = Figure.savefig

    def save(fig, *args, **kwargs):
        drawn.append(fig)
        return original(fig, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Figure, "savefig", save)
        yield drawn


def drawn(make) -> Figure:
    """The matplotlib figure that `make()` draws (caught on its way to SVG)."""
    with figures_drawn() as caught:
        make()
    return caught[0]


# ------------------------------------------------------------- one finding's prose on a synthetic world

# A sentence chosen by a part's state or by the verdict (macros say / say_verdict).
MARK = re.compile(r'<span class="says" data-(part|verdict)="([^"]+)"(?: data-state="([^"]+)")?>(.*?)</span>', re.S)


def finding_worlds() -> list[tuple[str, str]]:
    """(finding id, world name) for each finding in the supporting world and in each of its own example
    worlds: what the prose tests render, one finding at a time (linear in the number of findings)."""
    from vgreport.findings import FINDINGS, examples_of
    return [(m.SPEC.id, "supported") for m in FINDINGS] + [
        (m.SPEC.id, e.name) for m in FINDINGS for e in examples_of(m) if e.world]


def world_of(rid: str, name: str) -> dict:
    """The overrides of a finding's example world ({} for the supporting world)."""
    from vgreport.findings import MODULES, examples_of
    if name == "supported":
        return {}
    module = next(m for m in MODULES if m.SPEC.id == rid)
    return next(e.world for e in examples_of(module) if e.name == name)


@functools.cache
def report_context(edition: str = "student"):
    """A ReportContext for rendering synthetic worlds with the shipped standard battery."""
    from vgreport.report.context import ReportContext
    from vgreport.report.counts import Counts
    from vgreport.specs import default_experiments_dir, load_battery
    battery = load_battery(default_experiments_dir(), "standard")
    return ReportContext(profile="standard", profile_description="test", measured_at="2026-01-01T00:00:00+00:00",
                         versions={"vgreport": "test"}, compute_seconds=1.0, counts=Counts(1, 1, 1, 0, (0, 1)),
                         experiments=list(battery.experiments), edition=edition)


_EVALUATED: dict[tuple, object] = {}
_RENDERED: dict[tuple, tuple[str, object]] = {}


def finding_block(rid: str, world: str = "supported", edition: str = "student", block: str = "findings",
                  **overrides) -> tuple[str, object]:
    """One block of the page ("findings": the finding's section; "glance") rendered from a synthetic
    world in which only finding `rid` is evaluated, and that finding's result. `world` names one of its
    example worlds; `overrides` are further world overrides (experiment -> builder arguments)."""
    from vgreport.findings import evaluate, synthetic
    from vgreport.report import document
    world_key = (rid, world, repr(sorted(overrides.items())))
    if world_key not in _EVALUATED:
        frame = synthetic.world(**{**world_of(rid, world), **overrides})
        _EVALUATED[world_key] = evaluate(frame, None, with_figures=False, ids=(rid,))
    evaluation = _EVALUATED[world_key]
    key = (*world_key, edition, block)
    if key not in _RENDERED:
        _RENDERED[key] = (document.render_html(evaluation, report_context(edition), block=block),
                          evaluation.findings[0])
    return _RENDERED[key]


def section(page: str, rid: str) -> str:
    """The section of finding `rid` in a rendered page or block."""
    start = page.index('<section class="finding')
    start = page.index(f'id="{rid}"', start)
    return page[start:page.find("</section>", start)]
