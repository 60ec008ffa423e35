"""Nothing outside the folders vgreport owns: no write, replace or delete through a symbolic link,
and cache reads that accept plain files only (a FIFO or a link to /dev/zero never blocks or fills
memory). Each test reproduces an attack of issue 21 that succeeded before the fix."""
from __future__ import annotations

import json
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from vgreport.cli import main
from vgreport.runner import execute
from vgreport.store import Cache, Manifest, UnsafePathError, cell_key, read_regular, remove_stale_staging

import helpers


@contextmanager
def _deadline(seconds: int):
    """Fail (instead of hanging the suite) when the block takes longer than `seconds`."""
    def expired(signum, frame):
        raise TimeoutError(f"still blocked after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_one_line = helpers.one_line  # shared: tests/helpers.py


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder of the user's that no command here may touch, with a precious file in it."""
    folder = tmp_path / "V"
    folder.mkdir()
    (folder / "precious.txt").write_text("mine")
    return folder


def test_clean_keep_cache_never_deletes_through_a_symlinked_subfolder(tmp_path, outside):
    """The reproduction: O/sub -> ../V, a manifest naming sub/precious.txt; clean refuses in one
    line (exit 2) and V/precious.txt survives."""
    out = tmp_path / "O"
    out.mkdir()
    os.symlink("../V", out / "sub")
    (out / Manifest.NAME).write_text(json.dumps({"files": ["sub/precious.txt"], "folders": ["sub", "."]}))
    line = _one_line(CliRunner().invoke(main, ["clean", "--out", str(out), "--keep-cache"]), 2)
    assert "sub" in line and "symbolic link" in line
    assert (outside / "precious.txt").read_text() == "mine"
    assert (out / "sub").is_symlink()


def test_a_manifest_entry_that_is_itself_a_link_is_refused_and_its_target_kept(tmp_path, outside):
    out = tmp_path / "O"
    out.mkdir()
    os.symlink(outside / "precious.txt", out / "report.pdf")
    (out / Manifest.NAME).write_text(json.dumps({"files": ["report.pdf"], "folders": []}))
    line = _one_line(CliRunner().invoke(main, ["clean", "--out", str(out), "--keep-cache"]), 2)
    assert "report.pdf" in line
    assert (outside / "precious.txt").read_text() == "mine"


def test_a_symlinked_cache_shard_receives_no_entry(tmp_path, outside, tiny_cell):
    """A shard folder (cache/ab/) that is a link to a folder outside: the build refuses in one
    line instead of writing the cell's entry there."""
    cell = tiny_cell(train={"steps": 2})
    cache = Cache(tmp_path / "cache")
    cache.root.mkdir()
    os.symlink(outside, cache.root / cell_key(cell)[:2])
    with pytest.raises(UnsafePathError, match="symbolic link"):
        execute([cell], cache, progress=False)
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_a_symlinked_shard_is_one_line_exit_2_from_the_cli(tmp_path, outside):
    battery = helpers.write(tmp_path / "battery", helpers.experiments(helpers.experiment(variants={"tanh": "{}"})))
    cache = tmp_path / "cache"
    args = ["run", "tiny", "--experiments", str(battery), "--cache", str(cache), "--out", str(tmp_path / "out"),
            "--jobs", "1"]
    assert CliRunner().invoke(main, args).exit_code == 0
    shard = next(p for p in cache.iterdir() if p.is_dir() and len(p.name) == 2)
    for entry in shard.iterdir():
        entry.unlink()
    shard.rmdir()
    os.symlink(outside, shard)
    line = _one_line(CliRunner().invoke(main, args), 2)
    assert shard.name in line
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_a_folder_where_a_cache_entry_belongs_is_exit_2_naming_it_before_training(tmp_path, monkeypatch):
    """The cell used to be trained, then fail to be stored with exit 1 naming a temporary file, on
    every build: refused now before training, exit 2, naming the entry; the folder is kept."""
    from vgreport import api
    battery = helpers.write(tmp_path / "battery", helpers.experiments(helpers.experiment(variants={"tanh": "{}"})))
    cache = tmp_path / "cache"
    args = ["--experiments", str(battery), "--cache", str(cache), "--out", str(tmp_path / "out"), "--jobs", "1"]
    assert CliRunner().invoke(main, ["run", "tiny", *args]).exit_code == 0
    entry = next(cache.glob("??/*.json"))
    entry.unlink()
    entry.mkdir()
    (entry / "mine.txt").write_text("kept")

    def trained(*a, **k):
        raise AssertionError("a cell was trained before the folder was found")
    monkeypatch.setattr(api, "execute", trained)
    for command in (["run", "tiny"], ["build", "--format", "html"]):
        line = _one_line(CliRunner().invoke(main, [*command, *args]), 2)
        assert str(entry) in line and "folder" in line and ".tmp" not in line, line
    assert (entry / "mine.txt").read_text() == "kept"


def test_a_symlinked_manifest_lock_creates_nothing_outside(tmp_path):
    """.vgreport-manifest.lock -> a file outside that does not exist yet: vgreport would have
    created it; now it refuses in one line and nothing appears."""
    out = tmp_path / "O"
    out.mkdir()
    target = tmp_path / "created-outside"
    os.symlink(target, out / Manifest.LOCK)
    with pytest.raises(UnsafePathError, match="lock"):
        Manifest(out).add(files=["report.html"])
    assert not os.path.lexists(target)


def test_clean_reports_only_what_it_removed_and_never_a_symlinked_staging_folder(tmp_path, outside):
    out = tmp_path / "O"
    out.mkdir()
    os.symlink(outside, out / ".staging-evil")
    (out / ".staging-stale").mkdir()  # a killed build's: nobody holds its lock
    (out / ".staging-stale" / "report.pdf").write_text("half")
    removed = remove_stale_staging(out)
    assert removed == [out / ".staging-stale"]
    assert (out / ".staging-evil").is_symlink() and (outside / "precious.txt").read_text() == "mine"
    result = CliRunner().invoke(main, ["clean", "--out", str(out), "--keep-cache"])
    assert result.exit_code == 0 and "staging-evil" not in result.output


def test_read_regular_refuses_a_fifo_a_link_to_dev_zero_and_an_oversized_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "zero"
    os.symlink("/dev/zero", link)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with _deadline(10):
        for path, reason in ((fifo, "FIFO"), (link, "symbolic link"), (Path("/dev/zero"), "character device"),
                             (big, "over the limit")):
            with pytest.raises(OSError, match=reason):
                read_regular(path, max_bytes=100)
    assert read_regular(big, max_bytes=101) == b"x" * 101


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_special_cache_entry_is_recomputed_with_a_warning_without_blocking(tmp_path, tiny_cell, kind):
    """A cache entry that is a FIFO blocked render for minutes; a link to /dev/zero grew the process
    to 3 GB. Both are now damaged entries: a one-line warning, and the cell is computed again."""
    cell = tiny_cell(train={"steps": 2})
    cache = Cache(tmp_path / "cache")
    path = cache.path(cell_key(cell))
    path.parent.mkdir(parents=True)
    os.mkfifo(path) if kind == "fifo" else os.symlink("/dev/zero", path)
    with _deadline(60):
        assert cache.get(cell_key(cell)) is None
        assert len(cache.warnings) == 1 and str(path) in cache.warnings[0]
        assert "computing it again" in cache.warnings[0]
        records, summary = execute([cell], cache, progress=False)
    assert summary.computed == 1 and records
    assert path.is_file() and not path.is_symlink() and Cache(cache.root).get(cell_key(cell)) is not None


def test_render_over_a_fifo_entry_ends_in_one_line_instead_of_hanging(tmp_path):
    battery = helpers.write(tmp_path / "battery", helpers.experiments(helpers.experiment(variants={"tanh": "{}"})))
    cache = tmp_path / "cache"
    args = ["--experiments", str(battery), "--cache", str(cache), "--out", str(tmp_path / "out")]
    assert CliRunner().invoke(main, ["run", "tiny", *args, "--jobs", "1"]).exit_code == 0
    entry = next(cache.glob("??/*.json"))
    entry.unlink()
    os.mkfifo(entry)
    with _deadline(60):
        result = CliRunner().invoke(main, ["render", *args, "--format", "html"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "FIFO" in result.output and "not in the cache" in result.output
