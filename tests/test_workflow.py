"""The scheduled GitHub workflow: valid for actionlint, and doing what the README says it does."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "report.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _uses(workflow: dict, action: str) -> list[dict]:
    return [s for s in _steps(workflow) if s.get("uses", "").split("@")[0] == action]


def _run(workflow: dict, pattern: str) -> dict:
    matches = [s for s in _steps(workflow) if re.search(pattern, s.get("run", ""))]
    assert len(matches) == 1, f"expected one step running {pattern!r}, found {len(matches)}"
    return matches[0]


def _actionlint() -> str:
    """The actionlint binary of requirements.lock, installed beside this Python."""
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert found, "actionlint is not installed: pip install --require-hashes -r requirements.lock"
    return found


def test_actionlint_finds_nothing_wrong():
    """actionlint (syntax, expressions, action inputs and outputs, deprecated runtimes) passes the workflow."""
    done = subprocess.run([_actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    """The check can fail: a misspelt key and an unknown step output are reported."""
    broken = WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1)
    broken = broken.replace("steps.previous.outputs.found", "steps.previous.outputs.fonud", 1)
    (tmp_path / "broken.yml").write_text(broken)
    done = subprocess.run([_actionlint(), "-no-color", str(tmp_path / "broken.yml")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "runs_on" in done.stdout


def _job(workflow: dict, step: dict) -> dict:
    return next(job for job in workflow["jobs"].values() if step in job.get("steps", []))


def test_it_runs_weekly_on_push_to_main_on_a_tag_and_by_hand(workflow):
    """Triggers: a weekly cron, pushes to main, v* tags, and workflow_dispatch with a fail-on choice."""
    (cron,) = [entry["cron"] for entry in workflow["on"]["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert (day, month) == ("*", "*") and weekday.isdigit(), cron
    assert workflow["on"]["push"]["branches"] == ["main"] and workflow["on"]["push"]["tags"] == ["v*"]
    fail_on = workflow["on"]["workflow_dispatch"]["inputs"]["fail-on"]
    assert fail_on["options"] == ["flip", "drift", "never"] and fail_on["default"] == "flip"


def test_it_installs_and_builds_with_the_readme_commands(workflow):
    """The Pango packages and the CPU-torch `make report` line are the README's; the profile is standard."""
    readme = (ROOT / "README.md").read_text()
    make = re.search(r"`(PIP_EXTRA_INDEX_URL=\S+ make report)`", readme).group(1)
    build = _run(workflow, re.escape(make))
    assert "PROFILE=standard" in build["run"]
    packages = re.search(r"apt-get install ([\w.\- ]+)`", readme).group(1).split()
    apt = _run(workflow, r"apt-get install")
    assert all(p in apt["run"] for p in packages), packages
    (python,) = _uses(workflow, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"


def test_the_cell_cache_can_never_freeze(workflow):
    """build/cache comes back from the newest earlier run (a restore-keys prefix) and is saved under this
    run's own key, only when the build completed (`if: success()`), before the diff can fail the job;
    a pruning job keeps the newest few. So a failed build never saves a partial cache that later runs
    would hit exactly and never save again."""
    (restore,) = _uses(workflow, "actions/cache/restore")
    (save,) = _uses(workflow, "actions/cache/save")
    assert restore["with"]["path"] == save["with"]["path"] == "build/cache"
    assert "github.run_id" in restore["with"]["key"] and restore["with"]["key"].startswith("vgreport-cells-")
    prefix = restore["with"]["restore-keys"].strip()
    assert restore["with"]["key"].startswith(prefix) and "run_id" not in prefix
    assert save["with"]["key"] == "${{ steps.cache.outputs.cache-primary-key }}" and restore["id"] == "cache"
    assert save["if"] == "success()" and "always()" not in save["if"]
    steps = _steps(workflow)
    build, diff = _run(workflow, r"make report"), _run(workflow, r"vgreport diff")
    assert steps.index(restore) < steps.index(build) < steps.index(save) < steps.index(diff)
    prune = _run(workflow, r"gh cache delete")
    assert "gh cache list --key vgreport-cells-" in prune["run"]
    assert _job(workflow, prune)["permissions"] == {"actions": "write"}


def test_the_six_outputs_are_uploaded_with_a_retention_and_published(workflow):
    """report.html, report.pdf, metrics.csv, findings.json, manifest.json and cells.csv are an artifact
    (every artifact with retention-days) and on Pages; configure-pages runs with pages: read."""
    outputs = ["report.html", "report.pdf", "metrics.csv", "findings.json", "manifest.json", "cells.csv"]
    artifacts = _uses(workflow, "actions/upload-artifact") + _uses(workflow, "actions/upload-pages-artifact")
    assert all(0 < int(a["with"]["retention-days"]) <= 90 for a in artifacts)
    (artifact,) = [a for a in artifacts if a["with"].get("name") == "vgreport-report"]
    assert artifact["with"]["path"].split() == [f"build/{name}" for name in outputs]
    (configure,) = _uses(workflow, "actions/configure-pages")
    assert _job(workflow, configure)["permissions"] == {"contents": "read", "pages": "read"}
    site = _run(workflow, r"cp build/report.html")
    assert all(f"build/{name}" in site["run"] for name in outputs)
    (pages,) = _uses(workflow, "actions/upload-pages-artifact")
    assert pages["with"]["path"] in site["run"]
    (deploy,) = _uses(workflow, "actions/deploy-pages")
    publish = next(job for job in workflow["jobs"].values() if deploy in job.get("steps", []))
    assert publish["permissions"] == {"pages": "write", "id-token": "write"}
    assert publish["environment"]["name"] == "github-pages"


def test_the_diff_against_the_last_edition_goes_to_the_summary_and_fails_on_a_flip(workflow):
    """The published findings.json is fetched, is the build's --baseline, and `vgreport diff --md` writes the
    job summary with --fail-on from the dispatch input (flip by default), before the site is published."""
    fetch = _run(workflow, r"curl .*findings\.json")
    assert "VGREPORT_BUILD_BASELINE=" in fetch["run"] and "GITHUB_ENV" in fetch["run"]
    diff = _run(workflow, r"vgreport diff")
    assert re.search(r"vgreport diff previous/findings\.json build --md --fail-on \"\$FAIL_ON\" > diff\.md "
                     r"\|\| status=\$\?", diff["run"]), diff["run"]
    assert 'cat diff.md >> "$GITHUB_STEP_SUMMARY"' in diff["run"] and diff["run"].strip().endswith('exit "$status"')
    assert "manifest.json" in fetch["run"]  # so the diff can say when the editions ran on other CPUs
    assert diff["env"]["FAIL_ON"] == "${{ inputs.fail-on || 'flip' }}"
    assert "continue-on-error" not in diff
    steps = _steps(workflow)
    (pages,) = _uses(workflow, "actions/upload-pages-artifact")
    assert steps.index(fetch) < steps.index(_run(workflow, r"make report")) < steps.index(diff) < steps.index(pages)


def test_each_scheduled_or_tagged_edition_becomes_a_release(workflow):
    """A release job (contents: write, that job only) runs for the schedule and v* tags after a build that
    passed, and attaches report.pdf, report.html, findings.json, manifest.json and cells.csv."""
    release = _run(workflow, r"gh release create")
    job = _job(workflow, release)
    assert job["permissions"] == {"contents": "write"} and job["needs"] == "build"
    assert "github.event_name == 'schedule'" in job["if"] and "refs/tags/v" in job["if"]
    for name in ("report.pdf", "report.html", "findings.json", "manifest.json", "cells.csv"):
        assert f"edition/{name}" in release["run"], name
    writers = [name for name, j in workflow["jobs"].items() if "write" in (j.get("permissions") or {}).get("contents", "")]
    assert writers == [next(n for n, j in workflow["jobs"].items() if j is job)]
    assert workflow["permissions"] == {"contents": "read"}


def test_a_failed_diff_opens_or_updates_an_issue_with_its_markdown(workflow):
    """When the diff fails the run, its markdown is kept and a job with issues: write comments on the open
    issue or opens one carrying it."""
    issue = _run(workflow, r"gh issue create")
    job = _job(workflow, issue)
    assert job["permissions"] == {"issues": "write"} and job["needs"] == "build"
    assert "failure()" in job["if"] and "needs.build.outputs.diff_status == '1'" in job["if"]
    assert "gh issue comment" in issue["run"] and "diff.md" in issue["run"]
    assert workflow["jobs"]["build"]["outputs"]["diff_status"] == "${{ steps.diff.outputs.status }}"
    (kept,) = [a for a in _uses(workflow, "actions/upload-artifact") if a["with"]["name"] == "vgreport-diff"]
    assert kept["with"]["path"] == "diff.md" and "steps.diff.outputs.status == '1'" in kept["if"]


def test_the_readme_shows_the_workflow_badge():
    """The README's status badge is this workflow's."""
    readme = (ROOT / "README.md").read_text()
    assert "https://github.com/vgreport/vgreport/actions/workflows/report.yml/badge.svg" in readme
