"""The set-up behind `make report` and `make test` (tools/install.py) and the Makefile's clean targets:
a failure names what failed and leaves nothing that the next `make` trusts; torch falls back to
PyPI's build only when no CPU build can be found, and says what that costs."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def install(monkeypatch):
    """tools/install.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("vgreport_install", ROOT / "tools" / "install.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakePip:
    """Stands in for install.run: records each command and answers with the output given for the
    first matching word (an exception when that output starts with 'ERROR')."""

    def __init__(self, module, answers: dict[str, str], torch_after: str | None = None):
        self.module, self.answers, self.commands, self.torch_after = module, answers, [], torch_after

    def __call__(self, command, what):
        self.commands.append(command)
        text = " ".join(command)
        for word, output in self.answers.items():
            if word in text and output.startswith("ERROR"):
                raise self.module.SetupError(f"{what} failed: {output.splitlines()[0]}", output)
        return ""


NOT_FOUND = ("ERROR: Could not find a version that satisfies the requirement torch==2.13.0+cpu (from versions: "
             "2.12.0, 2.13.0)\nERROR: No matching distribution found for torch==2.13.0+cpu\n")


def _torch_setup(install, monkeypatch, answers, installed=None, reachable=(False, "Name or service not known")):
    pip = FakePip(install, answers)
    monkeypatch.setattr(install, "run", pip)
    monkeypatch.setattr(install, "reachable", lambda url: reachable)
    monkeypatch.setattr(install.sys, "platform", "linux")
    monkeypatch.setattr(install, "installed_version", lambda python, package: installed)
    return pip


def test_without_a_cpu_build_it_falls_back_to_pypi_torch_and_says_what_it_costs(install, monkeypatch, capsys):
    """When neither the hashed CPU lock nor the +cpu pin is found, PyPI's torch is installed from its hashed
    lock, after a line saying so and what it costs; the unreachable index is never handed to pip."""
    pip = _torch_setup(install, monkeypatch, {"requirements-torch-cpu.lock": NOT_FOUND})
    install.install_torch(Path("python"), "auto", "https://download.pytorch.org/whl/cpu")
    last = " ".join(pip.commands[-1])
    assert "--require-hashes -r" in last and last.endswith("requirements-torch.lock")
    assert not any("--extra-index-url" in c for c in pip.commands)
    out = capsys.readouterr().out
    assert "not reachable (Name or service not known)" in out
    assert "about 2.7 GB to download" in out and "PyPI's torch==2.13.0" in out


def test_a_reachable_cpu_index_is_handed_to_pip(install, monkeypatch):
    """A probe that reaches PyTorch's CPU index adds it as an extra index for the CPU build."""
    pip = _torch_setup(install, monkeypatch, {}, reachable=(True, "HTTP 200"))
    monkeypatch.setattr(install, "installed_version",
                        lambda python, package: "2.13.0+cpu" if pip.commands else None)
    install.install_torch(Path("python"), "auto", "https://download.pytorch.org/whl/cpu")
    assert len(pip.commands) == 1 and pip.commands[0][-2:] == ["--extra-index-url",
                                                               "https://download.pytorch.org/whl/cpu"]


def test_another_failure_is_named_not_blamed_on_the_index(install, monkeypatch):
    """A failure other than 'not found' (a hash mismatch, a full disk) stops the set-up with pip's own
    error, without downloading PyPI's torch."""
    mismatch = "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n"
    pip = _torch_setup(install, monkeypatch, {"requirements-torch-cpu.lock": mismatch})
    with pytest.raises(install.SetupError, match="DO NOT MATCH THE HASHES") as caught:
        install.install_torch(Path("python"), "auto", "https://download.pytorch.org/whl/cpu")
    assert "CPU index" not in caught.value.args[0]
    assert not any("requirements-torch.lock" in " ".join(c) for c in pip.commands)


def test_torch_cpu_refuses_the_fallback_and_torch_pypi_goes_straight_to_it(install, monkeypatch):
    """TORCH=cpu stops where the CPU build is missing (naming it); TORCH=pypi never tries it."""
    _torch_setup(install, monkeypatch, {"torch-cpu.lock": NOT_FOUND})
    with pytest.raises(install.SetupError, match=r"torch==2\.13\.0\+cpu\) was not found.*TORCH=cpu"):
        install.install_torch(Path("python"), "cpu", "https://download.pytorch.org/whl/cpu")
    pip = _torch_setup(install, monkeypatch, {})
    install.install_torch(Path("python"), "pypi", "https://download.pytorch.org/whl/cpu")
    assert len(pip.commands) == 1 and pip.commands[0][-1].endswith("requirements-torch.lock")


def test_an_installed_torch_of_the_locked_version_is_kept(install, monkeypatch):
    """A rerun does not reinstall torch (nor fall back again) when the locked version is there."""
    pip = _torch_setup(install, monkeypatch, {}, installed="2.13.0")
    install.install_torch(Path("python"), "auto", "https://download.pytorch.org/whl/cpu")
    assert pip.commands == []


def test_an_unreachable_index_costs_seconds_not_minutes(install, monkeypatch):
    """The probe gives up within its timeout (here a port nothing listens on: refused at once)."""
    started = time.monotonic()
    ok, why = install.reachable("http://127.0.0.1:9/whl/cpu")
    assert not ok and why and time.monotonic() - started < install.PROBE_SECONDS + 1


def test_the_real_run_names_pips_error(install, tmp_path):
    """install.run raises with pip's first ERROR line (a command that fails the way pip does)."""
    script = "import sys; print('Collecting x'); print('ERROR: No matching distribution found for x'); sys.exit(1)"
    with pytest.raises(install.SetupError, match="installing x failed: ERROR: No matching distribution"):
        install.run([sys.executable, "-c", script], "installing x")


def test_a_failed_install_leaves_no_stamp_and_names_the_lock(tmp_path):
    """A lock pip cannot read stops the set-up with exit 2 and a line naming it; the stamps of an earlier
    install are gone, so the next `make` runs the set-up again (which repairs the venv in place)."""
    venv = tmp_path / "venv"
    # a venv without its own pip (quick to make) that uses the base interpreter's
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    stamp = venv / ".installed-report-3.11"
    stamp.touch()
    (venv / ".installed-dev-3.11").touch()
    lock = tmp_path / "broken.lock"
    lock.write_text("this is not a requirement!!\n")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "install.py"), "--venv", str(venv), "--lock", str(lock),
                           "--stamp", str(stamp)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "set-up: installing broken.lock failed:" in done.stderr, done.stderr
    assert "Nothing is marked as installed" in done.stderr
    assert not list(venv.glob(".installed*"))


