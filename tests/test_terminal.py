"""What a terminal or a log sees: progress that fits the width, a line per stage and at most one
progress line a minute without a terminal, quiet closed pipes, help that points to pages that exist,
every profile documented, and `vgreport prune`."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from vgreport import api, cli, runner
from vgreport.cli import main
from vgreport.specs import default_experiments_dir, load_battery
from vgreport.store import Cache, cell_key

ROOT = Path(__file__).resolve().parent.parent


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_stage_spinner_fits_an_80_column_terminal(monkeypatch):
    """Each redraw of the spinner is at most the terminal's width less one column (never a wrapped line,
    which would scroll the terminal), however long the stage's text; closing clears exactly that width."""
    screen = _Terminal()
    monkeypatch.setattr(cli.sys, "stderr", screen)
    monkeypatch.setattr(cli.shutil, "get_terminal_size", lambda fallback=None: __import__("os").terminal_size((80, 24)))
    stages = cli._Stages(verbosity=1)
    stages("drawing the figures and writing HTML and PDF " + "x" * 200)
    time.sleep(0.5)
    stages.close()
    frames = [f for f in screen.getvalue().split("\r") if f]
    assert len(frames) >= 2 and all(len(f) <= 79 for f in frames), [len(f) for f in frames]
    assert any("drawing the figures" in f for f in frames) and frames[-1] == " " * 79


def test_without_a_terminal_each_stage_is_one_line(monkeypatch):
    """In a log (stderr not a terminal) there is no spinner: one line per stage, nothing redrawn."""
    log = io.StringIO()
    monkeypatch.setattr(cli.sys, "stderr", log)
    stages = cli._Stages(verbosity=1)
    stages("evaluating the findings")
    stages("drawing the figures and writing HTML and PDF")
    stages.close()
    assert stages.thread is None and "\r" not in log.getvalue()
    assert log.getvalue().splitlines() == ["evaluating the findings ...",
                                           "drawing the figures and writing HTML and PDF ..."]


def test_without_a_terminal_training_says_where_it_is(monkeypatch):
    """The log's progress line: the cells done, the cells left and the time left, estimated from the
    estimated cost of what is done (no estimate before the first cell); none once every cell is done."""
    clock = [1000.0]
    log = io.StringIO()
    lines = runner._Lines(cells=10, total=1000, interval=3600, stream=log, clock=lambda: clock[0])
    clock[0] += 50
    lines.line()  # nothing done yet
    for step in range(3):  # a cell every 20 s, each costing 100 of the 1000
        clock[0] += 20
        lines.update(100, 1)
    lines.line()
    clock[0] += 40
    lines.update(700, 7)
    lines.line()  # all done: quiet
    lines.close()
    assert log.getvalue().splitlines() == [
        "training: 0 of 10 cells done, 10 left, no estimate yet (50 s so far)",
        "training: 3 of 10 cells done, 7 left, about 4 min left (2 min so far)"]


def test_without_a_terminal_the_progress_line_comes_at_most_once_an_interval():
    """A timer prints it once per interval, the first after one interval, even while no cell finishes (a long
    first cell); closing stops it."""
    log = io.StringIO()
    lines = runner._Lines(cells=5, total=500, interval=0.2, stream=log)
    time.sleep(0.1)
    assert log.getvalue() == ""  # not before the first interval
    time.sleep(0.55)
    lines.close()
    printed = log.getvalue().splitlines()
    assert 2 <= len(printed) <= 3 and all(p.startswith("training: 0 of 5 cells done, 5 left") for p in printed)
    time.sleep(0.3)
    assert log.getvalue().splitlines() == printed  # closed: no more lines


def test_the_progress_is_a_bar_on_a_terminal_and_lines_in_a_log(monkeypatch):
    """The runner chooses: tqdm's bar (resized with the terminal) where stderr is a terminal, lines where not."""
    monkeypatch.setattr(runner.sys, "stderr", _Terminal())
    bar = runner._progress(True, 3, 300)
    assert isinstance(bar, runner._Bar) and bar.bar.dynamic_ncols
    bar.close()
    monkeypatch.setattr(runner.sys, "stderr", io.StringIO())
    lines = runner._progress(True, 3, 300)
    assert isinstance(lines, runner._Lines)
    lines.close()
    assert isinstance(runner._progress(False, 3, 300), runner._Silent)


def _edition(path: Path, verdict: str) -> Path:
    path.write_text(json.dumps({"profile": "smoke", "measured_at": "2026-11-01T10:00:00+00:00",
                                "findings": [{"id": "C4", "title": "t", "verdict": verdict}]}))
    return path


