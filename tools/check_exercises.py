"""Run every printed exercise command for real, at the profile it prints, and check that its two arms
went the way the instructor's answer predicts (report/exercises.check). One line per exercise; exit 1
if any answer's direction failed, 2 if an arm had no finite value.

    python tools/check_exercises.py [--cache DIR] [--only C5]

It trains (the quick profile: about 3 minutes for all of them on 2 cores); the suite checks the same
plumbing at the smoke profile (tests/test_exercises.py)."""
from __future__ import annotations

import argparse
import sys
import tempfile
import time


def main() -> int:
    from vgreport import api
    from vgreport.aggregate import cell_table
    from vgreport.findings import EXERCISES
    from vgreport.report.exercises import arm_rows, check

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="cell cache to reuse (default: a temporary folder)")
    parser.add_argument("--only", help="one finding's exercises (C5)")
    args = parser.parse_args()
    cache = args.cache or tempfile.mkdtemp(prefix="vgreport-exercises-")
    worst = 0
    for e in EXERCISES:
        if args.only and e.finding != args.only:
            continue
        start = time.time()
        result = api.run_experiment(e.experiment, profile=e.profile, sets=e.sets, cache_dir=cache,
                                    out=cache + "/out", progress=False)
        cells = cell_table(result.records)
        means = [arm_rows(cells, arm)[e.metric].astype(float).mean() for arm in e.arms]
        ok = check(e, cells)
        worst = max(worst, 0 if ok else 1 if ok is False else 2)
        word = {True: "as answered", False: "AGAINST the answer", None: "no value"}[ok]
        print(f"{e.finding:4} {word:18} {e.metric} {e.arms[0]} {means[0]:.3f} {e.expect} {e.arms[1]} {means[1]:.3f}"
              f"  ({time.time() - start:.0f} s)  {e.command}", flush=True)
    return worst


if __name__ == "__main__":
    sys.exit(main())
