"""The runner: units of work (batch keys), cores, the progress bar, the summary counts, failed
cells, workers that die with a killed build, and what is imported without torch."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from vgreport import runner, training
from vgreport.runner import default_jobs, execute, work_units
from vgreport.store import Cache

import helpers


def test_default_jobs_counts_the_cores_this_process_may_use(monkeypatch):
    """Under taskset or a Slurm allocation (an affinity mask of fewer cores than the machine
    has) default_jobs is the size of the mask, not os.cpu_count()."""
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5, 7})
    assert default_jobs() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {2})
    assert default_jobs() == 1
    monkeypatch.setattr(os, "process_cpu_count", lambda: 5, raising=False)  # Python 3.13 counts it for us
    assert default_jobs() == 5


def test_default_jobs_matches_this_process_affinity():
    """Unpatched, it is the number of cores the kernel lets this process run on."""
    assert default_jobs() == len(os.sched_getaffinity(0))


def _costly(tiny_cell, seed, steps=20, **model):
    return tiny_cell(model=model or None, train={"steps": steps}, seed=seed)


def test_a_unit_is_one_batch_key_in_seed_order(tiny_cell):
    """Cells of one shape and budget (they differ in seed, initialisation, gain, lag, clipping or
    labels) form one unit, in seed order, most expensive unit first; with one worker groups are
    never split."""
    cells = [_costly(tiny_cell, 2), _costly(tiny_cell, 0, arch="gru"), _costly(tiny_cell, 0),
             _costly(tiny_cell, 1), _costly(tiny_cell, 1, arch="gru"),
             _costly(tiny_cell, 0, init="orthogonal", gain=1.5), _costly(tiny_cell, 0, hidden=16)]
    units = work_units(cells, workers=1)
    assert sorted(units) == [[1, 4], [2, 5, 3, 0], [6]]
    cost = [sum(runner.estimate_seconds(cells[i]) for i in unit) for unit in units]
    assert cost == sorted(cost, reverse=True)


def test_the_shipped_configurations_of_one_shape_share_a_unit():
    """In the standard battery the init experiment's tanh initialisations, gain_train's gains, each
    clipping experiment's clipped and unclipped arms, recall_lag's lags and the architecture
    experiment's three LSTM initialisations at each length each train as one unit; the IRNN
    (another activation), the other architectures and the LSTM's learning rates (another optimiser
    setting) do not join."""
    from vgreport.specs import default_experiments_dir, load_battery
    battery = load_battery(default_experiments_dir(), "standard")
    cells = battery.cells(only_experiments=("init", "gain_train", "clip_vanishing", "clip_exploding", "recall_lag",
                                            "lstm_tuning", "architecture"))
    units = [{(cells[i].experiment, cells[i].variant, cells[i].sweep_value) for i in unit}
             for unit in work_units(cells, workers=1)]
    lstms = ("lstm_default", "lstm_forget_bias_1", "lstm_chrono")
    assert sorted(map(sorted, units)) == sorted(map(sorted, [
        {("init", v, None) for v in ("default", "xavier", "orthogonal")}, {("init", "irnn", None)},
        {("gain_train", "tanh", g) for g in (0.5, 0.75, 1.0, 1.25, 1.6, 2.5, 4.0)},
        {("clip_vanishing", v, None) for v in ("no_clip", "clipped")},
        {("clip_exploding", v, None) for v in ("no_clip", "clipped")},
        {("recall_lag", v, None) for v in ("lag_2", "lag_10", "lag_30")},
        {("lstm_tuning", "lr_low", None)}, {("lstm_tuning", "lr_high", None)}, {("lstm_tuning", "wide", None)},
        {("architecture", v, 10.0) for v in lstms}, {("architecture", v, 40.0) for v in lstms},
        *({("architecture", v, length)} for v in ("rnn_tanh", "gru", "transformer") for length in (10.0, 40.0))]))


def test_a_large_group_is_split_into_equal_chunks_for_many_workers(tiny_cell):
    """A group costing more than half a worker's share is split into equal chunks of consecutive
    seeds, each within that limit (unless one seed alone exceeds it); every cell is in exactly
    one unit."""
    big = [_costly(tiny_cell, s, steps=2000) for s in range(10)]
    small = [_costly(tiny_cell, s, arch="gru") for s in range(3)]
    cells = big + small
    workers = 4
    units = work_units(cells, workers)
    assert sorted(i for unit in units for i in unit) == list(range(len(cells)))
    cost = [runner.estimate_seconds(c) for c in cells]
    limit = sum(cost) / (2 * workers)
    big_units = [u for u in units if u[0] < 10]
    assert len(big_units) > 1 and len({len(u) for u in big_units}) <= 2  # equal up to the remainder
    assert all(sum(cost[i] for i in u) <= limit or len(u) == 1 for u in big_units)
    assert all(cells[u[k]].seed < cells[u[k + 1]].seed for u in big_units for k in range(len(u) - 1))
    assert [i for u in units if u[0] >= 10 for i in u] == [10, 11, 12]  # small group kept whole


def test_execute_trains_each_batch_key_with_one_run_group_call(tmp_path, tiny_cell, monkeypatch):
    """execute hands run_group a whole batch key (not one seed at a time) and stores each
    cell's records under its own key."""
    calls = []
    real = training.run_group

    def spy(cells, device="cpu"):
        calls.append([c.seed for c in cells])
        return real(cells, device)

    monkeypatch.setattr(training, "run_group", spy)
    cells = [_costly(tiny_cell, s, steps=2) for s in range(3)] + [_costly(tiny_cell, 0, steps=2, arch="lstm")]
    cache = Cache(tmp_path)
    records, summary = execute(cells, cache, progress=False)
    assert sorted(calls) == [[0], [0, 1, 2]]
    assert summary.computed == 4 and {r["seed"] for r in records} == {0, 1, 2}
    _, again = execute(cells, cache, progress=False)
    assert again.cached == 4 and len(calls) == 2


