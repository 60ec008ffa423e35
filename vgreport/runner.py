"""Stage 6: execute cells with a content-hash cache, a process pool and a progress bar.

A cell's result is stored under the SHA-256 of everything that determines it: the cell spec,
the source of the experiment code (tasks, models, probes, training) and the versions of the
libraries that change numbers. Writes are atomic (temporary file + os.replace), so an
interrupted build never leaves a half-written result behind.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
import json
import multiprocessing
import os
import re
import shutil
import tempfile
import time
from datetime import datetime, timezone
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable, Iterable

import numpy
import torch
from tqdm import tqdm

from .specs import CellSpec, SpecError

__all__ = ["cell_key", "Cache", "ReportCache", "file_sha256", "execute", "default_jobs", "estimate_seconds",
           "estimate_bytes", "check_cost", "code_version", "MissingResults", "write_atomic", "staging_folder",
           "move_into"]


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(temporary path) in the target's folder, then rename over the target, so a
    crash or an error never leaves a half-written file (cache entries, tables, reports)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; outputs are meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def staging_folder(out: Path) -> Path:
    """A fresh folder inside out for outputs that must appear together (see move_into)."""
    out.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=out, prefix=".staging-"))


def move_into(out: Path, staged: dict[str, Path]) -> dict[str, Path]:
    """Rename complete staged files over their targets in out, one right after the other: the
    outputs of a build appear together, never a new metrics.csv beside an old report.pdf."""
    moved = {}
    for kind, path in staged.items():
        os.chmod(path, 0o644)
        os.replace(path, out / path.name)
        moved[kind] = out / path.name
    return moved


class MissingResults(Exception):
    """`render` was asked for cells that no build has computed yet."""

_EXPERIMENT_CODE = ("tasks.py", "models.py", "recurrences.py", "probes.py", "training.py")


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the code that produces records; editing it invalidates the cache."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _EXPERIMENT_CODE:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def cell_key(cell: CellSpec, device: str = "cpu") -> str:
    """Hash of what determines the numbers. Names (experiment, variant) are labels, not inputs:
    two experiments that share a configuration share its cached result."""
    spec = cell.model_dump(mode="json", exclude={"experiment", "variant", "sweep_value"})
    payload = {"cell": spec, "code": code_version(),
               "torch": torch.__version__, "numpy": numpy.__version__, "device": device}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class Cache:
    """One JSON file per cell under root/ab/abcdef....json."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[dict] | None:
        entry = self.entry(key)
        return None if entry is None else entry["records"]

    def entry(self, key: str) -> dict | None:
        """The stored {cell, records, computed_at} plus "sha256" (of the bytes read, so the
        report cache can name these records without reading them again), or None when absent
        or damaged."""
        try:
            raw = self.path(key).read_bytes()
            entry = json.loads(raw)
            if isinstance(entry.get("records"), list):
                return {**entry, "sha256": hashlib.sha256(raw).hexdigest()}
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            pass
        return None  # a damaged entry is recomputed, never trusted

    def put(self, key: str, cell: CellSpec, records: list[dict]) -> dict:
        """Store atomically; returns {"computed_at": UTC time stamp, "sha256": of the bytes written}."""
        path = self.path(key)
        computed_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        data = json.dumps({"cell": cell.model_dump(mode="json"), "records": records,
                           "computed_at": computed_at}).encode()
        write_atomic(path, lambda tmp: tmp.write_bytes(data))
        return {"computed_at": computed_at, "sha256": hashlib.sha256(data).hexdigest()}

    def clear(self) -> bool:
        """Remove what vgreport wrote here (cell shards ab/, reports/), never anything else, so a
        mistaken --cache cannot delete a user's folder. True when the folder itself is gone."""
        if not self.root.is_dir():
            return False
        for child in self.root.iterdir():
            ours = child.is_dir() and (child.name == ReportCache.FOLDER or (
                re.fullmatch(r"[0-9a-f]{2}", child.name) is not None
                and all(re.fullmatch(r"\.?[0-9a-f]{64}\.json(\..*\.tmp)?", f.name) for f in child.iterdir())))
            if ours:
                shutil.rmtree(child)
        if any(self.root.iterdir()):
            return False
        self.root.rmdir()
        return True


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class ReportCache:
    """Finished outputs (report.html/.pdf, metrics.csv, findings.json) stored under a digest of
    every input of the report stage, so that an unchanged rebuild copies them instead of
    evaluating, drawing and laying out again (WeasyPrint alone takes about 9 s on 2 cores).

    An entry is a folder cache/reports/<digest>/ with the files and manifest.json (each file's
    SHA-256, the verdicts); it is built under a temporary name and renamed into place, and a file
    that no longer matches its hash makes the entry a miss. The `keep` most recently used entries
    are kept: one per profile, paper or template set an instructor alternates between.
    """

    FOLDER = "reports"

    def __init__(self, cache_root: Path | str, keep: int = 4):
        self.root = Path(cache_root) / self.FOLDER
        self.keep = keep

    def get(self, digest: str) -> dict | None:
        """The manifest of a sound entry ({"files": {kind: {name, sha256}}, "verdicts": ...}) or None."""
        folder = self.root / digest
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            files = manifest["files"]
            if any(file_sha256(folder / f["name"]) != f["sha256"] for f in files.values()):
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # absent or damaged: render again
        os.utime(folder / "manifest.json")  # most recently used, for pruning
        return manifest

    def restore(self, manifest: dict, digest: str, out: Path) -> dict[str, Path]:
        """Copy an entry's files into out, together (a file already identical is left untouched)."""
        out = Path(out)
        staging = staging_folder(out)
        try:
            staged = {}
            for kind, f in manifest["files"].items():
                target = out / f["name"]
                if not (target.is_file() and file_sha256(target) == f["sha256"]):
                    staged[kind] = Path(shutil.copyfile(self.root / digest / f["name"], staging / f["name"]))
            move_into(out, staged)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return {kind: out / f["name"] for kind, f in manifest["files"].items()}

    def put(self, digest: str, files: dict[str, Path], verdicts: dict[str, str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".entry-"))
        try:
            manifest = {"files": {}, "verdicts": verdicts}
            for kind, path in files.items():
                shutil.copyfile(path, staging / Path(path).name)
                manifest["files"][kind] = {"name": Path(path).name, "sha256": file_sha256(path)}
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
            folder = self.root / digest
            if folder.exists():  # a damaged entry of the same digest: replace it
                shutil.rmtree(folder, ignore_errors=True)
            try:
                os.rename(staging, folder)
            except OSError:
                if not (folder / "manifest.json").is_file():
                    raise  # not a concurrent build that stored the same report first
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._prune()

    def _prune(self) -> None:
        for stale in self.root.glob(".entry-*"):  # staging left by a killed build
            try:
                if time.time() - stale.stat().st_mtime > 3600:
                    shutil.rmtree(stale, ignore_errors=True)
            except OSError:
                pass  # another build just finished with it
        entries = [d for d in self.root.iterdir() if d.is_dir() and not d.name.startswith(".")]
        def last_used(d: Path) -> float:
            try:
                return (d / "manifest.json").stat().st_mtime
            except OSError:
                return 0.0
        for stale in sorted(entries, key=last_used, reverse=True)[self.keep:]:
            shutil.rmtree(stale, ignore_errors=True)


