"""Leave one seed out: which parts, and which verdicts, one seed decides.

After the build's evaluation, the findings are evaluated again once per seed present in the
records, with every record of that seed dropped (from all experiments at once). Two marks follow:
- *fragile* (the report's dagger †): a decided part whose state one seed's absence *reverses*
  (holds <-> refuted): a build on other seeds could well decide it the other way. A finding with a
  fragile core part is fragile too.
- *thin*: a decided part that one seed's absence only leaves undetermined: the seeds just decide it
  (the report shows its k/n with the interval instead of a dagger). The sequential design adds seeds
  to thin core parts at a later look.
A part that a re-evaluation cannot reach (its finding became undecidable without that seed) counts
as undetermined there. Checks are identities, not samples: they are not re-evaluated.
"""
from __future__ import annotations

import numpy as np

from .base import Context, Result

__all__ = ["mark_fragile", "part_states"]

_STATE_WORDS = {True: "holds", False: "refuted", None: "undetermined"}


def part_states(results: list[Result]) -> dict[tuple[str, str], bool | None]:
    """(finding id, part key) -> state (True, False or None; a numpy bool as a bool)."""
    return {(r.id, p.key): None if p.state is None else bool(p.state) for r in results for p in r.parts}


def mark_fragile(findings: list[Result], ctx: Context, run, modules) -> list[int]:
    """Set `fragile` (reversed) and `thin` (left undetermined) on the decided parts of `findings` whose
    state changes when any one seed's records are left out of the build's context `ctx`, `fragile_to`
    on every part that changes, and `fragile` on the findings with a fragile core part;
    `run(module, ctx)` decides one finding of `modules` (findings._run, findings.FINDINGS). Returns the
    seeds that were left out, one at a time (none when fewer than two seeds ran)."""
    frame = ctx.frame
    seeds = sorted(int(s) for s in frame["seed"].unique()) if len(frame) else []
    if len(seeds) < 2:
        return []
    wanted = {r.id for r in findings}
    modules = [m for m in modules if m.SPEC.id in wanted]
    built = part_states(findings)
    changed_to: dict[tuple[str, str], set[str]] = {}   # fragile part -> the states it took instead
    for seed in seeds:
        without = ctx.leaving_out(seed)
        with np.errstate(divide="ignore", invalid="ignore"):
            again = part_states([run(module, without) for module in modules])
        for key, state in built.items():
            if again.get(key) is not state:
                changed_to.setdefault(key, set()).add(_STATE_WORDS[again.get(key)])
    opposite = {True: "refuted", False: "holds"}
    for result in findings:
        for part in result.parts:
            part.fragile_to = tuple(sorted(changed_to.get((result.id, part.key), ())))
            decided = part.state is not None
            part.fragile = decided and opposite[bool(part.state)] in part.fragile_to
            part.thin = decided and not part.fragile and "undetermined" in part.fragile_to
        result.fragile = any(p.fragile and p.core for p in result.parts)
    return seeds