def _training_fails_for(monkeypatch, arch: str, message: str) -> None:
    """Every unit of this architecture raises RuntimeError(message) instead of training."""
    real = training.run_group

    def breaks(cells, device="cpu"):
        if cells[0].model.arch == arch:
            raise RuntimeError(message)
        return real(cells, device)

    monkeypatch.setattr(training, "run_group", breaks)


def test_summary_counts_add_up_and_failed_cells_are_listed(tmp_path, tiny_cell, monkeypatch):
    """cells == computed + shared + cached + failed; a group whose training raises is failed
    (named with its error, without records) while the other cells are computed and stored."""
    _training_fails_for(monkeypatch, "gru", "out of memory\nwith a second line")
    cache = Cache(tmp_path)
    execute([_costly(tiny_cell, 5, steps=2)], cache, progress=False)
    cells = [_costly(tiny_cell, 0, steps=2), _costly(tiny_cell, 5, steps=2),       # computed, cached
             _costly(tiny_cell, 0, steps=2).model_copy(update={"experiment": "other"}),  # shared
             _costly(tiny_cell, 0, steps=2, arch="gru"), _costly(tiny_cell, 1, steps=2, arch="gru")]
    records, summary = execute(cells, cache, progress=False)
    assert (summary.cells, summary.computed, summary.shared, summary.cached, summary.failed) == \
        (5, 1, 1, 1, 2)
    assert summary.cells == summary.computed + summary.shared + summary.cached + summary.failed
    assert [f["cell"] for f in summary.failures] == [cells[3].label, cells[4].label]
    assert summary.failures[0]["error"] == "RuntimeError: out of memory with a second line"
    assert summary.record_digests[3:] == ["", ""]
    assert {r["arch"] for r in records} == {"rnn"} and {r["experiment"] for r in records} == {"tiny", "other"}
    monkeypatch.undo()  # training works again
    _, retried = execute(cells, cache, progress=False)  # the next build retries only what failed
    assert (retried.computed, retried.cached, retried.failed) == (2, 3, 0)


