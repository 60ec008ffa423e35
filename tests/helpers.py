"""Helpers several test modules share (import them from here, never from another test module): tiny
batteries for the tests that build, run or parse (the profiles and the experiment every such test
starts from, written once here) and the comparison of records that ignores what a cell cost; the
matplotlib figures a chart draws; one finding's prose rendered from a synthetic world."""
from __future__ import annotations

import contextlib
import functools
import math
import re
from pathlib import Path
from typing import Iterator

import pytest
from matplotlib.figure import Figure

from vgreport.findings import Evaluation, Part, Result
from vgreport.findings import Figure as ResultFigure
from vgreport.report.context import ReportContext
from vgreport.report.counts import Counts
from vgreport.specs import default_experiments_dir, load_battery

# ------------------------------------------------------------- tiny batteries

# Metrics that measure the machine, not the network: they differ between two runs of the same cell.
TIMING = {"steps_per_second", "wall_seconds"}


def comparable(records, timing: bool = False) -> list[tuple]:
    """Each record's values as a tuple, NaN made comparable (NaN != NaN); without the timing
    metrics unless `timing`."""
    return [tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in r.values())
            for r in records if timing or r["metric"] not in TIMING]


def profiles(**entries: int | str) -> str:
    """profiles.yaml with the four profiles a battery needs, one seed each unless given: an int is
    a seed count, a string the profile's whole flow mapping ("{seeds: 2, training_seeds: [2, 3]}")."""
    entries = {"smoke": 1, "quick": 1, "standard": 1, "full": 1, **entries}
    return "".join(f"{name}: {value if isinstance(value, str) else '{seeds: %d}' % value}\n"
                   for name, value in entries.items())


TANH_AND_LSTM = {"tanh": "{}", "lstm": "{model: {arch: lstm}}"}


def experiment(name: str = "tiny", title: str = "A tiny RNN", *, hidden: int = 4, length: int = 5,
               train: str = "{steps: 4, eval_every: 2, log_every: 2, eval_size: 16}",
               probe: str | None = "{batch: 4, jacobian_samples: 1}",
               variants: dict[str, str] | None = TANH_AND_LSTM, extra: str = "") -> str:
    """One experiment of an experiments file (a list item), a plain tanh RNN on 3-class recall;
    `extra` adds lines at the end of it (a sweep, profiles)."""
    lines = [f"  - name: {name}", f'    title: "{title}"',
             f"    model: {{arch: rnn, activation: tanh, hidden: {hidden}}}",
             f"    task: {{name: recall, length: {length}, classes: 3}}", f"    train: {train}"]
    if probe is not None:
        lines.append(f"    probe: {probe}")
    if variants:
        lines.append("    variants:")
        lines += [f"      {variant}: {override}" for variant, override in variants.items()]
    return "\n".join(lines) + "\n" + extra


def experiments(*items: str) -> str:
    """An experiments file holding these experiments (default: the tiny one)."""
    return "experiments:\n" + "".join(items or (experiment(),))


# Spec tests spoil this text by replacing parts of it: a battery that parses and builds in seconds.
SPEC_PROFILES = profiles(smoke="{seeds: 1, steps_scale: 0.5, length_cap: 6, set: {model: {hidden: 4}}}",
                         quick=2, standard=3, full=4)
SPEC_EXPERIMENT = experiments(experiment(hidden=8, length=10, train="{steps: 40, eval_every: 10, log_every: 4}",
                                         probe=None))


def write(folder: Path, experiments_file: str | None = None, profiles_file: str | None = None,
          file: str = "length.yaml") -> Path:
    """The battery folder: profiles.yaml and one experiments file (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yaml").write_text(profiles() if profiles_file is None else profiles_file)
    (folder / file).write_text(experiments() if experiments_file is None else experiments_file)
    return folder


def one_line(result, code: int) -> str:
    """The single non-blank line a CLI run printed, after checking its exit status and that no
    traceback leaked (the one-line-error rule every refusal follows)."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


# The tiny battery of the CLI, edition and handout tests: the tiny experiment, two seeds.
TINY_PROFILES = profiles(standard=2, full=2)
TINY_EXPERIMENT = experiments()

# The sequential design's battery (tests/test_looks.py, test_dask_failures.py): a training experiment
# with looks of 2, 3 and 4 seeds, and one measured at initialisation only.
LOOKS_PROFILES = profiles(quick=2, standard="{seeds: 2, training_seeds: [2, 3, 4]}", full=2)
LOOKS_EXPERIMENTS = experiments(
    experiment(variants={"tanh": "{}", "relu": "{model: {activation: relu}}"}),
    experiment("at_init", "Gradients at initialisation", train="{steps: 0}", variants=None))


class Pending:
    """What findings.evaluate returns in the looks' tests: these configurations still undetermined."""

    def __init__(self, configs):
        self.configs = configs

    def undetermined(self):
        return self.configs


