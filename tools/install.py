"""The set-up behind `make report` and `make test`: a venv with the locked packages, torch and vgreport.

    python tools/install.py --venv .venv --lock requirements.lock --stamp .venv/.installed-report-3.11

Standard library only: it runs on the Python that creates the venv. The steps, each of which
names what failed and stops (exit 2) if it does:

1. the venv: created with this Python if it is missing, created again if it is broken (its
   Python does not start), refused if it holds another Python version;
2. the lock: `pip install --no-deps --require-hashes -r LOCK`. Without --no-deps, a pip older
   than 23.3 resolves an extra (weasyprint's `fonttools[woff]`) past the locked version and
   refuses the lock; the lock is closed under dependencies, and step 5 checks it;
3. torch, in a step of its own, because PyPI has no CPU build of torch for Linux: on Linux its CPU
   build (`torch==V+cpu`), from wherever pip finds it (PyTorch's CPU index is added when a
   5-second probe reaches it; a local wheel folder in pip's configuration counts); where no
   CPU build can be found, PyPI's torch (requirements-torch.lock: a CUDA build on Linux, about
   2.7 GB to download; it runs on a CPU too). On macOS PyPI's torch, a CPU build there.
   --torch cpu refuses the fallback, --torch pypi goes straight to it;
4. vgreport itself, editable (`pip install --no-deps --no-build-isolation -e .`);
5. `pip check` (every requirement of every installed package is met), and WeasyPrint's import
   (it needs the system's Pango).

Every stamp is removed first and written only after the last step succeeded, so `make` never
trusts a half-made venv; running it again repairs whatever a failed run left (pip installs only
what is missing or different).
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCH_LOCK = ROOT / "requirements-torch.lock"  # PyPI's torch, and the CUDA packages it pulls in on Linux
TORCH_CPU_LOCK = ROOT / "requirements-torch-cpu.lock"  # the CPU build, hashed where the lock was made
PROBE_SECONDS = 5
PIP = ["-m", "pip", "install", "--no-warn-script-location", "--disable-pip-version-check"]
# What pip says when no index or folder it searched has the requested version.
NOT_FOUND = re.compile(r"No matching distribution found|Could not find a version that satisfies")


class SetupError(Exception):
    """A step failed: the message says which, and what to do."""


def say(text: str) -> None:
    print(f"set-up: {text}", flush=True)


def run(command: list[str], what: str) -> str:
    """Run a command, showing its output as it comes; return the output, or raise SetupError
    naming WHAT and pip's own first error line."""
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", cwd=ROOT) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
    output = "".join(lines)
    if process.returncode != 0:
        errors = [line.strip() for line in lines if line.startswith("ERROR:")]
        reason = errors[0] if errors else (lines[-1].strip() if lines else f"exit status {process.returncode}")
        raise SetupError(f"{what} failed: {reason}", output)
    return output


def python_version(python: Path) -> str | None:
    try:
        done = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def make_venv(venv: Path) -> Path:
    """The venv's Python: the existing venv if it runs this Python version, else a new one."""
    python = venv / "bin" / "python"
    wanted = "%d.%d" % sys.version_info[:2]
    if venv.exists():
        found = python_version(python)
        if found == wanted:
            return python
        if found is not None:
            raise SetupError(f"{venv} holds Python {found}, not {wanted} ({sys.executable}): run `make clean` "
                             f"first, or keep both with VENV={venv}-{wanted}")
        if not (venv / "pyvenv.cfg").is_file():
            raise SetupError(f"{venv} exists and is not a virtual environment: move it away or name another VENV")
        say(f"{venv} is broken (its Python does not start): making it again")
        shutil.rmtree(venv)
    say(f"creating {venv} with {sys.executable} (Python {wanted})")
    try:
        run([sys.executable, "-m", "venv", str(venv)], f"creating {venv}")
    except SetupError as exc:
        shutil.rmtree(venv, ignore_errors=True)  # never leave a venv without pip for the next run to trust
        raise SetupError(f"{exc.args[0]} (on Debian and Ubuntu: apt-get install python{wanted}-venv)") from None
    return python


