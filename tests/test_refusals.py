"""Input that used to be accepted without a word (issue 21): an empty --out, an empty battery, and
a length-10,000 cell that needs gigabytes without --allow-large."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from vgreport.cli import main
from vgreport.runner import MAX_CELL_BYTES, check_cost, estimate_bytes
from vgreport.specs import SpecError, load_battery, parse_overrides
from vgreport.tasks import input_size, sequence_length

import helpers

_one_line = helpers.one_line  # shared: tests/helpers.py


@pytest.mark.parametrize("command,option", [("build", "--out"), ("run", "--out"), ("clean", "--out"),
                                            ("build", "--cache"), ("build", "--experiments"),
                                            ("build", "--baseline"), ("build", "--templates")])
def test_an_empty_path_is_refused_instead_of_meaning_this_folder(tmp_path, command, option):
    """`--out ''` (an unset shell variable) wrote a build into the current folder."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        args = [command, *(["tiny"] if command == "run" else []), option, ""]
        line = _one_line(CliRunner().invoke(main, args), 2)
    finally:
        os.chdir(cwd)
    assert option in line and "empty path" in line
    assert list(tmp_path.iterdir()) == []


def test_an_empty_experiments_list_is_refused(tmp_path):
    battery = helpers.write(tmp_path / "battery", "experiments: []\n")
    line = _one_line(CliRunner().invoke(main, ["list", "--experiments", str(battery)]), 2)
    assert "length.yaml" in line and "empty list" in line


def _long_cells(arch: str | None = None):
    battery = load_battery(None, "standard", parse_overrides(["task.length=10000"]))
    return [c for c in battery.cells() if arch is None or c.model.arch == arch]


def test_the_memory_estimate_bounds_what_backpropagation_must_keep():
    """However rough, the estimate is never below the float32 hidden states the training graph must
    keep (batch x steps x hidden), plus the float64 probe's states and the held-out set's inputs:
    a lower bound from the shapes alone, for every cell of the standard battery at length 10,000."""
    for cell in _long_cells():
        steps = sequence_length(cell.task)
        floor = (4 * cell.train.batch * steps * cell.model.hidden + 8 * cell.probe.batch * steps * cell.model.hidden
                 + 4 * cell.train.eval_size * steps * input_size(cell.task))
        assert estimate_bytes(cell) >= floor, cell.label


def test_a_length_10000_cell_under_the_standard_profile_needs_allow_large():
    """Measured: a plain RNN cell of length 10,000 peaks at 4.5 GB (issue 21); every such cell is
    refused with a pointer to --allow-large, and allowed with it."""
    for cell in _long_cells("rnn")[:1] + _long_cells("gru")[:1]:
        assert estimate_bytes(cell) > MAX_CELL_BYTES
        with pytest.raises(SpecError, match="allow-large"):
            check_cost([cell], jobs=1)
        check_cost([cell], jobs=1, allow_large=True)


def test_every_shipped_profile_stays_within_the_memory_limit():
    for profile in ("smoke", "quick", "standard", "full"):
        battery = load_battery(None, profile)
        cells = [c for e in battery.experiments for c in e.cells(range(max((e.seeds, *e.seed_rounds))))]
        assert max(map(estimate_bytes, cells)) < MAX_CELL_BYTES / 2, profile  # a margin of 2 at least


def _memory_limit() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # as `prlimit --as=4G` sets it


def test_allow_large_past_a_process_memory_limit_ends_in_one_line(tmp_path):
    """--allow-large lifts the estimate's limit, not the machine's: a cell that needs more memory
    than the process may have (here 4.9 GiB at once for its held-out sequences, under a 4 GiB
    address-space limit) fails in its pool worker, and the build ends in one line naming the lack of
    memory, in seconds (it was never tested; with --jobs 1 the cell fails in the build's own process,
    the same way)."""
    import subprocess
    import sys
    import time

    battery = helpers.write(tmp_path / "battery")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "vgreport", "build", "--experiments", str(battery), "--profile", "smoke",
         "--out", str(tmp_path / "out"), "--format", "html", "--jobs", "2", "--allow-large",
         "--set", "train.eval_size=65536", "--set", "task.length=10000", "--set", "model.hidden=1024",
         "--set", "train.batch=1024"],
        capture_output=True, text=True, timeout=240, preexec_fn=_memory_limit)
    assert time.monotonic() - started < 120
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and done.stdout == "", (done.returncode, done.stderr)
    assert "out of memory" in lines[0] and "GiB" in lines[0], lines[0]
    assert not (tmp_path / "out" / "report.html").exists()


DOCS = Path(__file__).resolve().parents[1] / "docs"


def _number(pattern: str, text: str, where: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{where}: no {pattern!r}"
    return float(match.group(1).replace(",", ""))


def test_the_docs_state_the_limits_the_code_enforces():
    """docs/commands.md said a cell's memory limit was 8 GiB while the code (and docs/safety.md) said
    2 GiB: every limit the docs state is read back here and compared with its constant."""
    from vgreport import runner
    from vgreport.report import bounds, environment

    commands, safety = (DOCS / "commands.md").read_text(), (DOCS / "safety.md").read_text()
    assert _number(r"\| one cell's time \| (\d+) hours? of one core", commands, "commands.md") == \
        runner.MAX_CELL_SECONDS / 3600
    assert _number(r"\| the build's time \| (\d+) hours of one core", commands, "commands.md") == \
        runner.MAX_BUILD_SECONDS / 3600
    assert _number(r"\| one cell's memory \| (\d+) GiB", commands, "commands.md") == runner.MAX_CELL_BYTES / 2**30
    assert _number(r"within (\d+)% of this machine's memory", commands, "commands.md") == \
        runner.MAX_MEMORY_SHARE * 100
    assert _number(r"at most (\d+) MiB of UTF-8", commands, "commands.md") == environment.MAX_TEMPLATE_BYTES / 2**20
    assert _number(r"a cell estimated above (\d+) GiB", safety, "safety.md") == runner.MAX_CELL_BYTES / 2**30
    assert "above one\nhour of one core" in safety and runner.MAX_CELL_SECONDS == 3600
    assert "a build above a day of one core" in safety and runner.MAX_BUILD_SECONDS == 24 * 3600
    assert _number(r"or (\d+)% of the machine's memory", safety, "safety.md") == runner.MAX_MEMORY_SHARE * 100
    # the template bounds: each row of safety.md's table names its constant beside its value
    stated = {name: (float(value.replace(",", "")), unit) for value, unit, name in
              re.findall(r"(\d[\d,]*) ?(s|MiB)? \(`([A-Z_]+)`\)", safety)}
    constants = {name: getattr(bounds, name, None) or getattr(environment, name)
                 for name in ("MAX_STRING", "MAX_ITEMS", "MAX_INT_BITS", "MAX_RANGE_TOTAL", "MAX_LIPSUM_WORDS",
                              "MAX_TOJSON_INDENT", "MAX_PAGE", "RENDER_SECONDS", "RENDER_MEMORY",
                              "MAX_TEMPLATE_BYTES")}
    assert stated.keys() == constants.keys(), stated.keys() ^ constants.keys()
    for name, (value, unit) in stated.items():
        scale = 2**20 if unit == "MiB" else 1
        assert value * scale == constants[name], (name, value, unit, constants[name])
