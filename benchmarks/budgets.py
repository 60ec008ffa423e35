"""Measure the profile budgets from an empty cache, as a new user would see them.

    python benchmarks/budgets.py                  # smoke and quick, each rebuilt unchanged and re-rendered
    python benchmarks/budgets.py --with-standard  # also standard (about 10-15 minutes)

Each build runs the installed `vgreport` command in a fresh temporary folder; the table
compares wall time with `vgreport list`'s estimate and the issue's budget.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = {"smoke": 30, "quick": 180, "standard": 900, "rebuild": 10}


def vgreport(*args: str) -> float:
    exe = Path(sys.executable).with_name("vgreport")
    started = time.perf_counter()
    done = subprocess.run([str(exe), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:  # the CLI's verdict lines would clutter the table; show them only on failure
        sys.exit(f"vgreport {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def estimate(profile: str) -> float:
    from vgreport.api import list_experiments
    from vgreport.runner import default_jobs
    jobs = default_jobs()
    return sum(r["estimated_seconds"] for r in list_experiments(profile)) / jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-standard", action="store_true", help="also time the standard profile")
    args = parser.parse_args()
    profiles = ["smoke", "quick"] + (["standard"] if args.with_standard else [])
    print(f"{'build':<22} {'measured s':>10} {'estimate s':>10} {'budget s':>9}  ok")
    for profile in profiles:
        out = Path(tempfile.mkdtemp(prefix=f"vgreport-{profile}-"))
        try:
            seconds = vgreport("build", "--profile", profile, "--out", str(out))
            print(f"{profile:<22} {seconds:>10.1f} {estimate(profile):>10.1f} {BUDGET_SECONDS[profile]:>9}"
                  f"  {'yes' if seconds <= BUDGET_SECONDS[profile] else 'NO'}", flush=True)
            rebuild = vgreport("build", "--profile", profile, "--out", str(out))
            size = (out / "report.pdf").stat().st_size / 1e6
            print(f"{profile + ' unchanged rebuild':<22} {rebuild:>10.1f} {'':>10} {BUDGET_SECONDS['rebuild']:>9}"
                  f"  {'yes' if rebuild <= BUDGET_SECONDS['rebuild'] else 'NO'}   (PDF {size:.2f} MB)", flush=True)
            # What a template or findings edit costs: no training, but findings, figures and layout.
            rerender = vgreport("build", "--profile", profile, "--out", str(out), "--force-render")
            print(f"{profile + ' forced re-render':<22} {rerender:>10.1f} {'':>10} {'-':>9}", flush=True)
        finally:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
