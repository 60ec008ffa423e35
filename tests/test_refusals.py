"""Input that used to be accepted without a word (issue 21): an empty --out, an empty battery, and
a length-10,000 cell that needs gigabytes without --allow-large."""
from __future__ import annotations

import os

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
