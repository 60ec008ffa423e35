"""Packaging: an installed (non-editable) vgreport carries its templates and battery."""
from __future__ import annotations

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


def test_requirements_pin_torch_to_the_cpu_build():
    """requirements.txt pins torch exactly, so a fresh set-up never resolves a CUDA build."""
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "torch==2.13.0" in pins
    assert all("==" in p for p in pins if p), "every requirement is pinned"


def test_ci_runs_exactly_the_readme_test_command():
    """.ci/run ends with the README's test command, `make test`."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].strip() == "make test"
    assert "make test" in readme and "make report" in readme
