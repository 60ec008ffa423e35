"""What a build says about itself: manifest.json, its appendix table, the "changed since the last
edition" section of `build --baseline`, and the cover's abstract."""
from __future__ import annotations

import html
import importlib.metadata
import json
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from vgreport import manifest as manifest_module
from vgreport.cli import main
from vgreport.specs import load_battery
from vgreport.store import Cache, cell_key

import helpers
from helpers import TINY_EXPERIMENT, TINY_PROFILES


@pytest.fixture(scope="module")
def battery(tmp_path_factory) -> Path:
    return helpers.write(tmp_path_factory.mktemp("battery"), TINY_EXPERIMENT, TINY_PROFILES)


def _build(battery: Path, out: Path, *extra: str):
    result = CliRunner().invoke(main, ["build", "--experiments", str(battery), "--out", str(out), "--profile",
                                       "smoke", "--jobs", "1", "--format", "html", *extra])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def built(battery, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    _build(battery, out)
    return out


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_manifest_names_each_cell_by_its_cache_key_and_training_time(battery, built):
    """manifest.json lists every cell with the key its records are cached under and the wall_seconds they record."""
    manifest = json.loads((built / "manifest.json").read_text())
    cells = load_battery(battery, "smoke").cells()
    assert [c["cell"] for c in manifest["cells"]] == [c.label for c in cells]
    for row, cell in zip(manifest["cells"], cells):
        assert row["key"] == cell_key(cell, "cpu") and Cache(built / "cache").path(row["key"]).is_file()
    frame = pd.read_csv(built / "metrics.csv")
    timings = frame[frame["metric"] == "wall_seconds"]
    assert [r["wall_seconds"] for r in manifest["cells"]] == pytest.approx(list(timings["value"]), rel=1e-6)
    assert manifest["specs"] == {"cells": 2, "distinct": 2, "sha256": manifest["specs"]["sha256"]}


def test_manifest_records_code_dependencies_platform_and_times(built):
    """Code version, library versions, platform, threads, device, profile, seeds, start before finish."""
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["vgreport"]["code"] == manifest_module.code_description()
    assert manifest["vgreport"]["source_sha256"] == manifest_module.source_sha256()
    # The distribution's version (a CUDA wheel's torch.__version__ adds a local tag such as "+cu130").
    assert manifest["dependencies"]["torch"] == importlib.metadata.version("torch")
    assert torch.__version__.startswith(manifest["dependencies"]["torch"].split("+")[0])
    assert manifest["platform"]["cores"] >= 1
    assert manifest["platform"]["python"].startswith("%d.%d" % sys.version_info[:2])
    assert manifest["threads"] == {"jobs": 1, "torch_threads_per_worker": manifest["threads"]["torch_threads_per_worker"]}
    assert manifest["device"] == {"name": "cpu"} and manifest["profile"] == "smoke" and manifest["seeds"] == [0]
    assert manifest["started"] <= manifest["finished"]
    assert manifest["summary"]["cells"] == 2 and manifest["report"] == "rendered"


def test_manifest_records_the_cpu_and_torch_build_that_trained(built):
    """The CPU model (/proc/cpuinfo), the instruction set torch's kernels use, torch's version with its
    local label, its BLAS and oneDNN, CUDA and cuDNN (null on a CPU build), and the deterministic and
    float32 matmul settings: what training outcomes depend on beyond the code."""
    manifest = json.loads((built / "manifest.json").read_text())
    import platform
    with open("/proc/cpuinfo") as handle:  # Linux, as CI; an ARM kernel may name no model: platform's then
        model = next((" ".join(line.split(":", 1)[1].split()) for line in handle if line.startswith("model name")),
                     platform.processor() or platform.machine())
    assert manifest["cpu"] == {"model": model, "capability": torch.backends.cpu.get_cpu_capability()}
    build = manifest["torch"]
    assert build["version"] == torch.__version__  # with its local label: 2.13.0+cpu, not 2.13.0
    config = torch.__config__.show()
    assert f"BLAS_INFO={build['blas']}" in config and build["onednn"] in config
    assert build["cuda"] == torch.version.cuda
    assert (build["cudnn"] is None) == (not torch.backends.cudnn.is_available())
    assert build["deterministic_algorithms"] is False and build["float32_matmul_precision"] == "highest"


def test_a_build_that_trained_nothing_records_the_installed_torch_without_importing_it(monkeypatch):
    """Loading torch for its build would cost an unchanged rebuild seconds: without training, the
    installed version only (local label included), read from its metadata."""
    monkeypatch.delitem(sys.modules, "torch")
    assert manifest_module.torch_build(load=False) == {"version": importlib.metadata.version("torch")}
    assert "torch" not in sys.modules


def test_diff_says_when_editions_ran_on_other_cpus_or_torch_builds(built, tmp_path):
    """One note line per difference, read from the manifest.json beside each edition; none when equal."""
    other = tmp_path / "other"
    shutil.copytree(built, other, ignore=shutil.ignore_patterns("cache"))
    same = CliRunner().invoke(main, ["diff", str(built), str(other)])
    assert same.exit_code == 0 and "different" not in same.output
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["cpu"]["model"] = "Intel(R) Xeon(R) Platinum 8480+"
    manifest["torch"]["version"] = "2.14.1+cu130"
    (other / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(main, ["diff", str(built), str(other)])
    notes = [line for line in result.output.splitlines() if "ran on different" in line]
    assert len(notes) == 2 and "Intel(R) Xeon(R) Platinum 8480+" in notes[0] and "2.14.1+cu130" in notes[1], notes


def test_code_version_without_git_is_the_package_version_and_source_hash(monkeypatch):
    """Outside a git checkout of itself, the code version is VERSION+src.<12 hex digits of the source hash>."""
    monkeypatch.setattr(manifest_module, "_git_describe", lambda: None)
    from vgreport import __version__
    assert manifest_module.code_description() == f"{__version__}+src.{manifest_module.source_sha256()[:12]}"


def test_the_appendix_shows_the_manifest_but_not_the_clock(built):
    """The report's appendix has the manifest table (code version, spec hashes); never the start or end time,
    so identical inputs still give an identical report."""
    page = (built / "report.html").read_text()
    manifest = json.loads((built / "manifest.json").read_text())
    text = _text(page[page.index('id="manifest"'):])
    assert "Code version " + manifest["vgreport"]["code"] in text
    assert manifest["specs"]["sha256"][:16] in text and "2 (2 distinct cell specifications, seeds included)" in text
    clock = {manifest["started"], manifest["finished"]} - {manifest["measured_at"]}  # the report's date may equal one
    assert not any(t in page for t in clock), clock
    table = page[page.index('id="manifest"'):page.index("</table>", page.index('id="manifest"'))]
    assert "started" not in table and "finished" not in table and "thread" not in table


def test_a_reused_report_gets_a_manifest_of_its_own_build(battery, built, tmp_path):
    """An unchanged rebuild copies the report from the cache but writes a new manifest.json saying so."""
    out = tmp_path / "again"
    shutil.copytree(built, out)
    first = json.loads((out / "manifest.json").read_text())
    _build(battery, out)
    second = json.loads((out / "manifest.json").read_text())
    assert second["report"] == "reused" and second["summary"]["cached"] == 2
    assert second["started"] >= first["finished"] and second["cells"] == first["cells"]


def test_baseline_adds_a_section_with_the_changed_verdicts(battery, built, tmp_path):
    """build --baseline OLD adds 'Changed since the last edition' with each flipped verdict, old and new;
    without --baseline the section is absent."""
    assert 'id="changes"' not in (built / "report.html").read_text()
    old = json.loads((built / "findings.json").read_text())
    flipped = next(f for f in old["findings"] if f["id"] == "C4")
    flipped["verdict"] = "supported"
    (tmp_path / "old.json").write_text(json.dumps(old))
    out = tmp_path / "b"
    shutil.copytree(built / "cache", out / "cache")
    _build(battery, out, "--baseline", str(tmp_path / "old.json"))
    page = (out / "report.html").read_text()
    section = _text(page[page.index('id="changes"'):page.index("</section>", page.index('id="changes"'))])
    assert "Changed since the last edition" in section
    assert re.search(r"C4 .*supported .*inconclusive", section), section
    assert "1 verdict changed" in section and 'href="#changes"' in page


def test_baseline_of_the_same_edition_says_nothing_changed(battery, built, tmp_path):
    """A baseline identical to this build gives a section that says no verdict changed."""
    out = tmp_path / "b"
    shutil.copytree(built / "cache", out / "cache")
    _build(battery, out, "--baseline", str(built))
    page = (out / "report.html").read_text()
    assert "No verdict changed" in _text(page[page.index('id="changes"'):])


def test_a_missing_baseline_is_one_line_and_writes_nothing(battery, tmp_path):
    """--baseline naming nothing readable fails before any training, on one line, leaving no output."""
    out = tmp_path / "b"
    result = CliRunner().invoke(main, ["build", "--experiments", str(battery), "--out", str(out), "--profile",
                                       "smoke", "--baseline", str(tmp_path / "nope")])
    assert result.exit_code == 2  # bad input, as `vgreport diff` says of an unreadable edition
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --baseline") and "nope" in lines[0]
    assert not out.exists()


def test_the_cover_abstract_keeps_a_space_between_sentences(battery, built, tmp_path):
    """No sentence of the abstract is glued to the one before it (trim_blocks eats newlines after tags)."""
    out = tmp_path / "only"
    shutil.copytree(built / "cache", out / "cache")
    _build(battery, out, "--only", "length")
    for folder in (built, out):
        page = (folder / "report.html").read_text()
        start = page.index('class="abstract"')
        abstract = _text(page[start:page.index("</section>", start)])
        assert not re.search(r"[a-z][.;:][A-Z]", abstract), abstract
        assert re.search(r"\w\. This is a smoke build", abstract), abstract
    assert "Only the length axis was built" in abstract


def test_baseline_is_named_by_its_profile_and_date_never_by_its_path(battery, built, tmp_path):
    """The handout names the earlier edition by the profile, date and version of its manifest; the
    folder it was read from (a path on this machine) appears nowhere in the report."""
    from vgreport.report.context import date_text

    old = tmp_path / "private-folder-of-alice"
    shutil.copytree(built, old)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["measured_at"] = "2026-03-04T05:06:00+00:00"  # a date only the manifest holds
    (old / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "b"
    shutil.copytree(built / "cache", out / "cache")
    _build(battery, out, "--baseline", str(old))
    page = (out / "report.html").read_text()
    assert "private-folder-of-alice" not in page and str(tmp_path) not in page
    section = _text(page[page.index('id="changes"'):])
    assert date_text("2026-03-04T05:06:00+00:00") == "4 March 2026, 05:06 UTC"
    assert (f"Compared with the smoke edition measured 4 March 2026, 05:06 UTC "
            f"(vgreport {manifest['vgreport']['version']})") in section