# ------------------------------------------------------------- figures

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


# ------------------------------------------------------------- hand-made findings for the document stage

MEASURED_AT = "2026-03-14T09:26:53+00:00"


def fake_svg(label: str, colour: str = "#0072b2") -> str:
    """A small SVG in the shape matplotlib writes (ids, a clip path, style attributes, a * rule)."""
    return (
        '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="300pt" height="120pt" viewBox="0 0 300 120" '
        'xmlns="http://www.w3.org/2000/svg" version="1.1">\n'
        ' <defs>\n  <style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style>\n </defs>\n'
        f' <g id="figure_1"><path d="M 0 120 L 300 120 L 300 0 L 0 0 z" style="fill: #ffffff"/>\n'
        f'  <path d="M 20 20 L 280 100" clip-path="url(#clip1)" style="fill: none; stroke: {colour}; stroke-width: 2"/>\n'
        f'  <text x="150" y="115" style="font-size: 12px">{label}</text></g>\n'
        ' <defs><clipPath id="clip1"><rect x="10" y="10" width="280" height="100"/></clipPath></defs>\n</svg>\n')


def hand_made_result(rid, title, claim, verdict, criterion, **kwargs) -> Result:
    """A hand-made finding whose headline is its title, with one part per verdict word."""
    state = {"supported": True, "refuted": False}.get(verdict)
    parts = [] if "missing" in kwargs.get("numbers", {}) else [Part("a", f"{title} (part a)", state, detail="measured")]
    return Result(rid, "finding", title, claim, verdict, criterion, headline=title, parts=parts, **kwargs)


def hand_made_evaluation() -> Evaluation:
    return Evaluation(findings=hand_made_findings())


def hand_made_findings() -> list[Result]:
    return [
        hand_made_result("C11", "Products of Jacobians shrink the gradient", "The gradient is a product of Jacobians.",
                "supported", "Supported when the explicit product matches autograd to 1e-6.",
                numbers={"rate": -0.0441, "interval": {"lo": -0.0472, "hi": -0.041}, "cells": 1234},
                seeds=[0, 1, 2], experiments=["activation"],
                figures=[ResultFigure("decay", fake_svg("decay"), "Gradient norm against distance.", "Decay: rate −0.0441 per step."),
                         ResultFigure("rates", fake_svg("rates", "#d55e00"), "Rates per activation.", "Rates: tanh −0.044, sigmoid −1.44.")],
                reason="largest relative error 3e-15"),
        hand_made_result("C12", "Short dependencies are learned, long ones are not", "A plain RNN learns short spans only.",
                "supported so far", "Supported when accuracy is above chance + 0.1 at T=10 and at chance at T=100.",
                numbers={"accuracy": {"T10": 0.97, "T100": 0.126}, "lengths": [10, 30, 100], "steps": 1500},
                seeds=[0, 1, 2], experiments=[e.name for e in smoke_battery().experiments],
                figures=[ResultFigure("accuracy", fake_svg("accuracy", "#009e73"), "Accuracy against length.",
                                "Accuracy falls from 0.97 at T = 10 to chance at T = 100.")],
                reason="learned at T=10; undetermined at T=100"),
        hand_made_result("C13", "Clipping tames exploding gradients", "Clipping prevents divergence.", "refuted",
                "Supported when clipped runs never diverge.", numbers={"missing": "'clip_exploding' ran 1 seed"},
                seeds=[0], experiments=["clip_exploding"], reason="3 of 3 clipped runs diverged"),
        hand_made_result("G9", "Gate initialisation decides", "Chrono init lets an LSTM learn.", "inconclusive",
                "Supported when the chrono LSTM learns and the default does not.", numbers={"chrono": 0.99},
                seeds=[0, 1], experiments=["architecture"],
                figures=[ResultFigure("gates", fake_svg("gates", "#cc79a7"), "Accuracy per gate initialisation.",
                                "Chrono LSTM 0.99, default LSTM 0.12.")],
                reason="intervals straddle the threshold"),
    ]


@functools.cache
def smoke_battery():
    return load_battery(default_experiments_dir(), "smoke")


def hand_made_context(folder: Path, paper: str = "a4") -> ReportContext:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.csv").write_text("experiment,metric,value\nactivation,rate,-0.0441\n")
    (folder / "findings.json").write_text('{"findings": []}\n')
    battery = smoke_battery()
    return ReportContext(
        profile="smoke", profile_description=battery.profile_spec.description, measured_at=MEASURED_AT,
        versions={"vgreport": "0.1.0", "python": "3.11", "torch": "2.13.0", "weasyprint": "70.0"},
        compute_seconds=42.0, counts=Counts(50, 20, 40, 10, (0, 1, 2)), experiments=list(battery.experiments), paper=paper,
        attachments=[folder / "metrics.csv", folder / "findings.json"])
