"""build/manifest.json: what produced this build, so that two editions can be told apart.

The manifest records the code version, the library versions, the platform, threads and device,
the profile and options, the seeds, every cell's spec hash (its cache key) and training time, and
when the build started and finished. It is written with the other outputs; the report's appendix
shows the part of it that is a function of the report's inputs (`appendix_rows`), never the
start and end times, so that identical inputs still give an identical report.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from . import __version__, sources

if TYPE_CHECKING:
    from .runner import Summary

__all__ = ["now", "source_sha256", "code_description", "platform_info", "cpu_model", "torch_build", "cell_rows",
           "build_manifest", "appendix_rows"]

_PACKAGE = Path(__file__).resolve().parent


def now() -> str:
    """The wall clock, UTC, to the second (start and end of a build)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@lru_cache(maxsize=1)
def source_sha256() -> str:
    """SHA-256 of vgreport's own Python source (subpackages included), file names included."""
    return sources.source_sha256(sources.package_files())


def _git_describe() -> str | None:
    """`git describe --tags --always --dirty` of the repository vgreport runs from, or None when it
    is not run from a git checkout of itself (an installed wheel inside some other repository's
    virtual environment must not report that repository's version)."""
    try:
        top = subprocess.run(["git", "-C", str(_PACKAGE), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        if not top or Path(top).resolve() / "vgreport" != _PACKAGE:
            return None
        return subprocess.run(["git", "-C", top, "describe", "--tags", "--always", "--dirty"], capture_output=True,
                              text=True, timeout=5, check=True).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def code_description() -> str:
    """What the manifest and the appendix call the code version: the git description of the
    checkout (e.g. v0.1.0-12-gabc1234-dirty), else the package version and the first 12 hex digits
    of the source hash (e.g. 0.1.0+src.3f9a0c1d2e4b). A label for people; the cache keys use
    sources.training_code."""
    return _git_describe() or f"{__version__}+src.{source_sha256()[:12]}"


def platform_info() -> dict[str, Any]:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return {"system": platform.platform(), "machine": platform.machine(), "python": platform.python_version(),
            "implementation": platform.python_implementation(), "cores": cores}


def cpu_model() -> str:
    """The CPU's name (/proc/cpuinfo's "model name" on Linux, else platform.processor()): training
    outcomes can differ between CPUs through the kernels torch picks for them."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def torch_build(load: bool = True) -> dict[str, Any]:
    """torch's build and the settings that change its numbers: the version with its local label
    (+cpu, +cu130), BLAS, LAPACK and oneDNN from torch.__config__.show(), CUDA and cuDNN when
    present, the instruction set its CPU kernels use, deterministic algorithms and the float32
    matmul precision. With load=False and torch not imported yet (a build that trained nothing)
    only the installed version, read without importing torch (seconds)."""
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if not load and "torch" not in sys.modules:
        return {"version": version}
    import torch
    config = torch.__config__.show()

    def setting(name: str) -> str | None:
        found = re.search(rf"\b{name}=([^,\s]+)", config)
        return found.group(1) if found else None

    onednn = re.search(r"(?:oneDNN|MKL-DNN) (v[\w.]+)", config)
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {"version": torch.__version__, "blas": setting("BLAS_INFO"), "mkl": mkl.group(1) if mkl else None,
            "lapack": setting("LAPACK_INFO"), "onednn": onednn.group(1) if onednn else None,
            "cuda": torch.version.cuda, "cudnn": cudnn, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "float32_matmul_precision": torch.get_float32_matmul_precision()}


def device_info(device: str) -> dict[str, Any]:
    info: dict[str, Any] = {"name": device}
    if device == "cuda":
        import torch
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def cell_rows(cells: Sequence, keys: Sequence[str], records: Sequence[dict]) -> list[dict]:
    """One row per cell: its label, spec hash (cache key) and the wall time its records state
    (the time it took when it was computed, in this build or the one that cached it)."""
    timings = [r for r in records if r.get("metric") == "wall_seconds"]
    # run_cell writes exactly one wall_seconds record per cell, and execute returns the records
    # in cell order; check the labels rather than trust the order.
    matches = len(timings) == len(cells) and all(
        (r.get("experiment"), r.get("variant"), r.get("seed")) == (c.experiment, c.variant, c.seed)
        for r, c in zip(timings, cells))
    return [{"cell": c.label, "key": k, "wall_seconds": float(r["value"]) if matches else None}
            for c, k, r in zip(cells, keys, timings if matches else [{}] * len(cells))]


def build_manifest(*, code: str, versions: dict[str, str], device: str, jobs: int, threads: int,
                   profile: str, options: dict[str, Any], seeds: Sequence[int], cells: list[dict],
                   summary: Summary, report: str, started: str) -> dict[str, Any]:
    keys = sorted({c["key"] for c in cells})
    # torch is imported for its build only when this build trained (else it would cost an
    # unchanged rebuild seconds, and the records came from the build that trained them).
    build = torch_build(load=summary.computed > 0)
    return {
        "vgreport": {"version": __version__, "code": code, "source_sha256": source_sha256()},
        "profile": profile,
        "options": options,
        "dependencies": versions,
        "platform": platform_info(),
        "cpu": {"model": cpu_model(), "capability": build.get("cpu_capability")},
        "torch": build,
        "threads": {"jobs": jobs, "torch_threads_per_worker": threads},
        "device": device_info(device),
        "seeds": list(seeds),
        "specs": {"cells": len(cells), "distinct": len(keys),
                  "sha256": hashlib.sha256("\n".join(keys).encode()).hexdigest()},
        "cells": cells,
        "summary": {k: v for k, v in summary.to_json().items() if k not in ("record_digests", "measured_at")},
        "report": report,
        "measured_at": summary.measured_at,
        "started": started,
        "finished": now(),
    }


def seed_ranges(seeds) -> str:
    """Seeds as runs of consecutive numbers: [1000, ..., 1009] -> '1000–1009'; [0, 1, 2, 5] -> '0–2, 5'."""
    runs: list[list[int]] = []
    for s in sorted(set(int(x) for x in seeds)):
        if runs and s == runs[-1][1] + 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ", ".join(str(a) if a == b else f"{a}, {b}" if b == a + 1 else f"{a}–{b}" for a, b in runs) or "none"


def appendix_rows(manifest_part: dict[str, Any]) -> list[tuple[str, str]]:
    """The rows the report's appendix shows: only what is a function of the report's inputs."""
    m = manifest_part
    device = m["device"]["name"] + (f" ({m['device']['gpu']})" if m["device"].get("gpu") else "")
    p = m["platform"]
    return [("Code version", m["code"]),
            ("Profile", m["profile"]),
            ("Device", device),
            ("Platform", f"{p['system']}, {p['implementation']} {p['python']}, {p['cores']} cores"),
            ("Seeds", seed_ranges(m["seeds"])),
            ("Cells", f"{m['specs']['cells']} ({m['specs']['distinct']} distinct cell specifications, seeds included)"),
            ("Spec hashes", f"SHA-256 of the sorted cell keys: {m['specs']['sha256'][:16]}…")]
