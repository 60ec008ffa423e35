"""End to end: `vgreport build --profile smoke` writes a complete, self-contained report."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from vgreport import api
from vgreport.cli import main
from vgreport.specs import default_experiments_dir, load_battery
from vgreport.training import RECORD_COLUMNS

CLAIMS = [f"C{i}" for i in range(1, 11)]


@pytest.fixture(scope="module")
def smoke_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("smoke")
    result = CliRunner().invoke(main, ["build", "--profile", "smoke", "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    return out


def _text(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip().lower()


def test_build_writes_all_outputs(smoke_build):
    """A smoke build leaves report.html, report.pdf, metrics.csv and findings.json."""
    for name in ("report.html", "report.pdf", "metrics.csv", "findings.json"):
        assert (smoke_build / name).stat().st_size > 0, name
    assert not list(smoke_build.glob(".*tmp")), "a temporary file was left behind"


def test_metrics_are_tidy_records_of_all_five_axes(smoke_build):
    """metrics.csv has the documented columns and records from every experiment of the battery."""
    frame = pd.read_csv(smoke_build / "metrics.csv")
    assert list(frame.columns) == RECORD_COLUMNS
    battery = load_battery(default_experiments_dir(), "smoke")
    assert set(frame["experiment"]) == {e.name for e in battery.experiments}
    assert {"grad_norm_state", "train_loss", "diverged"} <= set(frame["metric"])


def test_findings_json_has_every_claim_with_a_computed_verdict(smoke_build):
    """findings.json holds one object per claim C1..C10 with claim, verdict, criterion, numbers."""
    payload = json.loads((smoke_build / "findings.json").read_text())
    findings = payload["findings"]
    assert [f["id"] for f in findings][:10] == CLAIMS
    for f in findings:
        assert f["verdict"] in ("supported", "partly supported", "not supported", "inconclusive")
        assert f["claim"] and f["criterion"] and isinstance(f["numbers"], dict)


def test_pdf_names_every_finding_and_its_verdict(smoke_build):
    """The PDF's text contains every finding's title and verdict."""
    pdf_text = _text(" ".join(page.extract_text() or "" for page in PdfReader(smoke_build / "report.pdf").pages))
    for f in json.loads((smoke_build / "findings.json").read_text())["findings"]:
        assert _text(f["title"]) in pdf_text, f["title"]
        assert _text(f["verdict"]) in pdf_text


def test_html_references_nothing_external(smoke_build):
    """The HTML is one self-contained file: no src/href to another file or host, no @import."""
    html = (smoke_build / "report.html").read_text()
    for match in re.finditer(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html):
        target = match.group(1)
        assert target.startswith("#") or target.startswith("data:"), target
    assert "@import" not in html
    for match in re.finditer(r"url\(\s*['\"]?([^)'\"]*)", html):
        assert match.group(1).startswith(("#", "data:")), match.group(0)


def test_unchanged_rebuild_only_renders_and_is_byte_identical(smoke_build, tmp_path):
    """A second build computes nothing and writes the same HTML and PDF bytes."""
    before = {n: (smoke_build / n).read_bytes() for n in ("report.html", "report.pdf", "metrics.csv")}
    result = api.build(profile="smoke", out=smoke_build, jobs=1, progress=False)
    assert result.summary["computed"] == 0
    for name, content in before.items():
        assert (smoke_build / name).read_bytes() == content, f"{name} changed on an unchanged rebuild"


def test_changing_one_spec_reruns_only_its_cells(smoke_build, tmp_path):
    """Editing one experiment's YAML recomputes that experiment's cells and no others."""
    folder = tmp_path / "battery"
    shutil.copytree(default_experiments_dir(), folder)
    path = folder / "clipping.yaml"
    path.write_text(path.read_text().replace("lr: 0.05", "lr: 0.04"))
    battery = load_battery(folder, "smoke")
    expected = len(battery.cells(only_experiments=("clip_exploding",)))
    result = api.build(profile="smoke", out=tmp_path / "o", cache_dir=smoke_build / "cache",
                       experiments_dir=folder, formats=("html",), jobs=1, progress=False)
    assert result.summary["computed"] == expected
    assert result.summary["cached"] == result.summary["cells"] - expected


def test_only_one_axis_builds_and_marks_the_rest_inconclusive(smoke_build, tmp_path):
    """--only clipping reuses the cache and leaves claims without data inconclusive."""
    result = api.build(profile="smoke", out=tmp_path / "clip", cache_dir=smoke_build / "cache",
                       only=("clipping",), formats=("html",), progress=False)
    assert result.summary["computed"] == 0
    assert result.verdicts["C10"] == "inconclusive"
