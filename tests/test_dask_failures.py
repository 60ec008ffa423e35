"""Failures on a Dask cluster, each in one line (issue 21): Ctrl-C with no worker traceback, a lost
scheduler named as such with the cells done kept, a worker's refusal shown with its reason, and a
build or run whose every cell failed reported instead of crashing; one LocalCluster per build."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

from vgreport import api, runner  # noqa: E402
from vgreport.cli import main  # noqa: E402
from vgreport.findings import Config  # noqa: E402

import helpers  # noqa: E402
from helpers import LOOKS_EXPERIMENTS, LOOKS_PROFILES, Pending  # noqa: E402

SLOW = helpers.experiments(helpers.experiment(
    hidden=32, length=60, train="{steps: 4000, eval_every: 2000, log_every: 500, eval_size: 16}",
    variants={"tanh": "{}"}))


def _wait_for(build: subprocess.Popen, moment: str, seconds: float = 120) -> None:
    """Wait until a Dask worker process of the build exists ("starting": it is still importing) or
    has trained for a second ("training")."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            workers = [p for p in psutil.Process(build.pid).children(recursive=True)
                       if "--multiprocessing-fork" in p.cmdline()]
            if workers and (moment == "starting" or any(w.cpu_times().user > 1.0 for w in workers)):
                return
        except psutil.NoSuchProcess:
            pass
        assert build.poll() is None, build.communicate()
        time.sleep(0.05)
    pytest.fail(f"the build's workers never reached {moment}")