# Single-thread training throughput measured on this 2-core machine in a standard build
# (steps/s at T=100, batch 64; hidden 64, the transformer 32). Cost grows with length + 10
# and with width^1.5. Used for the ETA and `vgreport list`; budgets/README compare it with reality.
_STEPS_PER_SECOND_T100 = {"rnn": 160.0, "lstm": 140.0, "gru": 55.0, "transformer": 68.0}
_REFERENCE_HIDDEN = {"rnn": 64, "lstm": 64, "gru": 64, "transformer": 32}
_SLOW_ACTIVATIONS = {"sigmoid": 1.4, "identity": 1.4}  # no fused kernel: a Python loop per step


def estimate_seconds(cell: CellSpec) -> float:
    """Rough single-thread cost of a cell: training steps plus evaluations and probes."""
    m, t = cell.model, cell.task
    rate = _STEPS_PER_SECOND_T100[m.arch] * 110.0 / (t.length + 10)
    rate /= max(0.3, (m.hidden / _REFERENCE_HIDDEN[m.arch]) ** 1.5) * max(0.3, cell.train.batch / 64)
    if m.arch == "rnn":
        rate /= _SLOW_ACTIVATIONS.get(m.activation, 1.0)
    # Evaluations: the held-out set forward only (about a third of a training step per batch).
    evaluations = cell.train.steps // cell.train.eval_every + 1
    evaluate = evaluations * cell.train.eval_size / cell.train.batch / 3 / rate
    # Probes: float64 passes over probe.batch sequences, matrix-vector products of width hidden;
    # the explicit Jacobians (plain RNN) add an SVD of a hidden x hidden product per step and sample.
    width = max(1.0, cell.probe.batch / 32 * (m.hidden / _REFERENCE_HIDDEN[m.arch]) ** 2)
    probe = 0.01 + 0.002 * t.length * (1 + cell.probe.jacobian_samples / 4) * width
    if m.arch == "rnn":
        probe += cell.probe.jacobian_samples * t.length * 2e-9 * m.hidden ** 3
    return cell.train.steps / rate + evaluate + probe


