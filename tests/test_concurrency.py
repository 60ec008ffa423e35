"""Two things at once (issue 29): two builds into one --out leave one whole edition, and --out and
--cache that share a folder are refused before `clean --keep-cache` could remove the cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vgreport.cli import main

import helpers

OUTPUTS = ("report.html", "metrics.csv", "cells.csv", "findings.json")  # of --format html (no PDF: faster)


# The CLI with its publishing made to interleave: the two builds of a trial meet before their first
# rename into --out (each waits up to MEET seconds for the other, by marker files), then one renames
# two outputs, pauses, and renames the rest, while the other starts its renames during that pause.
# Without the output lock that leaves the first two outputs from one edition and the rest from the
# other in every trial; with it, the second build waits for the lock and never meets the first.
INTERLEAVED_PUBLISHING = """
import os, sys, time
from pathlib import Path
import vgreport.api, vgreport.store
real = vgreport.store.move_into
meet, me, early = Path(os.environ["RACE_MEET"]), os.environ["RACE_ME"], os.environ["RACE_ROLE"] == "early"
calls = []
def move_into(out, staged):
    calls.append(out)
    if len(calls) == 1:  # the outputs (the manifest follows in a second call)
        (meet / me).touch()
        deadline = time.monotonic() + float(os.environ["RACE_MEET_SECONDS"])
        while len(list(meet.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        if not early:
            time.sleep(0.2)  # inside the early build's pause
    moved = {}
    for n, (kind, path) in enumerate(staged.items()):
        if early and len(calls) == 1 and n == 2:
            time.sleep(0.6)
        moved.update(real(out, {kind: path}))
    return moved
vgreport.store.move_into = vgreport.api.move_into = move_into
from vgreport.cli import main
sys.exit(main(sys.argv[1:], prog_name="vgreport"))
"""
MEET_SECONDS = 1.0  # with the lock, the first build waits this long for the other in vain


def _vgreport(*args: str, race: dict | None = None) -> subprocess.Popen:
    command = ["-c", INTERLEAVED_PUBLISHING] if race else ["-m", "vgreport"]
    env = {**os.environ, **race, "RACE_MEET_SECONDS": str(MEET_SECONDS)} if race else None
    return subprocess.Popen([sys.executable, *command, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _finished(process: subprocess.Popen) -> tuple[int, str]:
    """Exit status and stderr of a process started by _vgreport."""
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


def _edition(folder: Path) -> dict:
    """What identifies an edition: the bytes of each output, and the seed base manifest.json names
    (the manifest also holds the build's times, so its bytes differ between two builds)."""
    files = {name: (folder / name).read_bytes() for name in OUTPUTS}
    return {**files, "seed_base": json.loads((folder / "manifest.json").read_text())["options"]["seed_base"]}


@pytest.mark.slow
def test_two_builds_into_one_out_leave_one_whole_edition(tmp_path):
    """Seed bases 0 and 5, both fully cached (cells and reports), built into one fresh --out at the
    same moment, their renames into --out interleaved (INTERLEAVED_PUBLISHING), each build early in
    one trial and late in another: each time both exit 0 and every output, manifest included, comes
    from one of the two editions. Without the output lock (issue 29's code before it) every trial
    left a mixed folder; with random pauses instead, 1 trial in 15 without them."""
    battery = helpers.write(tmp_path / "battery", helpers.experiments(helpers.experiment(variants={"tanh": "{}"})))
    cache = tmp_path / "cache"
    common = ["build", "--experiments", str(battery), "--profile", "smoke", "--cache", str(cache), "--jobs", "1",
              "--format", "html", "-q"]
    # warm the cell cache and the report cache of both editions (side by side: one each per core)
    warming = {base: _vgreport(*common, "--out", str(tmp_path / f"ref{base}"), "--seed-base", str(base))
               for base in (0, 5)}
    assert all(_finished(build) == (0, "") for build in warming.values())
    references = {base: _edition(tmp_path / f"ref{base}") for base in warming}
    assert references[0]["findings.json"] != references[5]["findings.json"]
    for trial, early in enumerate(("0", "5")):
        out, meet = tmp_path / f"race{trial}", tmp_path / f"meet{trial}"
        meet.mkdir()
        builds = [_vgreport(*common, "--out", str(out), "--seed-base", base,
                            race={"RACE_MEET": str(meet), "RACE_ME": base, "RACE_ROLE": "early" if base == early else "late"})
                  for base in ("0", "5")]
        for build in builds:
            assert _finished(build) == (0, "")
        edition = _edition(out)
        assert edition in (references[0], references[5]), (
            trial, {name: [b for b, ref in references.items() if ref[name] == edition[name]] for name in edition})
        assert not list(out.glob(".staging-*")) and not list(out.glob("*.tmp"))


def test_out_and_cache_in_one_folder_are_refused_before_anything_is_written(tmp_path):
    """build --out kc --cache kc used to share one manifest, so `clean --keep-cache` removed every
    cached cell: refused now in one line, exit 2, before training; so are --out inside --cache and
    a --cache inside --out other than OUT/cache (the default, which clean tells apart)."""
    battery = helpers.write(tmp_path / "battery")
    folder = tmp_path / "kc"
    for out, cache in ((folder, folder), (folder / "out", folder), (folder, folder / "cells")):
        result = CliRunner().invoke(main, ["build", "--experiments", str(battery), "--profile", "smoke",
                                           "--out", str(out), "--cache", str(cache), "--format", "html"])
        line = helpers.one_line(result, 2)
        assert "--out" in line and "--cache" in line, line
        assert not folder.exists()
    # the default layout and its explicit spelling are the supported nesting
    ok = CliRunner().invoke(main, ["build", "--experiments", str(battery), "--profile", "smoke", "--jobs", "1",
                                   "--out", str(folder), "--cache", str(folder / "cache"), "--format", "html", "-q"])
    assert ok.exit_code == 0, ok.output


def test_clean_keep_cache_never_removes_a_cache_that_shares_the_out_folder(tmp_path):
    """A cache written into the output folder itself (by `run`, or by a build before this check):
    `clean --keep-cache` refuses in one line, exit 2, and every cached cell is still there."""
    battery = helpers.write(tmp_path / "battery")
    folder = tmp_path / "kc"
    run = CliRunner().invoke(main, ["run", "tiny", "--experiments", str(battery), "--profile", "smoke",
                                    "--cache", str(folder), "--out", str(folder), "--jobs", "1", "-q"])
    assert run.exit_code == 0, run.output
    entries = sorted(folder.glob("*/*.json"))
    assert entries
    line = helpers.one_line(CliRunner().invoke(main, ["clean", "--out", str(folder), "--cache", str(folder),
                                                        "--keep-cache"]), 2)
    assert "same folder" in line, line
    assert sorted(folder.glob("*/*.json")) == entries
    # without --keep-cache both are asked to go, and do
    assert CliRunner().invoke(main, ["clean", "--out", str(folder), "--cache", str(folder)]).exit_code == 0
    assert not folder.exists()
