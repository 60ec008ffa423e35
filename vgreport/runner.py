"""Stage 6b: execution. Cells of one shape and budget (one batch key: they differ only in seed,
initialisation, gain, recall lag, clipping, probes or labels) form one unit of work (the engine
trains them together); units run on an executor (in this process, a local process pool,
or Dask distributed), their records stream into the cell cache as each finishes, and a progress
bar weighted by each cell's estimated cost shows the ETA. Torch is imported only where cells run.
"""
from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import math
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Iterable, Iterator, NamedTuple, Sequence

from tqdm import tqdm

from . import interrupts
from .architectures import architecture
from .sources import training_code
from .specs import CellSpec, SpecError
from .store import Cache, cell_key, library_versions

__all__ = ["execute", "Summary", "DaskSession", "work_units", "default_jobs", "estimate_seconds", "estimate_bytes", "check_cost",
           "die_with_parent", "EXECUTORS", "MissingResults", "ExecutorError"]

EXECUTORS = ("local", "dask")
# A unit is tried this often in all before its cells are reported as failed: Dask retries a task
# that raised (retries=ATTEMPTS-1) and reschedules one whose worker died (allowed-failures).
ATTEMPTS = 3


class MissingResults(Exception):
    """`render` was asked for cells that no build has computed yet."""


class ExecutorError(Exception):
    """The executor cannot be started or reached (Dask not installed, no scheduler there)."""


def estimate_seconds(cell: CellSpec) -> float:
    """Rough single-thread cost of a cell: training steps plus evaluations and probes. From its
    architecture's single-thread throughput (architectures: steps per second at T=100, batch 64 and
    its reference width); cost grows with the steps read + 10 and with width^1.5; a per-step output
    (copy) costs half as much again. Used for the ETA, `vgreport list` and the cost limits;
    benchmarks/budgets.py compares it with reality."""
    from .tasks import per_step_output, sequence_length

    m, t = cell.model, cell.task
    entry = architecture(m.arch)
    rate = entry.steps_per_second * 110.0 / (sequence_length(t) + 10)
    if per_step_output(t):
        rate /= 1.5
    rate /= max(0.3, (m.hidden / entry.width) ** 1.5) * max(0.3, cell.train.batch / 64)
    rate /= entry.activation_cost.get(m.activation, 1.0)
    # Evaluations: the held-out set forward only (about a third of a training step per batch).
    evaluations = cell.train.steps // cell.train.eval_every + 1
    evaluate = evaluations * cell.train.eval_size / cell.train.batch / 3 / rate
    # Probes: float64 passes over probe.batch sequences, matrix-vector products of width hidden;
    # the explicit Jacobians (a plain recurrence) add an SVD of a hidden x hidden product per step and sample.
    width = max(1.0, cell.probe.batch / 32 * (m.hidden / entry.width) ** 2)
    probe = 0.01 + 0.002 * t.length * (1 + cell.probe.jacobian_samples / 4) * width
    if entry.plain_recurrence:
        probe += cell.probe.jacobian_samples * t.length * 2e-9 * m.hidden ** 3
    return cell.train.steps / rate + evaluate + probe


_PROCESS_BYTES = 300 << 20  # the interpreter with torch imported


def estimate_bytes(cell: CellSpec) -> int:
    """Rough peak memory of one cell: the training batch's graph, the held-out set (built at
    once), the float64 probe graph and attention matrices. Within a factor of 2 of the peak RSS
    measured for RNN, LSTM, transformer and large held-out sets."""
    from .tasks import input_size, output_size, per_step_output, sequence_length

    m, t = cell.model, cell.task
    entry = architecture(m.arch)
    steps, inputs = sequence_length(t), input_size(t)
    layers = m.layers if entry.attention else 1
    kept = entry.values_per_step * m.hidden * layers + 3 * inputs
    if per_step_output(t):
        kept += 3 * output_size(t)
    attention = m.heads * steps * steps * layers if entry.attention else 0  # per sequence
    train = 4 * cell.train.batch * (steps * kept + attention)
    held_out = 12 * cell.train.eval_size * steps * inputs  # int64 indices and float32 one-hot at once
    held_out += 4 * min(cell.train.eval_size, 256) * attention  # evaluated in chunks of 256
    probe = 8 * 3 * cell.probe.batch * (steps * kept + attention)
    return _PROCESS_BYTES + train + held_out + probe


