"""The store: entries checked on read, the report cache's manifest, clean by recorded names,
staging folders of killed builds, and a report cache that cannot fail a complete build."""
from __future__ import annotations

import errno
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from vgreport import store
from vgreport.cli import main
from vgreport.runner import execute
from vgreport.schema import RECORD_COLUMNS
from vgreport.store import Cache, Manifest, ReportCache, cell_key, remove_stale_staging, staging
from vgreport.verdicts import REPORT_VERDICTS

import helpers
from helpers import comparable


@pytest.fixture
def tiny_battery(tmp_path):
    return helpers.write(tmp_path / "battery", helpers.experiments(helpers.experiment(variants={"tanh": "{}"})))


def _tree(root) -> set:
    """Every file and folder under root, relative, with the manifest vgreport keeps there."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _stored(tmp_path, tiny_cell):
    cache, cell = Cache(tmp_path / "cache"), tiny_cell(train={"steps": 2})
    execute([cell], cache, progress=False)
    return cache, cell, cache.path(cell_key(cell))


def test_a_flipped_digit_inside_a_value_is_detected_and_recomputed(tmp_path, tiny_cell):
    """Changing one digit of one record's value makes the entry damaged: it is recomputed, and
    the recomputed records carry the true value again."""
    cache, cell, path = _stored(tmp_path, tiny_cell)
    text = path.read_text()
    original = cache.get(cell_key(cell))
    match = re.search(r'"value": (\d+)\.(\d)', text)
    digit = match.group(2)
    flipped = text[:match.start(2)] + str((int(digit) + 1) % 10) + text[match.end(2):]
    path.write_text(flipped)
    assert json.loads(flipped) != json.loads(text)  # still valid JSON: only the digest can tell
    assert cache.entry(cell_key(cell)) is None
    records, summary = execute([cell], cache, progress=False)
    assert (summary.computed, summary.cached) == (1, 0)
    assert comparable(records) == comparable(original)


def _entry_variants(entry: dict) -> dict:
    """Valid JSON documents of the wrong shape, each from a sound entry."""
    record = entry["records"][0]
    return {
        "no_records": {"records": []},
        "empty_records": {**entry, "records": []},
        "records_of_numbers": {**entry, "records": [1, 2, 3]},
        "record_missing_a_column": {**entry, "records": [{k: v for k, v in record.items() if k != "value"}]},
        "another_cells_entry": {**entry, "key": "0" * 64},
        "no_digest": {k: v for k, v in entry.items() if k != "records_sha256"},
        "a_record_dropped": {**entry, "records": entry["records"][1:]},
    }


@pytest.mark.parametrize("variant", ["no_records", "empty_records", "records_of_numbers", "record_missing_a_column",
                                     "another_cells_entry", "no_digest", "a_record_dropped"])
def test_valid_json_of_the_wrong_shape_is_a_damaged_entry(tmp_path, tiny_cell, variant):
    """An entry with no records, records that are not records, another cell's key, no digest or a
    dropped record is never used: the cell is computed again."""
    cache, cell, path = _stored(tmp_path, tiny_cell)
    entry = json.loads(path.read_text())
    path.write_text(json.dumps(_entry_variants(entry)[variant]))
    assert cache.entry(cell_key(cell)) is None
    records, summary = execute([cell], cache, progress=False)
    assert (summary.computed, summary.cached) == (1, 0) and records
    assert comparable(cache.entry(cell_key(cell))["records"]) == comparable(records)


def _report_entry(tmp_path, verdicts=None):
    cache = ReportCache(tmp_path / "cache")
    source = tmp_path / "src" / "report.html"
    source.parent.mkdir(parents=True)
    source.write_text("<p>report</p>")
    cache.put("d" * 64, {"html": source}, verdicts or {"C1": "supported", "K1": "pass"})
    return cache, cache.root / ("d" * 64) / "manifest.json"


@pytest.mark.parametrize("edit", ["forged_verdict", "verdict_not_a_string", "name_outside_the_entry",
                                  "no_files", "bad_sha256"])
def test_a_report_manifest_outside_the_vocabulary_is_a_damaged_entry(tmp_path, edit):
    """A verdict that is not one of the vocabulary (or any other change of shape) makes the
    entry a miss, so "(forged)" is never printed as a verdict and no file is copied from elsewhere."""
    cache, path = _report_entry(tmp_path)
    assert cache.get("d" * 64)["verdicts"] == {"C1": "supported", "K1": "pass"}
    manifest = json.loads(path.read_text())
    if edit == "forged_verdict":
        manifest["verdicts"]["C1"] = "(forged)"
    elif edit == "verdict_not_a_string":
        manifest["verdicts"]["C1"] = ["supported"]
    elif edit == "name_outside_the_entry":
        manifest["files"]["html"]["name"] = "../../../src/report.html"  # the source: same bytes, same hash
    elif edit == "no_files":
        manifest["files"] = {}
    else:
        manifest["files"]["html"]["sha256"] = "x" * 64
    path.write_text(json.dumps(manifest))
    assert cache.get("d" * 64) is None


def test_the_verdict_vocabulary_covers_the_findings():
    """Exactly the verdicts of findings and the states of checks are accepted in a report-cache manifest."""
    from vgreport.findings import CHECK_STATES, VERDICTS
    assert set(VERDICTS) | set(CHECK_STATES) == set(REPORT_VERDICTS)


def _users_folder(tmp_path):
    """A folder of the user's own, with names that look like the cache's."""
    folder = tmp_path / "mywork"
    (folder / "reports" / "2024").mkdir(parents=True)
    (folder / "reports" / "2024" / "q1.txt").write_text("first quarter")
    (folder / "ab").mkdir()
    return folder


def test_clean_with_a_mistaken_cache_keeps_the_users_folder(tmp_path):
    """`clean --out nobuild --cache mywork` (nothing built there) deletes nothing of mywork, empty
    folders included, and never says it removed mywork."""
    folder = _users_folder(tmp_path)
    before = _tree(folder)
    result = CliRunner().invoke(main, ["clean", "--out", str(tmp_path / "nobuild"), "--cache", str(folder)])
    assert result.exit_code == 0, result.output
    assert _tree(folder) == before
    assert "removed" not in result.output and str(folder) not in result.output


def test_clean_removes_exactly_what_a_build_wrote_into_a_users_folder(tmp_path, tiny_battery):
    """After a build whose --cache is a folder of the user's, clean removes every file vgreport
    wrote there (cells, report entries, its manifest) and leaves exactly the user's files and
    folders; it lists each file it removed and never a folder that still exists."""
    folder = _users_folder(tmp_path)
    before = _tree(folder)
    out = tmp_path / "out"
    build = CliRunner().invoke(main, ["build", "--experiments", str(tiny_battery), "--cache", str(folder),
                                      "--out", str(out), "--format", "html", "--jobs", "1"])
    assert build.exit_code == 0, build.output
    written = _tree(folder) - before
    assert any(name.endswith(".json") for name in written) and any(name.startswith("reports/") for name in written)
    result = CliRunner().invoke(main, ["clean", "--out", str(out), "--cache", str(folder)])
    assert result.exit_code == 0, result.output
    assert _tree(folder) == before
    assert not out.exists()
    said = {line.removeprefix("removed ") for line in result.output.splitlines()}
    assert {str(folder / name) for name in written if (not (folder / name).exists())} <= said
    assert all(not Path(p).exists() for p in said)


def test_report_cache_prunes_only_its_own_entries(tmp_path):
    """Beyond `keep` entries the least recently used go, but a user's reports/2024 folder in the
    same cache folder is never taken for one."""
    folder = _users_folder(tmp_path)
    cache = ReportCache(folder, keep=1)
    source = tmp_path / "report.html"
    source.write_text("report")
    for digest in ("a" * 64, "b" * 64, "c" * 64):
        cache.put(digest, {"html": source}, {"C1": "inconclusive"})
    assert (folder / "reports" / "2024" / "q1.txt").read_text() == "first quarter"
    assert [d.name for d in (folder / "reports").iterdir() if d.name != "2024"] == ["c" * 64]


def test_a_manifest_records_only_folders_vgreport_created(tmp_path):
    """make_folders records the folders it creates and not those already there."""
    (tmp_path / "ab").mkdir()
    manifest = Manifest(tmp_path / "root")
    manifest.make_folders("ab/cd")
    Manifest(tmp_path).make_folders("ab/cd")
    assert manifest.read()["folders"] == {".", "ab", "ab/cd"}
    assert Manifest(tmp_path).read()["folders"] == {"ab/cd"}


_HOLD_STAGING = textwrap.dedent("""\
    import sys, time
    from pathlib import Path
    from vgreport.store import staging
    with staging(Path(sys.argv[1])) as folder:
        (folder / "report.pdf").write_bytes(b"half a PDF")
        print(folder, flush=True)
        time.sleep(120)