def installed_version(python: Path, package: str) -> str | None:
    done = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def reachable(url: str) -> tuple[bool, str]:
    """Whether an index answers within PROBE_SECONDS (so an unreachable one never costs pip's retries)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url.rstrip("/") + "/torch/", method="HEAD"),
                                    timeout=PROBE_SECONDS) as response:
            return response.status == 200, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, " ".join(str(reason).split()) or type(exc).__name__


def install_torch(python: Path, choice: str, index: str) -> None:
    version = re.search(r"^torch==([^\s;]+)", TORCH_LOCK.read_text(), re.M).group(1)
    present = installed_version(python, "torch")
    if present in (version, f"{version}+cpu"):
        say(f"torch {present} is installed")
        return
    if choice != "pypi" and sys.platform == "linux":
        if try_cpu_build(python, version, index):
            return
        if choice == "cpu":
            raise SetupError(f"torch's CPU build (torch=={version}+cpu) was not found (pip's output above), and "
                             f"TORCH=cpu forbids PyPI's: name a source of it, e.g. PIP_FIND_LINKS=<folder of "
                             f"wheels>, or let the set-up take PyPI's torch (TORCH=auto)")
        say(f"torch's CPU build (torch=={version}+cpu) was not found, so this installs PyPI's torch=={version}: "
            f"on Linux a CUDA build, about 2.7 GB to download (torch and NVIDIA's libraries) and 5 GB in the venv; "
            f"it runs on a CPU too. Ctrl-C and see the README to take the CPU build instead.")
    else:
        say(f"installing PyPI's torch=={version} ({'as asked: TORCH=pypi' if choice == 'pypi' else 'a CPU build on this system'})")
    run([str(python), *PIP, "--no-deps", "--require-hashes", "-r", str(TORCH_LOCK)],
        f"installing PyPI's torch=={version} (requirements-torch.lock)")


def try_cpu_build(python: Path, version: str, index: str) -> bool:
    """Install torch's CPU build; False when no index or folder pip searched has it."""
    ok, why = reachable(index)
    extra = ["--extra-index-url", index] if ok else []
    say(f"PyTorch's CPU index {index}: " + ("reachable" if ok else f"not reachable ({why}); looking for "
                                          f"torch {version}+cpu where pip's configuration points"))
    attempts = [  # the hashed lock first (it installs nothing off the platform it was made on), then the pin
        ([str(python), *PIP, "--no-deps", "--require-hashes", "-r", str(TORCH_CPU_LOCK), *extra],
         "installing torch's CPU build (requirements-torch-cpu.lock)"),
        ([str(python), *PIP, "--no-deps", f"torch=={version}+cpu", *extra], f"installing torch=={version}+cpu")]
    for command, what in attempts:
        try:
            run(command, what)
        except SetupError as exc:
            if NOT_FOUND.search(exc.args[1]):
                return False
            raise
        if installed_version(python, "torch") == f"{version}+cpu":
            return True
    return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--lock", type=Path, required=True, help="requirements.lock or requirements-dev.lock")
    parser.add_argument("--stamp", type=Path, action="append", default=[], help="written when all succeeded")
    parser.add_argument("--torch", choices=["auto", "cpu", "pypi"], default="auto")
    parser.add_argument("--torch-index", default="https://download.pytorch.org/whl/cpu")
    args = parser.parse_args(argv)
    if sys.version_info < (3, 11):
        print(f"set-up: vgreport needs Python 3.11 or later; {sys.executable} is "
              f"{'%d.%d' % sys.version_info[:2]}: pass PYTHON=python3.11 (or later)", file=sys.stderr)
        return 2
    for stamp in args.venv.glob(".installed*"):
        stamp.unlink()
    try:
        python = make_venv(args.venv)
        say(f"installing {args.lock.name} (hashed, --no-deps)")
        run([str(python), *PIP, "--quiet", "--no-deps", "--require-hashes", "-r", str(args.lock)],
            f"installing {args.lock.name}")
        install_torch(python, args.torch, args.torch_index)
        say("installing vgreport (editable)")
        run([str(python), *PIP, "--quiet", "--no-deps", "--no-build-isolation", "-e", "."], "installing vgreport")
        run([str(python), "-m", "pip", "check", "--disable-pip-version-check"],
            "pip check (the installed packages do not fit together)")
        weasyprint = subprocess.run([str(python), "-c", "import weasyprint"], capture_output=True, text=True)
        if weasyprint.returncode != 0:
            raise SetupError("WeasyPrint cannot start: " + (weasyprint.stderr.strip().splitlines() or ["?"])[-1]
                             + " (it needs the Pango libraries: apt-get install libpango-1.0-0 libpangoft2-1.0-0)")
    except SetupError as exc:
        print(f"set-up: {exc.args[0]}. Nothing is marked as installed: run the same command again after fixing "
              f"it (it repairs {args.venv} in place).", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("set-up: interrupted; nothing is marked as installed (run the command again)", file=sys.stderr)
        return 130
    for stamp in args.stamp:
        stamp.touch()
    say(f"done: {args.venv} is ready")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