def test_progress_bar_ends_at_100_percent_and_never_shows_a_negative_eta(tmp_path, tiny_cell, monkeypatch):
    """However the estimates round, the bar's count never passes its total, reaches it exactly,
    and the ETA it prints is never negative."""
    shown = []

    class Recording(runner.tqdm):
        def update(self, n=1):
            super().update(n)
            shown.append((self.n, self.total, str(self)))

    monkeypatch.setattr(runner, "tqdm", Recording)
    monkeypatch.setattr(runner.sys.stderr, "isatty", lambda: True)  # the bar is for a terminal
    monkeypatch.setattr(runner, "estimate_seconds", lambda cell: 0.06)  # each rounds up to 0.1
    cells = [_costly(tiny_cell, s, steps=2, arch=arch) for s in range(3) for arch in ("rnn", "gru")]
    execute(cells, Cache(tmp_path), progress=True)
    assert shown and all(n <= total for n, total, _ in shown)
    assert shown[-1][0] == shown[-1][1]
    assert all("ETA -" not in text for _, _, text in shown) and "100%" in shown[-1][2]


_BUILD_AND_RECORD_SEMAPHORES = textwrap.dedent("""\
    import multiprocessing.synchronize as synchronize, sys
    names = open(sys.argv[1], "a")
    original = synchronize.SemLock.__init__
    def record(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self._semlock.name:  # named: /dev/shm/sem.<name>, shared with the pool's workers
            names.write(self._semlock.name + "\\n")
            names.flush()
    synchronize.SemLock.__init__ = record
    from vgreport.cli import main
    main(sys.argv[2:])
""")

_LONG_BATTERY = helpers.experiments(helpers.experiment(
    "long", "Two cells that train for minutes",
    train="{steps: 500000, eval_every: 100000, log_every: 100000, eval_size: 16}"))


@pytest.mark.parametrize("executor,sig", [("local", signal.SIGKILL), ("local", signal.SIGTERM),
                                          ("dask", signal.SIGKILL)], ids=["local-SIGKILL", "local-SIGTERM", "dask-SIGKILL"])