@pytest.mark.parametrize("moment", ["starting", "training"])
def test_ctrl_c_on_dask_exits_130_with_one_line(tmp_path, moment):
    """The terminal sends SIGINT to the whole foreground process group, Dask's workers included:
    while they were starting they printed their import tracebacks and distributed's (73 lines).
    Now: one line, exit 130, no half-written output, whenever it is pressed."""
    battery = helpers.write(tmp_path / "battery", SLOW)
    out = tmp_path / "out"
    build = subprocess.Popen([sys.executable, "-m", "vgreport", "build", "--experiments", str(battery),
                              "--profile", "smoke", "--out", str(out), "--executor", "dask", "--jobs", "1",
                              "--format", "html"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _wait_for(build, moment)
        os.killpg(build.pid, signal.SIGINT)
        stdout, stderr = build.communicate(timeout=90)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
    assert build.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["interrupted"], stderr
    assert not (out / "report.html").exists() and not list(out.glob(".staging-*"))


@pytest.fixture
def threads_cluster():
    """A scheduler and two worker threads in this process (processes=False: seconds to start). A
    client or worker that lost it tries to reconnect for 3 s, not distributed's 30."""
    with dask.config.set({"distributed.comm.timeouts.connect": "3s"}), distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  silence_logs=logging.CRITICAL, **runner.NO_DASHBOARD) as cluster:
        yield cluster


def _address(process: subprocess.Popen, seconds: float = 60) -> str:
    """The address a `dask scheduler` process logs once it listens."""
    deadline = time.monotonic() + seconds
    for line in process.stderr:
        if "Scheduler at:" in line:
            return line.split("Scheduler at:")[1].strip()
        assert time.monotonic() < deadline, "the scheduler never said where it listens"
    pytest.fail("the scheduler exited before it listened")


def test_a_lost_scheduler_is_named_in_one_line_and_the_cells_done_are_kept(tmp_path):
    """The scheduler is killed while one cell is still training: it was 33 lines of distributed's
    logs and "internal error: KeyError: 'metric'"; now one line naming the scheduler lost, exit 1,
    and the cell that finished before stays in the cache."""
    battery = helpers.write(tmp_path / "battery", helpers.experiments(helpers.experiment(
        hidden=32, length=30, train="{steps: 3000, eval_every: 1000, log_every: 500, eval_size: 16}",
        variants={"slow": "{}", "fast": "{train: {steps: 2, eval_every: 2, log_every: 2}}"})))
    dask_cli = [sys.executable, "-c", "from dask.cli import run_cli; run_cli()"]
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}  # reconnect for 3 s, not 30
    scheduler = subprocess.Popen([*dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--dashboard-address", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True, env=env)
    worker = run = None
    cache = tmp_path / "cache"
    try:
        address = _address(scheduler)
        worker = subprocess.Popen([*dask_cli, "worker", address, "--nworkers", "1", "--nthreads", "2",
                                   "--no-dashboard"], stderr=subprocess.DEVNULL, env=env)
        run = subprocess.Popen([sys.executable, "-m", "vgreport", "run", "tiny", "--experiments", str(battery),
                                "--profile", "smoke", "--cache", str(cache), "--scheduler", address],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 120
        while not list(cache.glob("??/*.json")) and time.monotonic() < deadline:
            assert run.poll() is None, run.communicate()
            time.sleep(0.1)
        scheduler.kill()
        stdout, stderr = run.communicate(timeout=90)
    finally:
        for process in (run, worker, scheduler):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        scheduler.stderr.close()
    assert run.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: lost the Dask scheduler at {address}"), stderr
    assert "kept in the cache" in lines[0]
    entries = list(cache.glob("??/*.json"))
    assert len(entries) == 1 and '"variant": "fast"' in entries[0].read_text()


def test_a_worker_that_refuses_its_cells_shows_why_and_all_failed_is_one_line(threads_cluster, tmp_path,
                                                                               monkeypatch):
    """Workers running other code refuse every unit, as designed; the user saw "3 failed" and an
    internal error. Now `build` says in one line that all cells failed and why, and `run` lists
    each failure instead of crashing on an empty table."""
    monkeypatch.setattr(runner, "_versions_here", lambda: ("0123456789abcdef", (("torch", "0.0"),)))
    battery = helpers.write(tmp_path / "battery", helpers.experiments())
    args = ["--experiments", str(battery), "--profile", "smoke", "--scheduler", threads_cluster.scheduler_address]
    result = CliRunner().invoke(main, ["build", *args, "--out", str(tmp_path / "b"), "--format", "html"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "all 2 cells failed" in lines[0], result.output
    assert "this worker runs other vgreport code" in lines[0] and "internal error" not in lines[0]
    assert not (tmp_path / "b" / "findings.json").exists()
    result = CliRunner().invoke(main, ["run", "tiny", *args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "internal error" not in result.output, result.output
    failed = [line for line in result.output.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 2 and all("this worker runs other vgreport code" in line for line in failed)


def test_one_local_cluster_per_build_across_its_looks(tmp_path, monkeypatch):
    """Three looks of the sequential design run on one LocalCluster (there was one per look)."""
    import vgreport.findings as findings
    real, looks = findings.evaluate, iter([{Config("tiny", "relu", 5, 1.0, 4, 4)}, {Config("tiny", "relu", 5, 1.0, 4, 4)}])
    monkeypatch.setattr(findings, "evaluate", lambda frame, battery=None, with_figures=True, ids=None, **_: (
        real(frame, battery, with_figures, ids) if with_figures else Pending(next(looks))))
    started = []

    class Counted(distributed.LocalCluster):
        def __init__(self, *args, **kwargs):
            started.append(kwargs["n_workers"])
            super().__init__(*args, **{**kwargs, "processes": False})  # threads: quicker to start

    monkeypatch.setattr(distributed, "LocalCluster", Counted)
    battery = helpers.write(tmp_path / "battery", LOOKS_EXPERIMENTS, LOOKS_PROFILES, file="axis.yaml")
    result = api.build(profile="standard", out=tmp_path / "out", experiments_dir=battery, jobs=1, progress=False,
                       formats=("html",), executor="dask")
    assert result.summary.looks == 3 and result.summary.computed == 8
    assert started == [1]
