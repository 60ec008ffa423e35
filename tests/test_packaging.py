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
    script = ("import vgreport, vgreport.findings as f, vgreport.report.environment as r; env = r.make_environment(); "
              "[env.get_template(f'findings/{i}.html.j2') for i in f.prose_templates()]; "
              "print(vgreport.__file__, [m.SPEC.id for m in f.MODULES], sorted(f.prose_templates()))")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith(str(site)), out
    assert out.split(" ", 1)[1].strip() == f"{[m.SPEC.id for m in MODULES]} {sorted(prose_templates())}"


def _pins(name: str) -> list[str]:
    return [p for p in (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines()) if p]


def _lock() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock as {normalised name: (version, [sha256 hashes])}."""
    locked = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text()):
        head = re.match(r"([A-Za-z0-9._\-]+)==(\S+)", block)
        if head:
            name = re.sub(r"[-_.]+", "-", head.group(1)).lower()
            locked[name] = (head.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return locked


def test_the_lock_pins_every_package_with_hashes_and_torch_to_the_cpu_build():
    """Every package of requirements.lock has an exact version and at least one sha256, so
    `pip install --require-hashes` takes nothing else; torch is the CPU build."""
    locked = _lock()
    assert len(locked) >= 60 and all(hashes for _, hashes in locked.values())
    assert locked["torch"][0] == "2.13.0+cpu"
    assert not [n for n in locked if n.startswith("nvidia-")]


def test_the_lock_is_closed_under_dependencies():
    """Every requirement of every locked package (for this interpreter) is itself locked, at a version
    its range admits: nothing transitive floats between CI runs."""
    import importlib.metadata

    from packaging.requirements import Requirement
    locked = _lock()
    for name, (version, _) in locked.items():
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # locked for Linux x86-64 with Python 3.11; this environment may lack a platform's extra
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            dep = re.sub(r"[-_.]+", "-", req.name).lower()
            assert dep in locked, f"{name} needs {dep}, which requirements.lock does not pin"
            assert req.specifier.contains(locked[dep][0], prereleases=True), (name, text, locked[dep][0])


def test_requirements_in_pins_what_the_package_declares_within_its_ranges():
    """requirements.in (what `make lock` resolves) pins every dependency and extra of pyproject.toml, each
    at a version its range admits; the metadata itself gives ranges, never exact pins, so
    `pip install . weasyprint==68.1` resolves."""
    import tomllib

    from packaging.requirements import Requirement
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(d) for d in project["dependencies"] + project["optional-dependencies"]["test"]
                + project["optional-dependencies"]["dask"]]
    pins = {Requirement(p).name.lower(): Requirement(p) for p in _pins("requirements.in")}
    for req in declared:
        assert not any(s.operator == "==" for s in req.specifier), f"{req}: a range, not a pin"
        pin = pins[req.name.lower()]
        (version,) = [s.version for s in pin.specifier]
        assert req.specifier.contains(version), (str(req), version)
    weasyprint = next(r for r in declared if r.name == "weasyprint")
    assert weasyprint.specifier.contains("68.1") and weasyprint.specifier.contains("70.0")
    assert not weasyprint.specifier.contains("67.0")  # no weasyprint.URLFetcher before 68


def test_make_installs_the_lock_with_hashes_and_make_lock_refreshes_it():
    """make installs requirements.lock with --require-hashes (CI runs make); `make lock` regenerates it
    with hashes from requirements.in."""
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements.lock" in makefile
    lock = makefile[makefile.index("\nlock:"):]
    assert "compile requirements.in -o requirements.lock --generate-hashes" in lock
    assert (ROOT / "requirements.lock").read_text().splitlines()[1].strip() == "#    make lock"


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


def test_readme_is_a_front_door():
    """At most 200 lines, the two commands in the first 40, one picture of a page (a real PNG under 150 KB,
    shipped in docs/), and a link to each reference page in docs/."""
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, len(lines)
    head = "\n".join(lines[:40])
    assert "make report" in head and "make test" in head
    readme = "\n".join(lines)
    (image,) = re.findall(r"!\[[^\]]+\]\(https://raw\.githubusercontent\.com/vgreport/vgreport/main/([^)]+)\)", readme)
    png = (ROOT / image).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 150_000, len(png)
    for page in ("commands", "report", "scale-out", "engine", "battery"):
        assert (ROOT / "docs" / f"{page}.md").is_file()
        assert f"https://github.com/vgreport/vgreport/blob/main/docs/{page}.md" in readme, page
    for page in ("findings", "budgets", "safety"):  # written beside this work; linked from the front door
        assert f"https://github.com/vgreport/vgreport/blob/main/docs/{page}.md" in readme, page


def test_make_test_runs_ruff_before_the_suite():
    """`make test` (and so CI) lints and checks the import order with ruff, configured in pyproject.toml,
    before it runs pytest."""
    import tomllib
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest:"):].split("\n\n")[0]
    assert recipe.index("ruff check .") < recipe.index("-m pytest"), recipe
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert {"F", "I"} <= set(lint["select"])