""")


def test_staging_folders_of_a_killed_render_are_removed_at_the_next_build(tmp_path):
    """A staging folder is kept while its build runs, and removed by the next build's staging
    once that build was killed (SIGKILL: no clean-up code ran)."""
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_STAGING, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        held = Path(holder.stdout.readline().strip())
        assert held.is_dir() and held.name.startswith(".staging-")
        assert remove_stale_staging(out) == [] and held.is_dir()  # a running build's: kept
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert held.is_dir()
    with staging(out) as mine:
        assert not held.exists() and mine.is_dir()
    assert not mine.exists()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS], ids=["disk_full", "read_only"])
def test_a_full_or_read_only_report_cache_never_fails_a_complete_build(tmp_path, tiny_battery, monkeypatch, code):
    """When storing into cache/reports fails after the outputs were written, the build exits 0
    with its outputs and one warning line naming the report cache."""
    import os

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(store.ReportCache, "put", refuse)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--experiments", str(tiny_battery), "--out", str(out),
                                       "--format", "html", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and (out / "findings.json").is_file()
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "report cache" in warnings[0] and os.strerror(code) in warnings[0]


def test_a_full_report_cache_is_named_by_where_the_copy_went_not_by_the_output_it_copied(
        tmp_path, tiny_battery, monkeypatch):
    """ENOSPC while copying out/metrics.csv into the report cache: shutil names the source first,
    and the warning said `oute/metrics.csv`, as if --out were full. It names the cache's file."""
    import os
    import shutil

    real = shutil.copyfile

    def full(source, target, **kwargs):
        if "reports" in str(target):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(source), None, str(target))
        return real(source, target, **kwargs)

    monkeypatch.setattr(store.shutil, "copyfile", full)
    out, cache = tmp_path / "oute", tmp_path / "cachee"
    result = CliRunner().invoke(main, ["build", "--experiments", str(tiny_battery), "--out", str(out), "--cache",
                                       str(cache), "--format", "html", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    warning, = [line for line in result.output.splitlines() if line.startswith("warning:")]
    reason = warning[warning.index("(") + 1:warning.index(")")]
    assert "No space left on device" in reason and str(cache / "reports") in reason and str(out) not in reason, warning


def test_records_columns_are_the_schema(tmp_path, tiny_cell):
    """A stored entry's records have exactly the documented columns (what the check on read expects)."""
    cache, cell, _ = _stored(tmp_path, tiny_cell)
    assert all(list(r) == RECORD_COLUMNS for r in cache.get(cell_key(cell)))