@pytest.mark.parametrize("command,status", [(["list", "--profile", "standard"], 0),
                                            (["diff", "OLD", "NEW", "--all"], 0),
                                            (["diff", "OLD", "FLIP", "--all"], 1)])
def test_a_closed_pipe_ends_quietly(tmp_path, command, status):
    """`vgreport list | head -1`: when the reader has closed the pipe, no 'Broken pipe' error and no
    traceback; the exit status is the command's own (0, or 1 for a diff whose verdict flipped)."""
    editions = {"OLD": _edition(tmp_path / "old.json", "supported"), "NEW": _edition(tmp_path / "new.json", "supported"),
                "FLIP": _edition(tmp_path / "flip.json", "refuted")}
    args = [str(editions.get(a, a)) for a in command]
    process = subprocess.Popen([sys.executable, "-m", "vgreport", *args, "--out", str(tmp_path / "b")]
                               if command[0] == "list" else [sys.executable, "-m", "vgreport", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    process.stdout.close()  # the reader is gone before the first line is written
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=120) == status, stderr
    assert stderr == "", stderr


def test_diff_quiet_prints_only_the_changes(tmp_path):
    """`diff -q` (help: only results) prints one line per change and nothing around them."""
    old, flip = _edition(tmp_path / "old.json", "supported"), _edition(tmp_path / "flip.json", "refuted")
    result = CliRunner().invoke(main, ["diff", "-q", str(old), str(flip)])
    assert result.exit_code == 1
    assert result.output == "finding  C4    supported -> refuted  (t)  [support lost; not marked thin or fragile in either edition]\n"


def _help_texts() -> list[str]:
    texts = [main.help or ""]
    for command in main.commands.values():
        texts.append(command.help or "")
        texts += [p.help or "" for p in command.params if isinstance(p, click.Option)]
    return texts


def test_help_points_only_to_pages_and_sections_that_exist():
    """Every docs page a --help text names exists, and the section it names is a heading there; no help
    text sends the reader to a README section (the README is a front door, not a reference)."""
    pointers = [m for text in _help_texts() for m in re.finditer(r"(docs/[\w.-]+\.md)(?:, (\w[\w ]*))?", text)]
    assert pointers, "no help text points to the docs"
    for pointer in pointers:
        page = ROOT / pointer.group(1)
        assert page.is_file(), pointer.group(0)
        if pointer.group(2):
            assert re.search(rf"^#+ {re.escape(pointer.group(2))}\b", page.read_text(), re.M), pointer.group(0)
    assert not [t for t in _help_texts() if "README" in t]


def test_every_profile_is_offered_and_documented():
    """Each profile of the shipped profiles.yaml is named in --profile's help, in docs/commands.md and in
    docs/battery.md."""
    profiles = list(yaml.safe_load((default_experiments_dir() / "profiles.yaml").read_text()))
    assert {"smoke", "quick", "standard", "full", "gpu"} <= set(profiles)
    help_text = cli.profile_option(lambda: None).__click_params__[0].help
    commands, battery = (ROOT / "docs" / "commands.md").read_text(), (ROOT / "docs" / "battery.md").read_text()
    for name in profiles:
        assert name in help_text, name
        assert f"`{name}`" in commands, f"docs/commands.md does not name profile {name}"
        assert f"`{name}`" in battery, f"docs/battery.md does not name profile {name}"


def test_prune_keeps_the_batterys_cells_and_removes_the_rest(tmp_path):
    """`vgreport prune` removes the cached cells the profile does not use (another code version's,
    another battery's) and their temp files, keeps the profile's, and never touches a file vgreport did
    not record."""
    cache = Cache(tmp_path / "cache")
    cells = load_battery(default_experiments_dir(), "smoke").cells()
    used, stale = cell_key(cells[0]), "ab" + "0" * 62
    for key in (used, stale):
        cache.manifest.make_folders(key[:2])
        cache.manifest.add(files=[f"{key[:2]}/{key}.json"])
        cache.path(key).write_text("{}")
    (cache.path(stale).parent / f".{stale}.json.1234.tmp").write_text("half")
    mine = cache.root / "ab" / "notes.json"
    mine.write_text("the user's")
    result = CliRunner().invoke(main, ["prune", "--profile", "smoke", "--cache", str(cache.root)])
    assert result.exit_code == 0, result.output
    assert "removed 2 file(s) of cells that profile smoke does not use" in result.output  # the entry, its temp file
    assert cache.path(used).is_file() and not cache.path(stale).exists() and mine.is_file()
    assert not list(cache.path(stale).parent.glob("*.tmp"))
    assert f"{stale[:2]}/{stale}.json" not in cache.manifest.read()["files"]
    assert api.prune("smoke", cache_dir=cache.root) == []  # a second prune has nothing left to do