def test_a_venv_of_another_python_is_refused(install, tmp_path, monkeypatch):
    """A venv that holds another Python version is named and refused (make clean, or another VENV)."""
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    monkeypatch.setattr(install, "python_version", lambda python: "3.99")
    with pytest.raises(install.SetupError, match=r"holds Python 3\.99.*make clean.*VENV="):
        install.make_venv(venv)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_keeps_the_cell_cache_and_clean_cache_removes_it(tmp_path):
    """`make clean` removes the venv and the build outputs and keeps build/cache; `make clean-cache` removes it."""
    (tmp_path / "build" / "cache" / "0a").mkdir(parents=True)
    (tmp_path / "build" / "cache" / "0a" / "cell.json").write_text("{}")
    (tmp_path / "build" / "report.pdf").write_text("pdf")
    (tmp_path / "build" / ".staging-x").mkdir()
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    make = ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), "VENV=venv"]
    subprocess.run([*make, "clean"], check=True, capture_output=True, timeout=60)
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == ["cache"]
    assert (tmp_path / "build" / "cache" / "0a" / "cell.json").is_file() and not (tmp_path / "venv").exists()
    subprocess.run([*make, "clean-cache"], check=True, capture_output=True, timeout=60)
    assert not (tmp_path / "build" / "cache").exists()
