"""Build a vgreport profile on a Slurm cluster: dask-jobqueue submits Dask workers as batch jobs,
vgreport sends them its units of work, and the records land in a cache folder on shared storage.

    pip install 'vgreport[dask]'
    python examples/slurm.py --job-script              # print the batch script of one worker job
    python examples/slurm.py --profile full --nodes 4 --cache /scratch/$USER/vgreport-cache

Run it on the login node (or in a small job of its own): this process is the Dask scheduler and
the vgreport client; it stores results as they arrive, so a killed run resumes from the cache.
"""
from __future__ import annotations

import argparse
import signal
import sys


def cluster(args):
    previous = signal.getsignal(signal.SIGINT)
    from dask_jobqueue import SLURMCluster
    signal.signal(signal.SIGINT, previous)  # its import makes Ctrl-C a silent sys.exit(); keep Python's
    # One job per node: `cores` worker processes of one thread each (torch uses one thread per
    # cell best at these sizes), each with its share of the node's memory.
    # The scheduler's web server on a free port: 8787 is often taken on a shared login node.
    return SLURMCluster(queue=args.partition, account=args.account, cores=args.cores, processes=args.cores,
                        memory=args.memory, walltime=args.walltime, python=args.python,
                        job_script_prologue=args.prologue, scheduler_options={"dashboard_address": ":0"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="full")
    parser.add_argument("--out", default="build-full")
    parser.add_argument("--cache", default=None, help="cache folder on storage every node mounts")
    parser.add_argument("--nodes", type=int, default=4, help="worker jobs to submit (one node each)")
    parser.add_argument("--cores", type=int, default=16, help="cores per node (one worker process each)")
    parser.add_argument("--memory", default="32GB", help="memory per node")
    parser.add_argument("--walltime", default="02:00:00")
    parser.add_argument("--partition", default=None)
    parser.add_argument("--account", default=None)
    parser.add_argument("--python", default=sys.executable, help="the interpreter the workers run (same vgreport)")
    parser.add_argument("--prologue", action="append", default=[], help="shell line run before the worker, repeatable")
    parser.add_argument("--job-script", action="store_true", help="print one worker job's script and stop")
    args = parser.parse_args(argv)
    with cluster(args) as slurm:
        if args.job_script:
            print(slurm.job_script())
            return 0
        from vgreport import api
        slurm.scale(jobs=args.nodes)
        # jobs: how many workers to plan units for while the jobs still wait in the queue.
        result = api.build(profile=args.profile, out=args.out, cache_dir=args.cache, scheduler=slurm.scheduler_address,
                           jobs=args.nodes * args.cores)
    summary = result.summary
    print(f"{summary['cells']} cells: {summary['computed']} computed, {summary['cached']} from the cache, "
          f"{summary['failed']} failed")
    for kind, path in result.files.items():
        print(f"{kind}: {path}")
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
