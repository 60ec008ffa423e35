"""The GitHub workflows: valid for actionlint, and doing what the README and docs/report.md say: tests
gate publishing, nothing queued is dropped or rolled back, releases are idempotent, the cache is pruned,
the schedule is kept alive, a canary watches the newest dependencies, actions are pinned by SHA.
The shell of the release, issue and rollback steps runs here against a fake `gh`, `curl` and git."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vgreport.cli import main

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
REPORT, TEST = WORKFLOWS / "report.yml", WORKFLOWS / "test.yml"
EDITION_CRON, CANARY_CRON = "17 4 * * 1", "47 4 * * 4"


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


@pytest.fixture(scope="module")
def workflow() -> dict:
    return _load(REPORT)


@pytest.fixture(scope="module")
def tests_workflow() -> dict:
    return _load(TEST)


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _uses(workflow: dict, action: str) -> list[dict]:
    return [s for s in _steps(workflow) if s.get("uses", "").split("@")[0] == action]


def _run(workflow: dict, pattern: str) -> dict:
    matches = [s for s in _steps(workflow) if re.search(pattern, s.get("run", ""))]
    assert len(matches) == 1, f"expected one step running {pattern!r}, found {len(matches)}"
    return matches[0]


def _job(workflow: dict, step: dict) -> dict:
    return next(job for job in workflow["jobs"].values() if step in job.get("steps", []))


def _actionlint() -> str:
    """The actionlint binary of requirements-dev.lock, installed beside this Python."""
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert found, "actionlint is not installed: make test installs requirements-dev.lock"
    return found


@pytest.mark.parametrize("path", [REPORT, TEST], ids=lambda p: p.name)
def test_actionlint_finds_nothing_wrong(path):
    """actionlint (syntax, expressions, job outputs, reusable workflow calls, shellcheck-free checks) passes."""
    done = subprocess.run([_actionlint(), "-no-color", str(path)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    """The check can fail: a misspelt key and an unknown step output are reported."""
    broken = REPORT.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1)
    broken = broken.replace("steps.previous.outputs.found", "steps.previous.outputs.fonud", 1)
    (tmp_path / "broken.yml").write_text(broken)
    done = subprocess.run([_actionlint(), "-no-color", str(tmp_path / "broken.yml")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "runs_on" in done.stdout


def test_it_runs_weekly_on_push_to_main_on_a_tag_and_by_hand(workflow):
    """Triggers: a weekly edition and a weekly canary (cron), pushes to main, v* tags, and workflow_dispatch
    with a fail-on choice and a canary switch."""
    crons = [entry["cron"] for entry in workflow["on"]["schedule"]]
    assert crons == [EDITION_CRON, CANARY_CRON]
    for cron in crons:
        minute, hour, day, month, weekday = cron.split()
        assert (day, month) == ("*", "*") and weekday.isdigit(), cron
    assert workflow["on"]["push"]["branches"] == ["main"] and workflow["on"]["push"]["tags"] == ["v*"]
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["fail-on"]["options"] == ["flip", "drift", "never"] and inputs["fail-on"]["default"] == "flip"
    assert inputs["canary"]["type"] == "boolean" and inputs["canary"]["default"] is False


def test_the_test_workflow_runs_make_test_on_every_push_and_pull_request(tests_workflow):
    """test.yml runs the README's `make test` on the runner's own Python (no setup-python) after the README's
    system packages, on pull requests and pushes; pushes to main and tags run it through the report
    workflow, which calls it (workflow_call) so that it is not run twice."""
    on = tests_workflow["on"]
    assert "pull_request" in on and "workflow_call" in on and on["push"] == {"branches-ignore": ["main"]}
    assert not _uses(tests_workflow, "actions/setup-python")
    (job,) = tests_workflow["jobs"].values()
    assert job["steps"][-1]["run"] == "make test"
    readme = (ROOT / "README.md").read_text()
    packages = re.search(r"apt-get install ([\w.\- ]+)`", readme).group(1).split()
    apt = _run(tests_workflow, r"apt-get install")
    assert all(p in apt["run"] for p in packages) and "poppler-utils" in apt["run"]
    assert "make test" in readme and tests_workflow["permissions"] == {"contents": "read"}


def test_only_a_commit_whose_tests_passed_is_built_and_published(workflow):
    """The report workflow's first job calls test.yml; the build needs it, and everything that publishes
    (Pages, releases) or opens the flip issue needs the build."""
    assert workflow["jobs"]["test"]["uses"] == "./.github/workflows/test.yml"
    assert workflow["jobs"]["build"]["needs"] == "test"
    for name in ("publish", "release", "flag", "prune"):
        assert workflow["jobs"][name]["needs"] == "build", name


def test_the_build_uses_the_readme_commands(workflow):
    """The Pango packages and `make report` are the README's; the profile is standard; CPU torch needs no
    extra index variable any more (the set-up probes PyTorch's index itself)."""
    readme = (ROOT / "README.md").read_text()
    build = _run(workflow, r"^make report")
    assert build["run"] == "make report PROFILE=standard"
    packages = re.search(r"apt-get install ([\w.\- ]+)`", readme).group(1).split()
    apt = workflow["jobs"]["build"]["steps"][2]
    assert all(p in apt["run"] for p in packages if p != "python3-venv"), packages
    (python,) = _uses(workflow, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"
    assert "PIP_EXTRA_INDEX_URL" not in REPORT.read_text()


def test_concurrency_never_drops_a_queued_edition(workflow):
    """No workflow-wide group (one pending run would cancel a queued scheduled or tagged edition): builds
    queue per ref and trigger, deployments in one group for the site, never cancelling; releases need no
    group (each run releases its own tag, idempotently)."""
    assert "concurrency" not in workflow
    build = workflow["jobs"]["build"]["concurrency"]
    assert "github.ref" in build["group"] and "github.event_name" in build["group"]
    assert build["cancel-in-progress"] is False
    publish = workflow["jobs"]["publish"]["concurrency"]
    assert "${{" not in publish["group"] and publish["cancel-in-progress"] is False
    assert "concurrency" not in workflow["jobs"]["release"]


def test_the_cell_cache_can_never_freeze_and_is_pruned_to_the_battery(workflow):
    """build/cache comes back from the newest earlier run (a restore-keys prefix), is pruned to the cells the
    standard battery uses (`vgreport prune`), and is saved under this run's own key, only when the build
    completed, before the diff can fail the job; a pruning job keeps the newest few caches."""
    (restore,) = _uses(workflow, "actions/cache/restore")
    (save,) = _uses(workflow, "actions/cache/save")
    assert restore["with"]["path"] == save["with"]["path"] == "build/cache"
    assert "github.run_id" in restore["with"]["key"] and restore["with"]["key"].startswith("vgreport-cells-")
    prefix = restore["with"]["restore-keys"].strip()
    assert restore["with"]["key"].startswith(prefix) and "run_id" not in prefix
    assert save["with"]["key"] == "${{ steps.cache.outputs.cache-primary-key }}" and restore["id"] == "cache"
    assert save["if"] == "success()"
    steps = _steps(workflow)
    build, prune, diff = _run(workflow, r"^make report"), _run(workflow, r"vgreport prune"), _run(workflow, r"diff previous/findings\.json build")
    assert prune["run"] == ".venv/bin/vgreport prune --profile standard"
    assert steps.index(restore) < steps.index(build) < steps.index(prune) < steps.index(save) < steps.index(diff)
    delete = _run(workflow, r"gh cache delete")
    assert "gh cache list --key vgreport-cells-" in delete["run"]
    assert _job(workflow, delete)["permissions"] == {"actions": "write"}


def test_the_six_outputs_are_uploaded_with_a_retention_and_published(workflow):
    """report.html, report.pdf, metrics.csv, findings.json, manifest.json and cells.csv are an artifact
    (every artifact with retention-days) and on Pages with the commit they show; configure-pages runs with
    pages: read; the deployment in the github-pages environment."""
    outputs = ["report.html", "report.pdf", "metrics.csv", "findings.json", "manifest.json", "cells.csv"]
    artifacts = _uses(workflow, "actions/upload-artifact") + _uses(workflow, "actions/upload-pages-artifact")
    assert all(0 < int(a["with"]["retention-days"]) <= 90 for a in artifacts)
    (artifact,) = [a for a in artifacts if a["with"].get("name") == "vgreport-report"]
    assert artifact["with"]["path"].split() == [f"build/{name}" for name in outputs]
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read", "pages": "read"}
    site = _run(workflow, r"cp build/report.html")
    assert all(f"build/{name}" in site["run"] for name in outputs) and "site/commit.txt" in site["run"]
    (pages,) = _uses(workflow, "actions/upload-pages-artifact")
    assert pages["with"]["path"] in site["run"]
    publish = workflow["jobs"]["publish"]
    assert publish["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert publish["environment"]["name"] == "github-pages"


def test_tags_release_but_never_deploy_and_the_site_never_goes_back(workflow):
    """Only main deploys (a tag may name an older commit, and tag runs cannot deploy to github-pages);
    a deploy whose commit is an ancestor of the one the site shows is skipped."""
    publish = workflow["jobs"]["publish"]
    assert publish["if"] == "github.ref == 'refs/heads/main'"
    (deploy,) = _uses(workflow, "actions/deploy-pages")
    order = _run(workflow, r"merge-base --is-ancestor")
    assert deploy["if"] == "steps.order.outputs.newer == 'true'" and order["id"] == "order"
    assert publish["steps"].index(order) < publish["steps"].index(deploy)


def test_a_deploy_never_rolls_the_site_back(workflow, tmp_path):
    """The rollback check (against a real git history and a fake site): a commit older than the one the site
    shows is not deployed; a newer one, the same one (a weekly rebuild) or a site without commit.txt is."""
    order = _run(workflow, r"merge-base --is-ancestor")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    shas = []
    for n in range(2):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", str(n)], check=True)
        shas.append(subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip())
    older, newer = shas
    for published, sha, deployed in ((newer, older, False), (older, newer, True), (newer, newer, True), ("", older, True)):
        (tmp_path / "output").unlink(missing_ok=True)
        curl = f'echo "{published}"' if published else "exit 22"
        done = _bash_step(order["run"], {"BASE_URL": "https://example.invalid/site", "SHA": sha}, tmp_path,
                          {"curl": curl})
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "output").read_text().strip() == f"newer={'true' if deployed else 'false'}", (published, sha)


def _bash_step(script: str, env: dict, tmp_path: Path, fakes: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a step's shell with fake commands (each a bash script) first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in fakes.items():
        (bin_dir / name).write_text("#!/usr/bin/env bash\n" + body)
        (bin_dir / name).chmod(0o755)
    full_env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), "CALLS": str(tmp_path / "calls"),
                "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), **env}
    return subprocess.run(["bash", "-e", "-c", script], env=full_env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)


FAKE_GH = 'echo "$*" >> "$CALLS"\nif [ "$1 $2" = "release view" ]; then exit "${RELEASE_EXISTS:-1}"; fi\n'


@pytest.mark.parametrize("exists", [False, True], ids=["first run", "re-run"])
@pytest.mark.parametrize("ref_type,ref_name", [("branch", "main"), ("tag", "v1.2")])
def test_releases_are_idempotent_and_a_tag_is_verified(workflow, tmp_path, exists, ref_type, ref_name):
    """The release step creates the release on a first run (a pushed tag with --verify-tag, an edition of
    main with its own dated tag at its commit) and uploads with --clobber on a re-run."""
    release = _run(workflow, r"gh release create")
    (tmp_path / "edition").mkdir()
    (tmp_path / "edition" / "findings.json").write_text(json.dumps({"measured_at": "2026-11-02T04:40:00+00:00"}))
    done = _bash_step(release["run"], {"REF_TYPE": ref_type, "REF_NAME": ref_name, "SHA": "0123456789abcdef" * 2 + "01234567",
                                       "RELEASE_EXISTS": "0" if exists else "1"}, tmp_path, {"gh": FAKE_GH})
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    # an edition's tag: the day it was measured and its commit, the same whenever the job is re-run
    tag = ref_name if ref_type == "tag" else "edition-2026-11-02-0123456"
    assert calls[0] == f"release view {tag}"
    files = " ".join(f"edition/{n}" for n in ("report.pdf", "report.html", "findings.json", "manifest.json", "cells.csv"))
    if exists:
        assert calls[1] == f"release upload {tag} {files} --clobber" and calls[2].startswith(f"release edit {tag}")
    else:
        (create,) = calls[1:]
        assert create.startswith(f"release create {tag} ") and create.endswith(files)
        assert ("--verify-tag" in create) == (ref_type == "tag") and ("--target" in create) == (ref_type != "tag")


def test_each_scheduled_tagged_or_reviewed_edition_becomes_a_release(workflow):
    """The release job (contents: write, that job only) runs for the schedule, v* tags and a by-hand run on
    main (how an edition is published after review); a push to main only updates the site."""
    job = workflow["jobs"]["release"]
    assert job["permissions"] == {"contents": "write"}
    condition = " ".join(job["if"].split())
    assert "github.event_name == 'schedule'" in condition and "refs/tags/v" in condition
    assert "(github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main')" in condition
    assert "'push'" not in condition
    writers = [name for name, j in workflow["jobs"].items() if "write" in (j.get("permissions") or {}).get("contents", "")]
    assert writers == ["release"] and workflow["permissions"] == {"contents": "read"}


def test_a_failed_diff_or_unreadable_edition_opens_or_updates_an_issue(workflow, tmp_path):
    """When the diff fails the run (a flip, or the last edition cannot be read: its reason is the diff), the
    markdown is kept and a job with issues: write comments on the open issue or opens one; the body goes
    through tools/issue_body.py, which keeps it under GitHub's limit."""
    job = workflow["jobs"]["flag"]
    assert job["permissions"] == {"contents": "read", "issues": "write"} and job["needs"] == "build"
    assert "failure()" in job["if"] and "needs.build.outputs.diff_status == '1'" in job["if"]
    issue = job["steps"][-1]
    assert "tools/issue_body.py diff.md" in issue["run"]
    assert workflow["jobs"]["build"]["outputs"]["diff_status"] == "${{ steps.diff.outputs.status }}"
    (kept,) = [a for a in _uses(workflow, "actions/upload-artifact") if a["with"]["name"] == "vgreport-diff"]
    assert kept["with"]["path"] == "diff.md" and "steps.diff.outputs.status == '1'" in kept["if"]
    (tmp_path / "diff.md").write_text("## a flip\n")
    shutil.copytree(ROOT / "tools", tmp_path / "tools")
    for open_issue in ("", "42"):
        (tmp_path / "calls").unlink(missing_ok=True)
        fake = FAKE_GH + f'if [ "$1 $2" = "issue list" ]; then echo "{open_issue}"; fi\n'
        done = _bash_step(issue["run"], {"RUN_URL": "https://example.invalid/run/1"}, tmp_path, {"gh": fake})
        assert done.returncode == 0, done.stderr
        last = (tmp_path / "calls").read_text().splitlines()[-1]
        assert last == ("issue comment 42 --body-file body.md" if open_issue else
                        'issue create --title vgreport: the new edition changes verdicts --body-file body.md')
        body = (tmp_path / "body.md").read_text()
        assert body.startswith("## a flip") and "Run: https://example.invalid/run/1" in body


def test_an_unreadable_last_edition_is_reported_not_fatal(workflow, tmp_path):
    """The build checks the published edition with `vgreport diff --md` before building: unreadable, the
    build goes on without --baseline and the diff step writes why (the markdown `diff --md` printed) and
    fails the run (fail-on never lets it publish)."""
    check = _run(workflow, r"diff previous previous --md")
    assert "VGREPORT_BUILD_BASELINE" in check["run"] and "readable=false" in check["run"]
    diff = workflow["jobs"]["build"]["steps"][[s.get("id") for s in workflow["jobs"]["build"]["steps"]].index("diff")]
    assert "cp baseline.md diff.md" in diff["run"] and '[ "$FAIL_ON" = never ] || status=1' in diff["run"]
    (tmp_path / "findings.json").write_text('{"profile": "standard", "findings": "@octocat"}')
    result = CliRunner().invoke(main, ["diff", str(tmp_path), str(tmp_path), "--md", "--fail-on", "never"])
    assert result.exit_code == 2 and result.stdout.startswith("## vgreport: an edition could not be read")
    assert "not a vgreport findings.json" in result.stdout and len(result.stderr.strip().splitlines()) == 1


def test_the_canary_builds_with_the_newest_releases_and_never_publishes(workflow):
    """The canary runs on its own cron or by hand, installs the newest release of every dependency (no lock),
    builds the standard profile, diffs it with the published edition (fail-on drift) and leaves the issue
    to a job that only has issues: write; nothing that publishes depends on it, and it writes nothing."""
    canary = workflow["jobs"]["canary"]
    assert canary["if"] == f"github.event.schedule == '{CANARY_CRON}' || inputs.canary"
    assert canary["permissions"] == {"contents": "read", "pages": "read"}
    install = _run(workflow, r"\.venv-canary/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e \.")
    assert "requirements" not in install["run"] and "download.pytorch.org/whl/cpu torch" in install["run"]
    assert "pip check" in install["run"]
    build = _run(workflow, r"vgreport build --profile standard --out canary")
    compare = _run(workflow, r"diff previous/findings\.json canary --md --fail-on drift")
    assert canary["steps"].index(build) < canary["steps"].index(compare)
    flag = workflow["jobs"]["canary-flag"]
    assert flag["needs"] == "canary" and flag["permissions"] == {"contents": "read", "issues": "write"}
    assert "needs.canary.result == 'failure'" in flag["if"]  # a release that breaks the build is news too
    assert "tools/issue_body.py canary.md" in flag["steps"][-1]["run"] and "gh issue comment" in flag["steps"][-1]["run"]
    for name, job in workflow["jobs"].items():
        needs = job.get("needs", [])
        if "canary" in ([needs] if isinstance(needs, str) else needs):
            assert name == "canary-flag"
    edition_jobs = workflow["jobs"]["test"]["if"]
    assert f"github.event.schedule != '{CANARY_CRON}'" in edition_jobs and "!inputs.canary" in edition_jobs


def test_a_canary_that_failed_before_comparing_still_opens_the_issue(workflow, tmp_path):
    """Without canary.md (the install or the build failed), the canary issue says so, with the versions."""
    step = workflow["jobs"]["canary-flag"]["steps"][-1]
    shutil.copytree(ROOT / "tools", tmp_path / "tools")
    (tmp_path / "canary-versions.txt").write_text("torch==9.9.0+cpu\n")
    done = _bash_step(step["run"], {"RUN_URL": "https://example.invalid/run/2"}, tmp_path, {"gh": FAKE_GH})
    assert done.returncode == 0, done.stderr
    body = (tmp_path / "body.md").read_text()
    assert body.startswith("## vgreport canary: the install or the build with the newest releases failed")
    assert "torch==9.9.0+cpu" in body and "Run: https://example.invalid/run/2" in body
    assert (tmp_path / "calls").read_text().splitlines()[-1].startswith("issue create --title vgreport canary:")


def test_the_schedule_is_kept_alive(workflow):
    """Every scheduled run enables the workflow again (GitHub disables a schedule after 60 days without
    activity), with actions: write in that job alone; docs/report.md says how to check it."""
    keepalive = workflow["jobs"]["keepalive"]
    assert keepalive["if"] == "github.event_name == 'schedule'" and keepalive["permissions"] == {"actions": "write"}
    assert 'gh api --method PUT "repos/$GH_REPO/actions/workflows/report.yml/enable"' in keepalive["steps"][0]["run"]
    assert "gh workflow list --all" in (ROOT / "docs" / "report.md").read_text()


@pytest.mark.parametrize("path", [REPORT, TEST], ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_sha_and_checkout_keeps_no_credentials(path):
    """Every action is pinned by a full commit SHA with its release as a comment (the same SHA wherever an
    action appears), and every checkout has persist-credentials: false."""
    pins: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        used = re.search(r"uses: (\S+)", line)
        if used and not used.group(1).startswith("./"):
            match = re.fullmatch(r"\s*(?:- )?uses: ([\w-]+/[\w-]+)(?:/[\w/-]+)?@([0-9a-f]{40}) # v\d+\.\d+\.\d+", line)
            assert match, f"not pinned by SHA with a version comment: {line.strip()}"
            pins.setdefault(match.group(1), set()).add(match.group(2))
    assert pins and all(len(shas) == 1 for shas in pins.values()), pins
    for step in _uses(_load(path), "actions/checkout"):
        assert step["with"]["persist-credentials"] is False


def test_the_two_workflows_pin_the_same_releases():
    """An action used in both workflows is pinned to the same commit in both."""
    def pins(path):
        return dict(re.findall(r"uses: ([\w-]+/[\w-]+)(?:/[\w/-]+)?@([0-9a-f]{40})", path.read_text()))
    report, test = pins(REPORT), pins(TEST)
    assert all(report[a] == sha for a, sha in test.items() if a in report)


def test_dependabot_updates_the_actions_and_pip():
    """.github/dependabot.yml keeps the pinned actions and the pip requirements up to date."""
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert {"github-actions", "pip"} <= set(ecosystems)
    assert all(u["directory"] == "/" and u["schedule"]["interval"] for u in ecosystems.values())


def test_the_issue_body_is_cut_below_githubs_limit_with_a_pointer(tmp_path):
    """tools/issue_body.py: a diff over the budget is cut at a line break, says so and where the whole diff
    is (the artifact, by the run's link); a short one is kept whole; every body is under 65,536 characters."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import issue_body
    finally:
        sys.path.remove(str(ROOT / "tools"))
    long_diff = "".join(f"| finding | C{n} | a title | supported | **refuted** | support lost |\n" for n in range(5000))
    body = issue_body.issue_body(long_diff, "https://example.invalid/run/7", "vgreport-diff", "Review it.")
    assert len(long_diff) > 65_536 and len(body) < 65_536
    kept, note = body.split("\n\n**The diff is cut here**")
    assert long_diff.startswith(kept + "\n") and "`vgreport-diff` artifact (https://example.invalid/run/7#artifacts)" in note
    assert body.endswith("Run: https://example.invalid/run/7. Review it.\n")
    short = issue_body.issue_body("## short\n", "u", "a", "t")
    assert short == "## short\n\nRun: u. t\n"
    (tmp_path / "d.md").write_text(long_diff)
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "issue_body.py"), str(tmp_path / "d.md"), "u", "a", "t"],
                          capture_output=True, text=True, check=True)
    assert len(done.stdout) < 65_536


def test_edition_text_reaches_the_issue_inert(tmp_path):
    """An edition's profile, ids and titles go into the diff's markdown (the issue body) without a live
    @mention, #reference, GH- reference or autolink: a word joiner sits inside each (rendered invisible)."""
    hostile = "@octocat see #12, GH-3, o/r#9, https://evil.example, www.evil.example, a@b.example, &#64;x"
    old = {"profile": hostile, "measured_at": "2026-11-01T10:00:00+00:00",
           "findings": [{"id": "C4 @team", "title": hostile, "verdict": "supported"}]}
    new = json.loads(json.dumps(old))
    new["findings"][0]["verdict"] = "refuted"
    for name, edition in (("old.json", old), ("new.json", new)):
        (tmp_path / name).write_text(json.dumps(edition))
    result = CliRunner().invoke(main, ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--md"])
    assert result.exit_code == 1, result.output
    text = result.stdout
    assert "octocat" in text and "evil.example" in text  # quoted, not dropped
    for live in (r"@[A-Za-z0-9]", r"#\d", r"GH-\d", r"https?://", r"www\.[a-z]", r"(?<!\\)&#"):  # \&: no entity
        assert not re.search(live, text), (live, [line for line in text.splitlines() if re.search(live, line)])


def test_measured_at_must_be_a_time_stamp(tmp_path):
    """An edition's measured_at is an ISO 8601 time stamp (or empty, or null): any other text is refused in
    one line, so it cannot carry text into a report or an issue."""
    base = {"profile": "smoke", "findings": [{"id": "C4", "verdict": "supported"}]}
    for value, ok in (("2026-11-01T10:00:00+00:00", True), ("", True), (None, True), ("2026-11-01", True),
                      ("@octocat", False), ("yesterday", False), ("2026-13-01T10:00:00", False)):
        (tmp_path / "e.json").write_text(json.dumps({**base, "measured_at": value}))
        result = CliRunner().invoke(main, ["diff", str(tmp_path / "e.json"), str(tmp_path / "e.json")])
        assert (result.exit_code == 0) == ok, (value, result.output)
        if not ok:
            assert result.exit_code == 2 and '"measured_at" must be a time stamp' in result.output


def test_the_readme_shows_the_workflow_badges():
    """The README's status badges are the two workflows'."""
    readme = (ROOT / "README.md").read_text()
    for name in ("report", "test"):
        assert f"https://github.com/vgreport/vgreport/actions/workflows/{name}.yml/badge.svg" in readme