def test_workers_die_with_a_killed_build_and_leave_no_semaphores(tmp_path, executor, sig):
    """Killing a building process (no clean-up code runs) ends its workers (and the local pool's
    fork server) within seconds, and multiprocessing's named semaphores are unlinked from /dev/shm."""
    battery = helpers.write(tmp_path / "battery", _LONG_BATTERY)
    names = tmp_path / "semaphores.txt"
    build = subprocess.Popen([sys.executable, "-c", _BUILD_AND_RECORD_SEMAPHORES, str(names), "build",
                              "--experiments", str(battery), "--out", str(tmp_path / "out"), "--jobs", "2",
                              "--executor", executor], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: list[psutil.Process] = []
    try:
        parent = psutil.Process(build.pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until two workers train (children of a child: fork server, nanny)
            try:
                family = parent.children(recursive=True)
                workers = [p for p in family if p.ppid() != build.pid] if executor == "local" else family
                if sum(p.cpu_percent(0.3) > 5 for p in workers) >= 2:
                    break
            except psutil.NoSuchProcess:  # a short-lived helper exited while we looked: look again
                continue
        build.send_signal(sig)
        build.wait()
        gone, alive = psutil.wait_procs(family, timeout=10)
        assert len(gone) >= 3 and not alive, f"{len(alive)} processes outlived the build"
        recorded = [n.strip().lstrip("/") for n in names.read_text().splitlines()]
        assert not [n for n in recorded if os.path.exists(f"/dev/shm/sem.{n}")]
        assert recorded or executor == "dask"
    finally:
        if build.poll() is None:
            build.kill()
        build.wait()  # reaped here, never left to the garbage collector (a ResourceWarning in a later test)
        for process in family:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass


# Ctrl-C as a terminal sends it: SIGINT with Python's default handler (a background job starts
# with SIGINT ignored, and Python keeps it ignored, so the child turns it back on first).
_BUILD_WITH_CTRL_C = textwrap.dedent("""\
    import signal, sys
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from vgreport.cli import main
    main(sys.argv[1:])
""")


@pytest.mark.parametrize("jobs,whole_group", [(2, False), (2, True), (1, False)],
                         ids=["process-pool", "process-pool-terminal", "serial"])
def test_ctrl_c_during_training_exits_130_with_one_line_and_nothing_half_written(tmp_path, jobs, whole_group):
    """SIGINT once the first cells of a smoke build are in the cache (training under way): exit 130,
    the single line `interrupted`, no traceback, the workers gone, no temporary file or staging
    folder and no report in --out, and every cache entry whole (the cells trained so far stay usable).
    A terminal's Ctrl-C reaches the whole process group, workers included (process-pool-terminal):
    still one line, no worker's traceback."""
    out = tmp_path / "out"
    build = subprocess.Popen([sys.executable, "-c", _BUILD_WITH_CTRL_C, "build", "--profile", "smoke",
                              "--out", str(out), "--jobs", str(jobs)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=whole_group)
    family: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and build.poll() is None:
            try:
                family = psutil.Process(build.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                break
            if list((out / "cache").glob("??/*.json")):  # a cell stored: training has started
                break
            time.sleep(0.05)
        assert build.poll() is None, "the build ended before it could be interrupted"
        if whole_group:
            os.killpg(build.pid, signal.SIGINT)
        else:
            build.send_signal(signal.SIGINT)
        stdout, stderr = build.communicate(timeout=60)
        assert build.returncode == 130, stderr
        assert stderr.strip() == "interrupted" and "Traceback" not in stderr + stdout, stderr
        gone, alive = psutil.wait_procs(family, timeout=10)
        assert not alive, f"{len(alive)} processes outlived the interrupted build"
        leftovers = [p.name for p in out.rglob("*") if p.name.endswith(".tmp") or "staging" in p.name]
        assert not leftovers, leftovers
        assert not [p for p in ("report.html", "report.pdf", "findings.json", "metrics.csv", "cells.csv",
                                "manifest.json") if (out / p).exists()]
        entries = list((out / "cache").glob("??/*.json"))
        assert entries and all(Cache(out / "cache").entry(e.stem) is not None for e in entries)
    finally:
        if build.poll() is None:
            build.kill()
        build.wait()
        for process in family:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass


_IMPORTS_WITHOUT_TORCH = textwrap.dedent("""\
    import sys
    from click.testing import CliRunner
    from vgreport.cli import main
    import vgreport.aggregate, vgreport.report.document, vgreport.findings, vgreport.store, vgreport.runner, vgreport.api
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["list", "--profile", "smoke"]).exit_code == 0
    print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
""")


def test_help_listing_aggregation_and_rendering_do_not_import_torch():
    """`vgreport --help`, `list`, and importing aggregation, findings, rendering, the store and
    the runner never load torch (it takes seconds): only training cells does."""
    result = subprocess.run([sys.executable, "-c", _IMPORTS_WITHOUT_TORCH], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_build_with_failed_cells_says_so_and_exits_1(tmp_path, monkeypatch):
    """When a unit fails, build still writes the report from the other cells, but the cover and
    findings.json name the failed cell and its error, the CLI exits 1, and the incomplete report
    is not stored in the report cache."""
    from click.testing import CliRunner

    from vgreport.cli import main
    _training_fails_for(monkeypatch, "lstm", "CUDA out of memory (simulated)")
    battery = helpers.write(tmp_path / "battery")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--experiments", str(battery), "--out", str(out),
                                       "--format", "html", "--jobs", "1"])
    assert result.exit_code == 1
    assert "1 failed" in result.output and "failed: tiny/lstm seed 0: RuntimeError: CUDA out of memory" in result.output
    payload = json.loads((out / "findings.json").read_text())
    assert payload["complete"] is False
    assert payload["failed_cells"] == [{"cell": "tiny/lstm seed 0", "error": "RuntimeError: CUDA out of memory (simulated)"}]
    html = (out / "report.html").read_text()
    assert "Incomplete build" in html and "tiny/lstm seed 0" in html
    assert not (out / "cache" / "reports").exists()
