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
from vgreport.findings import CHECKS as CHECK_MODULES
from vgreport.findings import FINDINGS
from vgreport.specs import default_experiments_dir, load_battery
from vgreport.training import RECORD_COLUMNS
from vgreport.verdicts import VERDICTS

# The ids from the registry (one folder per result), in report order.
CLAIMS = [m.SPEC.id for m in FINDINGS]
CHECKS = [m.SPEC.id for m in CHECK_MODULES]


@pytest.fixture(scope="module")
def smoke_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("smoke")
    result = CliRunner().invoke(main, ["build", "--profile", "smoke", "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    return out


def _text(value: str) -> str:
    """Lower case, one space; ASCII notation as the report typesets it ('g^(T−k)' reads 'gT−k')."""
    value = re.sub(r"\^\(([^()]*)\)|\^\{([^{}]*)\}|\^", lambda m: m.group(1) or m.group(2) or "", value)
    return re.sub(r"\s+", " ", value).strip().lower()


def test_build_writes_all_outputs(smoke_build):
    """A smoke build leaves report.html, report.pdf, metrics.csv, findings.json and cells.csv."""
    for name in ("report.html", "report.pdf", "metrics.csv", "findings.json", "cells.csv"):
        assert (smoke_build / name).stat().st_size > 0, name
    assert not list(smoke_build.glob(".*tmp")), "a temporary file was left behind"


def test_metrics_are_tidy_records_of_all_five_axes(smoke_build):
    """metrics.csv has the documented columns and records from every experiment of the battery."""
    frame = pd.read_csv(smoke_build / "metrics.csv")
    assert list(frame.columns) == RECORD_COLUMNS
    battery = load_battery(default_experiments_dir(), "smoke")
    assert set(frame["experiment"]) == {e.name for e in battery.experiments}
    assert {"grad_norm_state", "train_loss", "diverged"} <= set(frame["metric"])


def test_pdf_carries_findings_the_cell_summary_and_the_manifest_not_the_records(smoke_build):
    """The PDF attaches findings.json, cells.csv and manifest.json (how it was made), byte for byte the files
    beside it; metrics.csv stays outside."""
    attached = PdfReader(smoke_build / "report.pdf").attachments
    assert sorted(attached) == ["cells.csv", "findings.json", "manifest.json"]
    for name in attached:
        assert attached[name] == [(smoke_build / name).read_bytes()], name
    assert json.loads(attached["manifest.json"][0])["report"] == "rendered"


def test_cell_summary_has_one_row_per_cell_of_the_battery(smoke_build):
    """cells.csv has the documented columns and exactly one row per cell the build ran."""
    from vgreport.aggregate import CELL_TABLE_COLUMNS

    cells = pd.read_csv(smoke_build / "cells.csv", keep_default_na=False, na_values=[""])
    assert list(cells.columns) == CELL_TABLE_COLUMNS
    assert len(cells) == len(load_battery(default_experiments_dir(), "smoke").cells())
    assert not cells[["experiment", "variant", "length", "seed", "gain"]].duplicated().any()
    assert (cells["wall_seconds"] > 0).all()


def test_findings_json_has_every_claim_with_a_computed_verdict(smoke_build):
    """findings.json holds the checks and the findings apart, each with its claim, verdict, criterion,
    parts and numbers."""
    payload = json.loads((smoke_build / "findings.json").read_text())
    assert [c["id"] for c in payload["checks"]] == CHECKS
    assert [f["id"] for f in payload["findings"]] == CLAIMS
    for c in payload["checks"]:
        assert c["verdict"] in ("pass", "fail", "undetermined")
    for f in payload["findings"]:
        assert f["verdict"] in VERDICTS
        assert f["claim"] and f["criterion"] and f["headline"] and isinstance(f["numbers"], dict)


def test_pdf_names_every_finding_and_its_verdict(smoke_build):
    """The PDF's text contains every finding's title and verdict."""
    pdf_text = _text(" ".join(page.extract_text() or "" for page in PdfReader(smoke_build / "report.pdf").pages))
    payload = json.loads((smoke_build / "findings.json").read_text())
    for f in payload["findings"] + payload["checks"]:
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


OUTPUTS = ("report.html", "report.pdf", "metrics.csv", "findings.json", "cells.csv")


def _forbid_rendering(monkeypatch):
    """Make any evaluation or rendering fail loudly: a reused report must not need them."""
    from vgreport import findings
    from vgreport.report import document

    def refuse(*args, **kwargs):
        raise AssertionError("the report stage ran although its inputs were unchanged")
    monkeypatch.setattr(findings, "evaluate", refuse)
    monkeypatch.setattr(document, "render_report", refuse)


def test_unchanged_rebuild_computes_nothing_and_reuses_the_report(smoke_build, monkeypatch):
    """A second build trains nothing, renders nothing, and leaves the same bytes and verdicts."""
    before = {n: (smoke_build / n).read_bytes() for n in OUTPUTS}
    _forbid_rendering(monkeypatch)
    result = api.build(profile="smoke", out=smoke_build, jobs=1, progress=False)
    assert result.summary.computed == 0 and result.summary.report == "reused"
    for name, content in before.items():
        assert (smoke_build / name).read_bytes() == content, f"{name} changed on an unchanged rebuild"
    stored = json.loads(before["findings.json"])
    assert result.verdicts == {f["id"]: f["verdict"] for f in stored["checks"] + stored["findings"]}
    assert set(result.files) == {"metrics", "findings", "cell_summary", "manifest", "html", "pdf"}


def test_forced_render_writes_the_same_bytes(smoke_build):
    """Rendering again from the same records (not copying) gives byte-identical outputs; the PDF differs
    only in the manifest it carries (this build's: its times), its pages and other attachments the same."""
    import io

    before = {n: (smoke_build / n).read_bytes() for n in OUTPUTS}
    result = api.build(profile="smoke", out=smoke_build, jobs=1, progress=False, force_render=True)
    assert result.summary.report == "rendered"
    for name, content in before.items():
        if name != "report.pdf":
            assert (smoke_build / name).read_bytes() == content, f"{name} differs when rendered again"
    old, new = PdfReader(io.BytesIO(before["report.pdf"])), PdfReader(smoke_build / "report.pdf")
    assert [p.extract_text() for p in old.pages] == [p.extract_text() for p in new.pages]
    for name in ("findings.json", "cells.csv"):
        assert old.attachments[name] == new.attachments[name], name
    assert new.attachments["manifest.json"] == [(smoke_build / "manifest.json").read_bytes()]


def test_deleted_or_edited_outputs_are_restored_from_the_cache(smoke_build, monkeypatch):
    """An output the user deleted or edited comes back exactly as it was built, without rendering."""
    before = {n: (smoke_build / n).read_bytes() for n in OUTPUTS}
    (smoke_build / "report.pdf").unlink()
    (smoke_build / "report.html").write_text("edited by hand")
    _forbid_rendering(monkeypatch)
    result = api.build(profile="smoke", out=smoke_build, jobs=1, progress=False)
    assert result.summary.report == "reused"
    for name, content in before.items():
        assert (smoke_build / name).read_bytes() == content, name
    assert not list(smoke_build.glob(".*tmp")), "a temporary file was left behind"


def test_a_damaged_cached_report_is_rendered_again(smoke_build, tmp_path):
    """A cached report whose bytes no longer match its manifest is not trusted."""
    cache = tmp_path / "cache"
    shutil.copytree(smoke_build / "cache", cache)
    entries = [d for d in (cache / "reports").iterdir() if d.is_dir()]
    assert entries
    for entry in entries:
        (entry / "report.html").write_text("damaged")
    result = api.build(profile="smoke", out=tmp_path / "o", cache_dir=cache, formats=("html", "pdf"),
                       jobs=1, progress=False)
    assert result.summary.report == "rendered"
    assert (tmp_path / "o" / "report.html").read_bytes() == (smoke_build / "report.html").read_bytes()


def test_a_changed_template_renders_the_report_again(smoke_build, tmp_path):
    """Editing a template (here a user override) is an input change: the report is rendered again."""
    templates = tmp_path / "templates"
    templates.mkdir()
    notation = templates / "notation.html.j2"
    options = dict(profile="smoke", out=tmp_path / "o", cache_dir=smoke_build / "cache", formats=("html",),
                   templates_dir=templates, jobs=1, progress=False)
    notation.write_text('<section id="notation"><h2>Notation</h2><p>FIRST VERSION</p></section>')
    assert api.build(**options).summary.report == "rendered"
    assert api.build(**options).summary.report == "reused"
    notation.write_text('<section id="notation"><h2>Notation</h2><p>SECOND VERSION</p></section>')
    assert api.build(**options).summary.report == "rendered"
    assert "SECOND VERSION" in (tmp_path / "o" / "report.html").read_text()


def test_report_digest_follows_records_and_options(smoke_build, tmp_path):
    """The digest changes with any record byte, the paper, the formats, the axes and a library
    version; not otherwise."""
    from vgreport.api import _report_digest
    from vgreport.runner import execute
    from vgreport.store import Cache, cell_key
    cache = Cache(tmp_path / "cache")
    shutil.copytree(smoke_build / "cache", cache.root)
    battery = load_battery(default_experiments_dir(), "smoke")

    def digest(only=(), formats=("html", "pdf"), paper="a4", versions={"pydyf": "0.13.0"}):
        cells = battery.cells(only)
        _, summary = execute(cells, cache, progress=False, cache_only=True)
        options = api.BuildOptions(formats=formats, paper=paper)
        return _report_digest(options, battery, only, cells, summary.record_digests, versions)

    first = digest()
    assert digest() == first
    assert len({first, digest(paper="letter"), digest(formats=("html",)), digest(only=("clipping",)),
                digest(versions={"pydyf": "0.14.0"})}) == 5
    path = cache.path(cell_key(battery.cells()[0], "cpu"))
    path.write_text(path.read_text().replace('"computed_at": "', '"computed_at": "1', 1))
    assert digest() != first


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
    assert result.summary.computed == expected
    assert result.summary.cached == result.summary.cells - expected


def test_only_one_axis_builds_and_marks_the_rest_inconclusive(smoke_build, tmp_path):
    """--only clipping reuses the cache and leaves claims without data inconclusive."""
    result = api.build(profile="smoke", out=tmp_path / "clip", cache_dir=smoke_build / "cache",
                       only=("clipping",), formats=("html",), progress=False)
    assert result.summary.computed == 0
    assert result.verdicts["C10"] == "inconclusive"


def test_smoke_battery_on_a_dask_local_cluster_gives_the_local_executors_records(smoke_build, tmp_path):
    """`build --executor dask --jobs 2` (a distributed.LocalCluster of 2 worker processes, empty
    cache) writes the metrics of the local process pool's build, timing metrics aside, and a
    report that says it is complete."""
    pytest.importorskip("distributed")
    result = api.build(profile="smoke", out=tmp_path / "dask", formats=("html",), jobs=2, executor="dask",
                       progress=False)
    summary = result.summary
    assert summary.failed == 0 and summary.cached == 0
    assert summary.computed + summary.shared == summary.cells
    timing = ["steps_per_second", "wall_seconds"]
    dask, local = (pd.read_csv(folder / "metrics.csv") for folder in (tmp_path / "dask", smoke_build))
    dask, local = (frame[~frame["metric"].isin(timing)].reset_index(drop=True) for frame in (dask, local))
    pd.testing.assert_frame_equal(dask, local)
    assert json.loads((tmp_path / "dask" / "findings.json").read_text())["complete"] is True


def test_a_real_build_diffed_with_itself_passes_fail_on_drift(smoke_build):
    """A real build compared with itself: every verdict kept, every interval within, exit 0 even with
    --fail-on drift. (The smoke build decides little; test_diff pins the standard build's share of 0
    that lay outside its own Wilson interval by 5.6e-17.)"""
    runner = CliRunner()
    result = runner.invoke(main, ["diff", str(smoke_build), str(smoke_build), "--fail-on", "drift"])
    assert result.exit_code == 0, result.output
    payload = json.loads(runner.invoke(main, ["diff", str(smoke_build), str(smoke_build), "--json", "--all"]).output)
    findings = json.loads((smoke_build / "findings.json").read_text())
    assert len(payload["kept"]) == len(findings["findings"]) + len(findings.get("checks", []))
    assert not payload["drifted"] and payload["failed"] is False
    assert all(c["delta"] in (0, None) for c in payload["within"])