# float32 values per hidden unit and time step that backpropagation keeps (measured peak memory
# of run_cell: RNN 5, LSTM 16 at batch 512, length 1000, width 256).
_VALUES_PER_STEP = {"rnn": 6, "gru": 12, "lstm": 16, "transformer": 12}
_PROCESS_BYTES = 300 << 20  # the interpreter with torch imported


def estimate_bytes(cell: CellSpec) -> int:
    """Rough peak memory of one cell: the training batch's graph, the held-out set (built at
    once), the float64 probe graph and attention matrices. Within a factor of 2 of the peak RSS
    measured for RNN, LSTM, transformer and large held-out sets."""
    from .tasks import input_size, output_size, per_step_output, sequence_length

    m, t = cell.model, cell.task
    steps, inputs = sequence_length(t), input_size(t)
    layers = m.layers if m.arch == "transformer" else 1
    kept = _VALUES_PER_STEP[m.arch] * m.hidden * layers + 3 * inputs
    if per_step_output(t):
        kept += 3 * output_size(t)
    attention = m.heads * steps * steps * layers if m.arch == "transformer" else 0  # per sequence
    train = 4 * cell.train.batch * (steps * kept + attention)
    held_out = 12 * cell.train.eval_size * steps * inputs  # int64 indices and float32 one-hot at once
    held_out += 4 * min(cell.train.eval_size, 256) * attention  # evaluated in chunks of 256
    probe = 8 * 3 * cell.probe.batch * (steps * kept + attention)
    return _PROCESS_BYTES + train + held_out + probe


# Limits of a build, overridable with --allow-large. The estimates are rough (single-core
# seconds; peak memory within about 2x), so the limits leave a wide margin above real batteries.
MAX_CELL_SECONDS = 3600.0  # the largest cell of the full profile is about 2 minutes of one core
MAX_BUILD_SECONDS = 24 * 3600.0  # a day of one core: 3.5 times the whole full profile with all its looks
MAX_CELL_BYTES = 8 << 30  # a third of a 24 GiB machine; the largest shipped cell needs about 0.5 GiB


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 << 30


def check_cost(cells: Iterable[CellSpec], jobs: int | None = None, device: str = "cpu",
               allow_large: bool = False) -> None:
    """Refuse, before anything runs, cells whose estimated time or memory exceeds the limits
    above, or a build whose cells together take more than MAX_BUILD_SECONDS or whose workers
    together need more than 80% of this machine's memory. SpecError (one line), unless allow_large."""
    cells = list(cells)
    if allow_large or not cells:
        return
    hint = "; pass --allow-large to run it anyway"
    biggest = max(cells, key=estimate_bytes)
    size = estimate_bytes(biggest)
    if size > MAX_CELL_BYTES:
        raise SpecError(f"{biggest.label}: estimated peak memory {size / 2**30:,.1f} GiB, over the limit of "
                        f"{MAX_CELL_BYTES >> 30} GiB per cell (batch x length x hidden){hint}")
    workers = min(jobs or default_jobs(), len(cells))
    available = 0.8 * _physical_memory()
    if workers * size > available:
        raise SpecError(f"{workers} workers x {size / 2**30:,.1f} GiB ({biggest.label}) exceed 80% of this "
                        f"machine's {_physical_memory() / 2**30:,.0f} GiB of memory; use fewer --jobs{hint}")
    slowest = max(cells, key=estimate_seconds)
    seconds = estimate_seconds(slowest)
    if seconds > MAX_CELL_SECONDS:
        raise SpecError(f"{slowest.label}: estimated {seconds / 3600:,.1f} hours of one core, over the limit of "
                        f"{MAX_CELL_SECONDS / 3600:g} hour per cell{hint}")
    total = sum(estimate_seconds(c) for c in cells)
    if total > MAX_BUILD_SECONDS:
        raise SpecError(f"{len(cells):,} cells: estimated {total / 3600:,.1f} hours of one core in all, over the "
                        f"limit of {MAX_BUILD_SECONDS / 3600:g} hours per build{hint}")


