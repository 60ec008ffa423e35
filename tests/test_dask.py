"""The Dask executor on a real distributed.LocalCluster of worker processes: a worker killed
mid-task is retried and the build completes; a unit that fails every attempt is reported with
its cells. (The smoke battery's records against the local executor: test_build.py.)"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")

from vgreport.runner import ATTEMPTS, NO_DASHBOARD, execute  # noqa: E402
from vgreport.store import Cache  # noqa: E402

from helpers import comparable  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of one thread, as `dask worker --nworkers 2 --nthreads 1` would give."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  silence_logs=logging.CRITICAL, **NO_DASHBOARD) as cluster:
        yield cluster


def _attempts(address: str, prefix: str = "vgreport-") -> dict[str, int]:
    """How often the scheduler sent each vgreport unit to a worker (its transitions to processing)."""
    def count(dask_scheduler):
        counts = {}
        for key, start, finish, *_ in dask_scheduler.transition_log:
            if isinstance(key, str) and key.startswith(prefix) and finish == "processing":
                counts[key] = counts.get(key, 0) + 1
        return counts

    with distributed.Client(address) as client:
        return client.run_on_scheduler(count)


def test_a_worker_killed_during_a_task_is_retried_and_the_build_completes(cluster, tmp_path, tiny_cell):
    """SIGKILL of the worker process running a unit: Dask runs the unit again on a worker, no cell
    fails, and the records equal those of a run in this process."""
    cells = [tiny_cell(train={"steps": 400}, seed=s) for s in range(2)] + \
        [tiny_cell(model={"arch": "gru"}, train={"steps": 400}, seed=0)]
    killed = []

    def kill_a_busy_worker():
        with distributed.Client(cluster.scheduler_address) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                busy = [w for w, keys in client.processing().items() if any(str(k).startswith("vgreport-") for k in keys)]
                if busy:
                    time.sleep(0.5)  # inside the task: past start-up, before the end of 400 steps
                    if client.processing().get(busy[0]):
                        pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                        os.kill(pid, signal.SIGKILL)
                        killed.append(client.processing()[busy[0]] if busy[0] in client.processing() else pid)
                time.sleep(0.1)

    before = _attempts(cluster.scheduler_address)
    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        records, summary = execute(cells, Cache(tmp_path / "dask"), executor="dask",
                                   scheduler=cluster.scheduler_address, progress=False)
    finally:
        killer.join()
    assert killed, "no worker was busy with a unit to kill"
    assert (summary.computed, summary.failed) == (3, 0)
    attempts = {k: n for k, n in _attempts(cluster.scheduler_address).items() if k not in before}
    assert max(attempts.values()) >= 2, attempts  # the killed unit ran again
    serial, _ = execute(cells, Cache(tmp_path / "serial"), progress=False)
    assert comparable(records) == comparable(serial)


def test_a_unit_that_fails_every_attempt_is_reported_with_its_cells(cluster, tmp_path, tiny_cell):
    """A unit that raises on each of its ATTEMPTS tries fails its cells (named, with the error)
    while the other units' cells are computed and stored."""
    good = tiny_cell(train={"steps": 2})
    bad = [tiny_cell(model={"arch": "gru"}, train={"steps": 2, "lr": 0.01}, seed=s) for s in range(2)]
    cache = Cache(tmp_path)
    execute([good], cache, progress=False)
    before = _attempts(cluster.scheduler_address)
    # A device no worker has: every attempt raises in the worker.
    records, summary = execute(bad, cache, executor="dask", scheduler=cluster.scheduler_address,
                               device="nosuchdevice", progress=False)
    assert (summary.failed, summary.computed, records) == (2, 0, [])
    assert [f["cell"] for f in summary.failures] == [c.label for c in bad]
    assert "nosuchdevice" in summary.failures[0]["error"] and "\n" not in summary.failures[0]["error"]
    attempts = {k: n for k, n in _attempts(cluster.scheduler_address).items() if k not in before}
    assert attempts and set(attempts.values()) == {ATTEMPTS}  # each unit: tried ATTEMPTS times, then failed
    records, summary = execute([good, *bad], cache, executor="dask", scheduler=cluster.scheduler_address,
                               progress=False)
    assert (summary.cached, summary.computed, summary.failed) == (1, 2, 0)


def test_an_unreachable_scheduler_is_one_clear_error(tmp_path, tiny_cell):
    """--scheduler pointing at nothing is an ExecutorError naming the address, not a hang or a traceback."""
    import dask

    from vgreport.runner import ExecutorError
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(ExecutorError, match="tcp://127.0.0.1:1"):
        execute([tiny_cell(train={"steps": 2})], Cache(tmp_path), executor="dask",
                scheduler="tcp://127.0.0.1:1", progress=False)


def test_the_slurm_example_writes_a_worker_job_script():
    """examples/slurm.py --job-script prints the batch script dask-jobqueue would submit (no
    cluster needed): one node per job, one single-threaded worker process per core, our python.
    (In a subprocess: importing dask_jobqueue replaces the process's SIGINT handler.)"""
    import importlib.util
    import subprocess
    import sys
    from pathlib import Path

    if importlib.util.find_spec("dask_jobqueue") is None:  # not imported here: see the docstring
        pytest.skip("dask-jobqueue is not installed")
    example = Path(__file__).resolve().parent.parent / "examples" / "slurm.py"
    result = subprocess.run([sys.executable, str(example), "--job-script", "--cores", "8", "--memory", "16GB",
                             "--partition", "cpu", "--python", "/opt/venv/bin/python", "--prologue",
                             "module load python"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    script = result.stdout
    assert script.startswith("#!/usr/bin/env bash") and "#SBATCH -p cpu" in script
    assert "#SBATCH --cpus-per-task=8" in script and "module load python" in script
    worker = [line for line in script.splitlines() if "dask_worker" in line]
    assert len(worker) == 1 and worker[0].startswith("/opt/venv/bin/python -m distributed.cli.dask_worker tcp://")
    assert "--nthreads 1" in worker[0] and "--nworkers 8" in worker[0]