# Limits of a build, overridable with --allow-large. The estimates are rough (single-core
# seconds; peak memory within about 2x), so the limits leave a wide margin above real batteries.
MAX_CELL_SECONDS = 3600.0  # the largest cell of the full profile is about 2 minutes of one core
MAX_BUILD_SECONDS = 24 * 3600.0  # a day of one core: 3.5 times the whole full profile with all its looks
# Four times the largest shipped cell (the full profile's transformer, about 0.5 GiB estimated): a
# cell of length 10,000 (4.5 GB measured for a plain RNN, 4.2 to 10 GiB estimated) asks for --allow-large.
MAX_CELL_BYTES = 2 << 30
MAX_MEMORY_SHARE = 0.8  # of this machine's memory, for all workers' cells side by side


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
    available = MAX_MEMORY_SHARE * _physical_memory()
    if workers * size > available:
        raise SpecError(f"{workers} workers x {size / 2**30:,.1f} GiB ({biggest.label}) exceed "
                        f"{MAX_MEMORY_SHARE:.0%} of this "
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


def default_jobs() -> int:
    """Worker processes when --jobs is not given: one per core this process may use, so a
    taskset or Slurm allocation of fewer cores than the machine has is respected."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13
        return os.process_cpu_count() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def work_units(cells: Sequence[CellSpec], workers: int = 1) -> list[list[int]]:
    """Indices of `cells` in units of work, most expensive first: the cells of one batch key
    (CellSpec.batch_key: seeds and configurations of one shape and budget, which training.run_group
    trains as one batch), in seed order, split into equal chunks only where a group would cost more
    than half of a worker's fair share (the estimated total / workers), so the last unit to finish
    cannot keep one worker busy long after the others are idle. One worker: whole groups."""
    groups: dict[tuple, list[int]] = {}
    for i, cell in enumerate(cells):
        groups.setdefault(cell.batch_key, []).append(i)
    cost = [estimate_seconds(c) for c in cells]
    limit = sum(cost) / (2 * workers) if workers > 1 else math.inf
    units = []
    for members in groups.values():
        members.sort(key=lambda i: cells[i].seed)  # stable: a seed's configurations in the order given
        per_cell = max(cost[i] for i in members)  # the cells of a group cost about the same
        most = len(members) if limit == math.inf else max(1, math.floor(limit / per_cell))
        pieces = math.ceil(len(members) / most)  # chunk sizes differ by at most one cell
        units += [members[k * len(members) // pieces:(k + 1) * len(members) // pieces] for k in range(pieces)]
    return sorted(units, key=lambda unit: -sum(cost[i] for i in unit))


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG),
    so a killed build leaves no worker computing results nobody will read. Elsewhere a no-op."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG


def _init_worker(threads: int, stop) -> None:
    import torch
    die_with_parent()  # the pool's workers are children of the fork server, which dies with the build
    # Ctrl-C reaches every process of the terminal's group: the build handles it and stops the
    # workers through `stop`, so a worker never prints its own KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    threading.Thread(target=_exit_when_set, args=(stop,), daemon=True).start()


def _exit_when_set(stop) -> None:
    """A worker's watcher: end the worker the moment the build sets `stop`, even mid-cell."""
    stop.wait()
    os._exit(1)


def _run_unit(cells: list[CellSpec], device: str, threads: int | None = None,
              expected: tuple | None = None) -> list[list[dict]]:
    """Records of each cell of one unit (runs in a worker). `expected` is the client's code and
    library versions: a worker whose differ would store numbers under the wrong key, so it refuses."""
    import torch

    from .training import run_group
    if expected is not None and expected != (training_code(), library_versions()):
        raise RuntimeError(f"this worker runs other vgreport code or library versions "
                           f"({training_code()[:16]}, {dict(library_versions())}) than the client "
                           f"({expected[0][:16]}, {dict(expected[1])})")
    if threads:
        torch.set_num_threads(threads)
    return run_group(cells, device)


class _Failure(NamedTuple):
    error: str  # one line: what went wrong, for the summary and the report


# torch's CPU allocator when malloc fails (a process memory limit, or no memory left)
_CPU_ALLOCATION = re.compile(r"can't allocate memory: you tried to allocate (\d+) bytes")


def _failure(exc: BaseException) -> _Failure:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    allocation = _CPU_ALLOCATION.search(text)
    if isinstance(exc, MemoryError) or allocation or type(exc).__name__ == "OutOfMemoryError":
        size = f" of {int(allocation.group(1)) / 2**30:,.1f} GiB" if allocation else ""
        return _Failure(f"out of memory: an allocation{size} failed (the cell needs more memory than this "
                        f"process may use; make it smaller, or run fewer --jobs)")
    return _Failure(text[:300])


def _checked(outcome, unit: list[int]) -> list[list[dict]] | _Failure:
    """The unit's records, or a failure when run_group did not return one non-empty list per cell."""
    if isinstance(outcome, _Failure):
        return outcome
    if not (isinstance(outcome, list) and len(outcome) == len(unit)
            and all(isinstance(r, list) and r for r in outcome)):
        return _Failure(f"run_group returned {type(outcome).__name__} of the wrong shape for {len(unit)} cells")
    return outcome


def _serial(units, cells, device) -> Iterator[tuple[list[int], object]]:
    for unit in units:
        try:
            yield unit, _run_unit([cells[i] for i in unit], device)
        except Exception as exc:  # the cell fails and is reported; the rest of the build goes on
            yield unit, _failure(exc)


def _local(units, cells, device, jobs) -> Iterator[tuple[list[int], object]]:
    # forkserver: workers start from a clean process, not a fork of a torch-threaded parent.
    # The fork server imports vgreport._forkserver first, which makes it die with this process;
    # each worker does the same with the fork server (its parent) in _init_worker.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["vgreport._forkserver"])
    threads = max(1, default_jobs() // jobs)
    stop = ctx.Event()  # set on an interrupt: each worker ends itself (_exit_when_set)
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(threads, stop)) as pool:
        try:
            futures = {pool.submit(_run_unit, [cells[i] for i in unit], device): unit for unit in units}
            for future in as_completed(futures):
                error = future.exception()
                # A worker that died (BrokenProcessPool) fails the units still in the pool.
                yield futures.pop(future), (future.result() if error is None else _failure(error))
        except BaseException:
            # Cancel what has not started and end the workers now: an interrupted build must not
            # wait for their cells to finish (only public API: an Event and shutdown()).
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


# For every LocalCluster (the build's and the tests'): no dashboard, and the scheduler's own HTTP
# server (health and metrics routes, which it starts even with dashboard_address=None) on a free
# local port instead of 8787, which another Dask on the machine (a second build, a notebook, a
# parallel test run) may hold: distributed then warns on stderr and takes another port anyway.
NO_DASHBOARD = {"dashboard_address": None, "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}


class DaskSession:
    """One Dask client for a whole build: every look of the sequential design runs on the same
    LocalCluster (or the same connection to --scheduler), started when a look first has cells to
    run and closed when the build ends, however it ends."""

    def __init__(self, jobs: int, scheduler: str | None = None):
        self.jobs, self.scheduler = jobs, scheduler
        self._stack = contextlib.ExitStack()
        self._started: tuple | None = None  # (client, threads per worker, workers)

    def __enter__(self) -> "DaskSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._started = None
        self._stack.close()

    def start(self) -> tuple:
        """(client, threads, workers), connecting or starting the cluster on the first call."""
        if self._started is None:
            try:
                self._started = self._start()
            except BaseException:
                self._stack.close()
                raise
        return self._started

    def _start(self) -> tuple:
        try:
            import dask
            import distributed
        except ImportError:
            raise ExecutorError("--executor dask needs Dask: pip install 'vgreport[dask]'") from None
        stack = self._stack
        # Distributed logs a lost connection or a worker stopped mid-task at ERROR, many lines each;
        # vgreport says what happened in one line instead (see _dask).
        stack.enter_context(_quiet_logger("distributed"))
        if self.scheduler:
            try:
                # Waits distributed.comm.timeouts.connect (30 s unless configured) for the scheduler.
                client = stack.enter_context(distributed.Client(self.scheduler))
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(f"--scheduler {self.scheduler}: cannot connect "
                                    f"({' '.join(str(exc).split())})") from None
            workers = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values()) or self.jobs
            return client, None, workers  # threads: the workers' own setting (Dask's nanny sets OMP_NUM_THREADS=1)
        stack.enter_context(dask.config.set({
            # reschedulings after a worker died mid-task, before the task is failed
            "distributed.scheduler.allowed-failures": ATTEMPTS - 1,
            # The nanny's MALLOC_TRIM_THRESHOLD_ also fixes glibc's mmap threshold at 128 KiB, so
            # every larger tensor is a fresh mmap: cells ran 1.3-3.4x slower with it (measured).
            "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}))
        with interrupts.deferred(), _children_ignore_interrupts():  # Ctrl-C is the build's alone
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=self.jobs, threads_per_worker=1, processes=True, silence_logs=logging.CRITICAL,
                **NO_DASHBOARD))
            client = stack.enter_context(distributed.Client(cluster))
        return client, max(1, default_jobs() // self.jobs), self.jobs


@contextlib.contextmanager
def _quiet_logger(name: str, level: int = logging.CRITICAL) -> Iterator[None]:
    """Raise the level of logger `name` and of its children that set their own (distributed's
    configuration gives distributed.client one), restoring them afterwards."""
    loggers = [logging.getLogger(name)] + [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)
                                           if n.startswith(name + ".")]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, before in zip(loggers, previous):
            logger.setLevel(before)


@contextlib.contextmanager
def _children_ignore_interrupts() -> Iterator[None]:
    """Processes spawned in the block (Dask's workers and its resource tracker) start with SIGINT
    ignored. A terminal's Ctrl-C reaches the whole foreground process group, and a worker still
    importing printed a 30-line traceback; the build alone handles Ctrl-C, and closes the cluster.
    Their interpreter is started through `sh` with `trap '' INT`: an ignored signal stays ignored
    across exec, and Python then installs no handler for it. Skipped where a launcher cannot run
    (not POSIX, or a temporary folder mounted noexec)."""
    import multiprocessing.spawn as spawn
    import shlex
    import tempfile

    python = spawn.get_executable()  # bytes on POSIX
    if os.name != "posix" or not python or not os.path.exists("/bin/sh"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="vgreport-launcher-") as folder:
        if os.statvfs(folder).f_flag & getattr(os, "ST_NOEXEC", 0):
            yield
            return
        launcher = os.path.join(folder, "python")
        with open(launcher, "w") as handle:
            handle.write(f"#!/bin/sh\ntrap '' INT\nexec {shlex.quote(os.fsdecode(python))} \"$@\"\n")
        os.chmod(launcher, 0o755)
        spawn.set_executable(launcher)
        try:
            yield
        finally:
            spawn.set_executable(python)


def _versions_here() -> tuple:
    """This process's code and library versions: a worker refuses a unit when its own differ."""
    return training_code(), library_versions()


def _dask(plan, cells, device, jobs, scheduler, session: DaskSession | None = None
          ) -> Iterator[tuple[list[int], object]]:
    own = session is None
    session = session or DaskSession(jobs, scheduler)
    try:
        import distributed
        client, threads, workers = session.start()
        address = client.scheduler.address if client.scheduler else scheduler or "(local)"
        units = plan(workers)
        run = uuid.uuid4().hex[:8]
        expected = _versions_here()
        futures = {}
        for rank, unit in enumerate(units):
            future = client.submit(_run_unit, [cells[i] for i in unit], device, threads, expected,
                                   key=f"vgreport-{run}-{rank}", pure=False, retries=ATTEMPTS - 1,
                                   priority=len(units) - rank)  # longest first
            futures[future] = unit
        for future in distributed.as_completed(futures):
            unit = futures.pop(future)
            if future.status == "finished":
                try:
                    outcome = future.result()
                except Exception as exc:  # the connection went while the result was on its way
                    raise _lost(address, exc) from None
            elif future.status == "error":  # raised ATTEMPTS times, or its workers died (KilledWorker)
                outcome = _failure(future.exception())
            else:  # cancelled or lost: the scheduler went away and took every pending task with it
                raise _lost(address, None)
            future.release()
            yield unit, outcome
    finally:
        if own:
            session.close()


def _lost(address: str, exc: BaseException | None) -> ExecutorError:
    reason = f" ({' '.join(f'{type(exc).__name__}: {exc}'.split())[:200]})" if exc is not None else ""
    return ExecutorError(f"lost the Dask scheduler at {address}{reason}; the cells finished before are kept "
                         f"in the cache (build again to run the rest)")


@dataclass
class Summary:
    """What running a list of cells did (execute), and what a build adds to it (api.build: the looks,
    the report, the warnings). cells == computed + shared + cached + failed."""
    cells: int = 0
    computed: int = 0      # configurations trained now
    shared: int = 0        # cells served by an identically configured cell trained now
    cached: int = 0        # cells read from the cache
    failed: int = 0        # cells whose unit failed (on Dask after ATTEMPTS tries); they have no records
    failures: list[dict] = field(default_factory=list)      # [{"cell": label, "error": one line}]
    seconds: float = 0.0
    measured_at: str = ""  # when the newest of these records was computed (ISO time)
    record_digests: list[str] = field(default_factory=list)  # per cell, the SHA-256 of its cache file ("" failed)
    looks: int = 1         # the sequential design's looks taken (looks.later_looks)
    report: str = ""       # "rendered" or "reused" (build)
    warnings: list[str] = field(default_factory=list)

    def then(self, later: "Summary", looks: int) -> "Summary":
        """This run followed by a later look's: counts added, the newest measurement, digests in cell order."""
        return dataclasses.replace(
            self, cells=self.cells + later.cells, computed=self.computed + later.computed,
            shared=self.shared + later.shared, cached=self.cached + later.cached, failed=self.failed + later.failed,
            failures=self.failures + later.failures, seconds=self.seconds + later.seconds,
            measured_at=max(self.measured_at, later.measured_at),
            record_digests=self.record_digests + later.record_digests, looks=looks)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def _progress_weights(costs: Sequence[float]) -> list[int]:
    """Costs in whole milliseconds (at least 1): integer steps that add up to the bar's total
    exactly, so the bar ends at 100% and the ETA never goes negative."""
    return [max(1, round(c * 1000)) for c in costs]


class _Bar:
    """The progress bar on a terminal (tqdm, as wide as the terminal, resized with it)."""

    def __init__(self, cells: int, total: int):
        self.bar = tqdm(total=total, desc=f"{cells} cells to run", leave=False, dynamic_ncols=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| ETA {remaining} (elapsed {elapsed})")

    def update(self, weight: int, cells: int) -> None:
        self.bar.update(weight)

    def close(self) -> None:
        self.bar.close()


class _Lines:
    """Progress without a terminal (a CI log): a line every `interval` seconds, the first after one
    interval, from a timer (so a log hears from a long first cell too), with the cells done and left
    and the estimated time left (from the estimated cost of what is done); none once all are done."""

    def __init__(self, cells: int, total: int, interval: float = 60.0, stream=None, clock=time.monotonic):
        self.cells, self.total, self.interval, self.clock = cells, total, interval, clock
        self.stream = stream or sys.stderr
        self.done_cells = self.done = 0
        self.started = clock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)
        self.thread.start()

    def _tick(self) -> None:
        while not self.stop.wait(self.interval):
            self.line()

    def update(self, weight: int, cells: int) -> None:
        self.done += weight
        self.done_cells += cells

    def line(self) -> None:
        if self.done_cells >= self.cells:
            return
        elapsed = self.clock() - self.started
        left = f"about {_minutes(elapsed * (self.total - self.done) / self.done)} left" if self.done else "no estimate yet"
        print(f"training: {self.done_cells} of {self.cells} cells done, {self.cells - self.done_cells} left, "
              f"{left} ({_minutes(elapsed)} so far)", file=self.stream, flush=True)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


class _Silent:
    def update(self, weight: int, cells: int) -> None:
        pass

    def close(self) -> None:
        pass


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _progress(show: bool, cells: int, total: int):
    """A bar on a terminal, a line a minute in a log, nothing when not shown."""
    if not show:
        return _Silent()
    return _Bar(cells, total) if sys.stderr.isatty() else _Lines(cells, total)


def execute(cells: Iterable[CellSpec], cache: Cache, jobs: int | None = 1, device: str = "cpu",
            progress: bool = True, cache_only: bool = False, executor: str = "local",
            scheduler: str | None = None, session: DaskSession | None = None) -> tuple[list[dict], Summary]:
    """Return all records of `cells` (cached or computed) and a Summary of the run (what its counts
    mean is there). On Dask, `session` (a DaskSession) keeps one cluster for several calls; without it
    each call starts its own."""
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r}: choose from {', '.join(EXECUTORS)}")
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
            stored[key] = {"computed_at": entry["computed_at"], "sha256": entry["sha256"]}
        elif key not in first_of_key:
            first_of_key[key] = i
            todo.append(i)
    if todo and cache_only:
        first = cells[todo[0]].label
        missing = sum(1 for i in range(len(cells)) if i not in results)
        damaged = f"; {cache.warnings[0]}" if cache.warnings else ""  # a FIFO or link where an entry was
        raise MissingResults(f"{missing} of {len(cells)} cells are not in the cache {cache.root} "
                             f"(first: {first}){damaged}; run `vgreport build` first")
    started = time.perf_counter()
    todo_cells = [cells[i] for i in todo]

    def plan(workers: int) -> list[list[int]]:
        return [[todo[j] for j in unit] for unit in work_units(todo_cells, workers)]

    weight = dict(zip(todo, _progress_weights([estimate_seconds(cells[i]) for i in todo])))
    failed_keys: dict[str, str] = {}
    if executor == "dask" and todo:
        outcomes = _dask(plan, cells, device, jobs, scheduler, session)
    else:
        units = plan(jobs)
        outcomes = (_serial(units, cells, device) if jobs <= 1 or len(units) <= 1
                    else _local(units, cells, device, min(jobs, len(units))))
    bar = _progress(progress and bool(todo), len(todo), sum(weight.values()))
    try:
        with contextlib.closing(outcomes):
            for unit, outcome in outcomes:
                outcome = _checked(outcome, unit)
                for position, i in enumerate(unit):
                    if isinstance(outcome, _Failure):
                        failed_keys[keys[i]] = outcome.error
                    else:
                        records = outcome[position]
                        stored[keys[i]] = cache.put(keys[i], cells[i], records)
                        for j, key in enumerate(keys):  # every cell with this configuration, under its own name
                            if key == keys[i]:
                                results[j] = _relabel(records, cells[j])
                bar.update(sum(weight[i] for i in unit), len(unit))
    finally:
        bar.close()
    records = [r for i in range(len(cells)) if i in results for r in results[i]]
    failed = [i for i, key in enumerate(keys) if key in failed_keys]
    computed = sum(1 for key in first_of_key if key not in failed_keys)
    shared = sum(1 for i, key in enumerate(keys) if key in first_of_key and first_of_key[key] != i
                 and key not in failed_keys)
    summary = Summary(cells=len(cells), computed=computed, shared=shared,
                      cached=len(cells) - computed - shared - len(failed), failed=len(failed),
                      failures=[{"cell": cells[i].label, "error": failed_keys[keys[i]]} for i in failed],
                      seconds=time.perf_counter() - started,
                      measured_at=max((s["computed_at"] for s in stored.values()), default=""),
                      record_digests=[stored[key]["sha256"] if key in stored else "" for key in keys])
    return records, summary


def _relabel(records: list[dict], cell: CellSpec) -> list[dict]:
    if records and (records[0]["experiment"], records[0]["variant"]) == (cell.experiment, cell.variant):
        return records
    return [{**r, "experiment": cell.experiment, "variant": cell.variant} for r in records]