def _relabel(records: list[dict], cell: CellSpec) -> list[dict]:
    if records and (records[0]["experiment"], records[0]["variant"]) == (cell.experiment, cell.variant):
        return records
    return [{**r, "experiment": cell.experiment, "variant": cell.variant} for r in records]


def default_jobs() -> int:
    """Worker processes when --jobs is not given: one per core."""
    return os.cpu_count() or 1


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def _run(cell: CellSpec, device: str) -> list[dict]:
    from .training import run_cell
    return run_cell(cell, device)


def execute(cells: Iterable[CellSpec], cache: Cache, jobs: int | None = 1, device: str = "cpu",
            progress: bool = True, cache_only: bool = False) -> tuple[list[dict], dict]:
    """Return all records of `cells` (cached or computed) and a summary of the run."""
    cells = list(cells)
    jobs = jobs or default_jobs()
    keys = [cell_key(c, device) for c in cells]
    results: dict[int, list[dict]] = {}
    todo, first_of_key, stored, read = [], {}, {}, {}  # stored: key -> {computed_at, sha256}
    for i, key in enumerate(keys):
        if key not in read:  # cells sharing a configuration share one file: read it once
            read[key] = cache.entry(key)
        entry = read[key]
        if entry is not None:
            results[i] = _relabel(entry["records"], cells[i])
            stored[key] = {"computed_at": entry.get("computed_at", ""), "sha256": entry["sha256"]}
        elif key not in first_of_key:
            first_of_key[key] = i
            todo.append(i)
    if todo and cache_only:
        first = cells[todo[0]].label
        missing = sum(1 for i in range(len(cells)) if i not in results)
        raise MissingResults(f"{missing} of {len(cells)} cells are not in the cache {cache.root} "
                             f"(first: {first}); run `vgreport build` first")
    started = time.perf_counter()
    total_cost = sum(estimate_seconds(cells[i]) for i in todo)
    bar = tqdm(total=round(total_cost, 1), unit="s", desc=f"{len(todo)} cells to run",
               disable=not progress or not todo, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| ETA {remaining} (elapsed {elapsed})")

    def finish(i: int, records: list[dict]) -> None:
        stored[keys[i]] = cache.put(keys[i], cells[i], records)
        for j, key in enumerate(keys):  # every cell with this configuration, under its own name
            if key == keys[i]:
                results[j] = _relabel(records, cells[j])
        bar.update(round(estimate_seconds(cells[i]), 1))

    try:
        if jobs <= 1 or len(todo) <= 1:
            for i in todo:
                finish(i, _run(cells[i], device))
        else:
            # forkserver: workers start from a clean process, not a fork of a torch-threaded parent.
            ctx = multiprocessing.get_context("forkserver")
            threads = max(1, default_jobs() // jobs)
            with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                                     initargs=(threads,)) as pool:
                # Longest cells first, so the pool does not end on one long straggler.
                order = sorted(todo, key=lambda i: -estimate_seconds(cells[i]))
                pending = {pool.submit(_run, cells[i], device): i for i in order}
                try:
                    while pending:
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            finish(pending.pop(future), future.result())
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    finally:
        bar.close()
    records = [r for i in range(len(cells)) for r in results[i]]
    cached = len(cells) - len(todo) - sum(1 for i, k in enumerate(keys)
                                          if k in first_of_key and first_of_key[k] != i)
    # "computed" counts configurations run now; cells sharing one of them are neither.
    summary = {"cells": len(cells), "computed": len(todo), "cached": cached,
               "seconds": time.perf_counter() - started,
               "measured_at": max((s["computed_at"] for s in stored.values()), default=""),
               "record_digests": [stored[key]["sha256"] for key in keys]}  # per cell, in order
    return records, summary
