"""The sequential design (docs/findings.md): a build's first look trains every configuration on the
profile's first round of seeds; each later look evaluates the findings on the records so far, leaving
each seed out once, and adds the next round of seeds only to the configurations that a core training
part reads while it is undetermined, thin (decided, but one seed fewer would leave it undetermined) or
fragile (one seed fewer would reverse it),
until there is none or the last round has run. Context parts never buy seeds. Every look tests at
Pocock's nominal level for the profile's rounds (findings.stats.look_level), so the chance of a false
decision over all looks stays at alpha."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Callable

from . import sources
from .configs import Config
from .runner import Summary
from .specs import Battery
from .store import Cache, read_regular, write_atomic

__all__ = ["later_looks", "undecided"]


def later_looks(battery: Battery, only, cells: list, records: list, summary: Summary,
                run: Callable[[list], tuple[list, Summary]], cache: Cache) -> tuple[list, list, Summary]:
    """The sequential design: after each look, add the next round of seeds only to the configurations
    that a core training part reads while undetermined, thin or fragile (every look tests at Pocock's level, see
    findings.stats), until none is left or the profile's last round has run."""
    looks = max((e.looks for e in battery.select(only)), default=1)
    summary = dataclasses.replace(summary, looks=1)
    for look in range(1, looks):
        pending = undecided(battery, only, cells, records, summary.record_digests, look, cache)
        selected = {e.name for e in battery.select(only)}
        extra = [c for c in battery.later_cells(pending, look) if c.experiment in selected]
        if not extra:
            break
        more, added = run(extra)
        cells, records = cells + extra, records + more
        summary = summary.then(added, looks=look + 1)
    return cells, records, summary


def undecided(battery: Battery, only, cells, records, record_digests, look: int, cache: Cache) -> list[Config]:
    """The configurations some core training part reads after this look while it is undetermined, thin or fragile
    (findings.Evaluation.undetermined). Deciding them means evaluating every finding once, and once more
    per seed left out (seconds each on a standard build), so the answer is kept in the cache under a
    digest of what it depends on: the records so far (their digests), the battery, and vgreport's code.
    An unchanged rebuild reads it instead of evaluating again; a damaged memo is recomputed."""
    key = hashlib.sha256(json.dumps({
        "look": look, "only": list(only), "profile": battery.profile_spec.model_dump(mode="json"),
        "experiments": [e.model_dump(mode="json") for e in battery.select(only)],
        "cells": [c.label for c in cells], "records": list(record_digests),
        "code": sources.source_sha256(sources.package_files())}, sort_keys=True, default=str).encode()).hexdigest()
    relative = f"looks/{key}.json"
    path = cache.root / relative
    if all(record_digests):  # a failed cell has no digest: never remember a decision made without it
        try:
            return [Config(**row) for row in json.loads(read_regular(path, 16 << 20))]
        except (OSError, ValueError, TypeError, RecursionError):  # absent, damaged, or not a plain file
            pass
    from .aggregate import records_frame
    from .findings import evaluate
    evaluation = evaluate(records_frame(records), battery, with_figures=False, leave_one_seed_out=True)
    pending = sorted(evaluation.undetermined())
    rows = [c.to_json() for c in pending]
    if all(record_digests):
        try:
            cache.manifest.make_folders("looks")
            cache.manifest.add(files=[relative])
            write_atomic(path, lambda tmp: tmp.write_text(json.dumps(rows)))
        except OSError:  # a read-only or full cache only loses the memo
            pass
    return pending
