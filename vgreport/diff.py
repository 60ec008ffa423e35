"""Compare two editions of findings.json: what a regeneration changed.

A scheduled build changes only when code, specs or dependencies change, so its diff against the
last published edition is exactly what a maintainer must review. Three kinds of change:

- a verdict that flipped (in "findings" or in "checks"),
- a number that moved beyond its interval: the new point estimate lies outside the old 95%
  interval, or the old point estimate outside the new one,
- a finding or check added or removed.

A flipped finding also says whether it lost or gained support: only `supported` and `supported
so far` count as support (verdicts.SUPPORT). Parts are compared by key: a part whose state changed
is listed, and one that holds in one edition and is refuted in the other is a contradiction. Two
builds on different seeds (`--seed-base`) replicate when no part is contradicted and every flipped
verdict was marked (a core part thin or fragile: one seed decides it) in at least one of them.

The comparison is generic over the structure: any dict inside `numbers` that holds `lo`, `hi` and
a point estimate (mean, diff, rate, share, ...) is an interval, wherever it is nested. Editions
written before "checks" existed have none; they compare as an empty section.

Intervals compare with a tolerance (REL_TOL of the interval's scale, at least ABS_TOL): an
interval read back from JSON or recomputed on another machine differs from itself by rounding
only, so a point is outside an interval only when it is beyond that slack, and two intervals equal
within it are unchanged whatever their point: an edition compared with itself never differs. An
interval of zero width (every seed gave the same value, as an exact identity does) has no spread
to judge a move by, so it gets an absolute floor, ZERO_WIDTH_FLOOR: float noise of the kernels
(1e-8 in a rate recomputed on another machine) never counts as a move.

`pooled_rows` sets the verdicts of the union of two editions' records (two builds on disjoint seeds,
evaluated by api.diff(pool=True)) beside each edition's.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterator

from .editions import EditionError, load_findings, load_manifest, markdown_cell, markdown_code, plain
from .verdicts import SUPPORT

__all__ = ["DiffError", "SECTIONS", "POINT_KEYS", "FAIL_ON", "ZERO_WIDTH_FLOOR", "load_edition", "compare",
           "intervals", "failed", "to_text", "to_markdown", "unreadable_markdown", "pooled_rows"]

SECTIONS = ("findings", "checks")
# The keys that hold an interval's point estimate, in the order they are looked for.
POINT_KEYS = ("mean", "diff", "rate", "share", "estimate", "value")
FAIL_ON = ("flip", "drift", "never")
# Rounding, not measurement: the slack allowed at an interval's ends (relative to its scale).
REL_TOL = 1e-9
ABS_TOL = 1e-12
# A zero-width interval's absolute slack: float32 training kernels agree to about 1e-7 of a value's scale.
ZERO_WIDTH_FLOOR = 1e-6


class DiffError(Exception):
    """An edition that cannot be read: the message names the file and what is wrong."""


def load_edition(path: Path | str) -> dict:
    """Read findings.json from a build folder or a file, bounded and checked (see vgreport.editions)."""
    try:
        edition = load_findings(path)
    except EditionError as exc:
        raise DiffError(str(exc)) from None
    beside = Path(edition["source"]).parent / "manifest.json"
    return {**edition, "environment": _environment(beside), "manifest": _manifest_beside(beside)}


def _environment(manifest: Path) -> dict | None:
    """The CPU and torch build of the manifest.json beside an edition (None when there is none or it
    cannot be read: a findings.json on its own is still an edition)."""
    try:
        data = load_manifest(manifest)
    except EditionError:
        return None
    cpu, torch = data.get("cpu"), data.get("torch")
    return {"cpu": cpu if isinstance(cpu, dict) else {}, "torch": torch if isinstance(torch, dict) else {}}


def _describe(part: dict, keys: tuple[str, ...]) -> str:
    return ", ".join(f"{k} {part[k]}" for k in keys if part.get(k) is not None)


def _environment_notes(old: dict | None, new: dict | None) -> list[str]:
    """One line each when the editions ran on different CPUs or torch builds (training outcomes can
    differ with the kernels torch picks); only what both manifests record is compared."""
    if not old or not new:
        return []
    notes = []
    for part, keys, what in (("cpu", ("model", "capability"), "CPUs"),
                             ("torch", ("version", "blas", "mkl", "onednn", "cuda", "cudnn",
                                        "deterministic_algorithms", "float32_matmul_precision"), "torch builds")):
        shared = tuple(k for k in keys if old[part].get(k) is not None and new[part].get(k) is not None)
        if any(old[part][k] != new[part][k] for k in shared):
            notes.append(f"the editions ran on different {what} ({_describe(old[part], shared)} -> "
                         f"{_describe(new[part], shared)}): numbers may differ for that reason alone")
    return notes


def _manifest_beside(manifest: Path) -> dict:
    """The profile, measurement date and version from the manifest.json beside a findings.json (a
    build folder), which the handout names the edition by; {} when there is none or it is unreadable."""
    try:
        data = load_manifest(manifest)
    except EditionError:
        return {}
    version = data.get("vgreport", {}).get("version") if isinstance(data.get("vgreport"), dict) else None
    return {k: v for k, v in (("profile", data.get("profile")), ("measured_at", data.get("measured_at")),
                              ("version", version)) if isinstance(v, str) and v}


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def intervals(numbers: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every interval nested in `numbers`, as (dotted path, {"point", "lo", "hi", "key"}).

    List items are named by their key, label, name, id or short text fields (see _item_name),
    else by position, so an item keeps its name when items are inserted before it."""
    if isinstance(numbers, dict):
        point_key = next((k for k in POINT_KEYS if k in numbers), None)
        if point_key is not None and "lo" in numbers and "hi" in numbers:
            yield path or point_key, {"point": numbers[point_key], "lo": numbers["lo"], "hi": numbers["hi"],
                                      "key": point_key}
        for key, value in numbers.items():
            if isinstance(value, (dict, list)):
                yield from intervals(value, f"{path}.{key}" if path else str(key))
    elif isinstance(numbers, list):
        for n, value in enumerate(numbers):
            yield from intervals(value, f"{path}[{_item_name(value, n)}]")


_NAMING_NUMBERS = ("length", "lag", "gain")  # configuration fields that name an item, never measured values


def _item_name(item: Any, position: int) -> str:
    """A list item's name: its key, label, name or id; else its first three short text fields or
    configuration numbers (length, lag, gain) (a pair {"slower": "tanh", "faster": "sigmoid", ...} is "tanh/sigmoid"); else its position."""
    if not isinstance(item, dict):
        return str(position)
    for field in ("key", "label", "name", "id"):
        if isinstance(item.get(field), (str, int)):
            return str(item[field])
    # whole numbers too: C8's pairs repeat at each length ({"length": 30, "slower": "tanh", ...} is "30/tanh/sigmoid")
    words = [str(v) for k, v in item.items()
             if (isinstance(v, str) and 0 < len(v) <= 30) or (k in _NAMING_NUMBERS and isinstance(v, int))][:3]
    return "/".join(words) if words else str(position)


def _slack(*values: float) -> float:
    return max(ABS_TOL, REL_TOL * max(abs(v) for v in values))


def _zero_width(interval: dict) -> bool:
    """An interval no wider than float noise: the seeds agree to within ZERO_WIDTH_FLOOR (the identity
    sweep's rate differs across seeds only in its eighth digit)."""
    lo, hi = interval["lo"], interval["hi"]
    return _finite(lo) and _finite(hi) and hi - lo <= max(_slack(lo, hi), ZERO_WIDTH_FLOOR)


def _outside(point: Any, interval: dict) -> bool:
    lo, hi = interval["lo"], interval["hi"]
    if not (_finite(point) and _finite(lo) and _finite(hi)):
        return False  # a null end never counts
    slack = max(_slack(lo, hi, hi - lo), ZERO_WIDTH_FLOOR if _zero_width(interval) else 0.0)
    return not lo - slack <= point <= hi + slack


def _close(a: Any, b: Any) -> bool:
    if _finite(a) and _finite(b):
        return abs(a - b) <= _slack(a, b)
    return (a is None and b is None) or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _same(old: dict, new: dict) -> bool:
    """The same interval (point and ends) up to rounding (for two zero-width intervals, up to ZERO_WIDTH_FLOOR)."""
    if _zero_width(old) and _zero_width(new) and all(_finite(old[k]) and _finite(new[k]) for k in ("point", "lo", "hi")):
        return all(abs(old[k] - new[k]) <= ZERO_WIDTH_FLOOR for k in ("point", "lo", "hi"))
    return all(_close(old[k], new[k]) for k in ("point", "lo", "hi"))


def _delta(old: Any, new: Any) -> float | None:
    return new - old if _finite(old) and _finite(new) else None


def _meta(edition: dict) -> dict:
    """How an edition is named: its file (for the terminal), and its profile, measurement date and
    version (for the handout), from its manifest where the build folder has one."""
    manifest = edition.get("manifest") or {}
    return {"source": edition.get("source"), "profile": manifest.get("profile", edition.get("profile")),
            "measured_at": manifest.get("measured_at", edition.get("measured_at")), "version": manifest.get("version")}


def compare(old: dict, new: dict) -> dict:
    """The changes from edition `old` to edition `new` (both as load_edition returns them)."""
    result: dict[str, Any] = {"old": _meta(old), "new": _meta(new), "flipped": [], "drifted": [],
                              "added": [], "removed": [], "parts": [], "notes": [], "kept": [], "within": [],
                              "support": {"old": _supported(old), "new": _supported(new)}}
    if old.get("profile") != new.get("profile"):
        result["notes"].append(f"the profiles differ ({old.get('profile')} -> {new.get('profile')}): "
                               "budgets and seeds differ too, so changes are expected")
    result["notes"] += _environment_notes(old.get("environment"), new.get("environment"))
    for section in SECTIONS:
        before = {item["id"]: item for item in old.get(section, [])}
        after = {item["id"]: item for item in new.get(section, [])}
        kind = section[:-1]  # "finding" or "check"
        for id_ in before.keys() - after.keys():
            result["removed"].append({"kind": kind, "id": id_, "title": before[id_].get("title", ""),
                                      "verdict": before[id_]["verdict"]})
        for id_ in after.keys() - before.keys():
            result["added"].append({"kind": kind, "id": id_, "title": after[id_].get("title", ""),
                                    "verdict": after[id_]["verdict"]})
        for id_ in [i for i in after if i in before]:  # in the new edition's order
            was, now = before[id_], after[id_]
            title = now.get("title") or was.get("title", "")
            if was["verdict"] != now["verdict"]:
                support = (None if kind != "finding" or (was["verdict"] in SUPPORT) == (now["verdict"] in SUPPORT)
                           else "gained" if now["verdict"] in SUPPORT else "lost")
                result["flipped"].append({"kind": kind, "id": id_, "title": title,
                                          "old": was["verdict"], "new": now["verdict"], "support": support,
                                          "fragile": bool(was.get("fragile") or now.get("fragile")),
                                          "marked": _marked(was) or _marked(now)})
            else:
                result["kept"].append({"kind": kind, "id": id_, "title": title, "verdict": now["verdict"]})
            result["parts"] += _part_changes(kind, id_, was, now)
            old_intervals = dict(intervals(was.get("numbers", {})))
            for name, interval in intervals(now.get("numbers", {})):
                previous = old_intervals.get(name)
                if previous is None:
                    continue
                moved = not _same(previous, interval) and (_outside(interval["point"], previous)
                                                          or _outside(previous["point"], interval))
                result["drifted" if moved else "within"].append({
                    "kind": kind, "id": id_, "title": title, "number": name,
                    "old": {k: previous[k] for k in ("point", "lo", "hi")},
                    "new": {k: interval[k] for k in ("point", "lo", "hi")},
                    "delta": _delta(previous["point"], interval["point"])})
    for key in ("added", "removed"):
        result[key].sort(key=lambda c: (c["kind"], c["id"]))
    return result


def pooled_rows(old: dict, new: dict, pooled: dict, seeds: list[int]) -> dict:
    """The pooled evaluation (findings.json-shaped `pooled`, of the union of both editions' records) beside
    each edition: {"seeds": [...], "findings": [{id, title, old, new, pooled, flipped, support}]}, in the
    pooled evaluation's order. `flipped`: the editions' verdicts differ; `support`: whether the pooled
    verdict counts as support (verdicts.SUPPORT)."""
    before = {f["id"]: f for f in old.get("findings", [])}
    after = {f["id"]: f for f in new.get("findings", [])}
    rows = []
    for item in pooled.get("findings", []):
        was, now = before.get(item["id"], {}), after.get(item["id"], {})
        rows.append({"id": item["id"], "title": item.get("title", ""), "old": was.get("verdict"),
                     "new": now.get("verdict"), "pooled": item["verdict"],
                     "flipped": bool(was and now and was.get("verdict") != now.get("verdict")),
                     "support": item["verdict"] in SUPPORT})
    return {"seeds": [int(s) for s in seeds], "findings": rows}


def _pooled_lines(pooled: dict) -> list[str]:
    seeds = pooled["seeds"]
    span = f"{len(seeds)} seeds, {seeds[0]}–{seeds[-1]}" if seeds else "no seeds"
    lines = [f"pooled verdicts (both editions' records evaluated together: {span}): old | new -> pooled"]
    lines += [f"  {r['id']:<5} {r['old'] or 'absent'} | {r['new'] or 'absent'} -> {r['pooled']}"
              + ("  [flipped between the editions]" if r["flipped"] else "") for r in pooled["findings"]]
    return lines


def _marked(item: dict) -> bool:
    """Whether an edition marked the finding's verdict as resting on few seeds: a core part that one seed
    reverses (fragile, †) or that one seed fewer would leave undetermined (thin)."""
    thin = item.get("thin")
    return bool(item.get("fragile") or (isinstance(thin, list) and thin))


def _supported(edition: dict) -> list[str]:
    """The findings whose verdict counts as support (an edition with older words counts only 'supported')."""
    return [item["id"] for item in edition.get("findings", []) if item.get("verdict") in SUPPORT]


def _part_changes(kind: str, id_: str, was: dict, now: dict) -> list[dict]:
    """Parts (by key) whose state differs between the editions; `contradicted` when one holds and
    the other is refuted."""
    def states(item):
        # an edition's parts are read as far as they make sense: a text key, a state true/false/null
        parts = item.get("parts")
        return {p["key"]: p.get("state") for p in (parts if isinstance(parts, list) else [])
                if isinstance(p, dict) and isinstance(p.get("key"), str) and p.get("state") in (True, False, None)}
    before, after = states(was), states(now)
    return [{"kind": kind, "id": id_, "part": key, "old": before[key], "new": after[key],
             "contradicted": {before[key], after[key]} == {True, False}}
            for key in after if key in before and before[key] != after[key]]


def _state(state) -> str:
    return {True: "holds", False: "refuted"}.get(state, "undetermined")


def failed(changes: dict, fail_on: str) -> bool:
    """Whether the changes fail a run: `flip` on a flipped verdict, `drift` also on a number that
    moved beyond its interval, `never` not at all. Added and removed items never fail a run (a
    finding that became a check is removed from one section and added to the other)."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on {fail_on!r}: choose from {', '.join(FAIL_ON)}")
    if fail_on == "never":
        return False
    return bool(changes["flipped"]) or (fail_on == "drift" and bool(changes["drifted"]))


def _num(x: Any) -> str:
    if not _finite(x):
        return "n/a"
    return f"{x:.4g}"


def _interval(v: dict) -> str:
    return f"{_num(v['point'])} [{_num(v['lo'])}, {_num(v['hi'])}]"


def _change(delta: Any) -> str:
    """The new point estimate minus the old, signed (the change column, as `dvc metrics diff` has)."""
    return "n/a" if not _finite(delta) else f"{delta:+.4g}"


def _edition(meta: dict) -> str:
    return f"{meta['source']} ({meta['profile']} profile, measured {meta['measured_at'] or 'unknown'})"


def _unchanged(changes: dict) -> bool:
    return not any(changes.get(k) for k in ("flipped", "drifted", "added", "removed", "parts"))


def _support_line(changes: dict) -> str:
    old, new = changes["support"]["old"], changes["support"]["new"]
    return f"findings with support (supported or supported so far): {len(old)} -> {len(new)}"


def _flip_note(c: dict) -> str:
    notes = [f"support {c['support']}"] if c.get("support") else []
    if c["kind"] == "finding":
        notes.append("fragile" if c.get("fragile") else "thin" if c.get("marked") else
                     "not marked thin or fragile in either edition")
    return "; ".join(notes)


def _flips_line(changes: dict) -> str:
    steady = sum(1 for c in changes["flipped"] if c["kind"] == "finding" and not c.get("marked", c.get("fragile")))
    return (f"verdicts flipped: {len(changes['flipped'])}"
            + (f" ({steady} finding{'s' if steady != 1 else ''} not marked thin or fragile in either edition)"
               if steady else ""))


def to_text(changes: dict, show_all: bool = False) -> str:
    """A plain table for a terminal; `show_all` adds the unchanged verdicts and numbers."""
    lines = [f"old: {_edition(changes['old'])}", f"new: {_edition(changes['new'])}"]
    lines += [f"note: {n}" for n in changes["notes"]]
    if _unchanged(changes) and not show_all:
        return "\n".join(plain(line) for line in lines + ["no verdict flipped, no number moved beyond its interval, "
                                                           "nothing added or removed"]
                          + (_pooled_lines(changes["pooled"]) if changes.get("pooled") else []))
    lines.append(_support_line(changes))
    lines.append(_flips_line(changes))
    lines += [f"  {c['kind']:<8} {c['id']:<5} {c['old']} -> {c['new']}  ({c['title']})"
              + (f"  [{_flip_note(c)}]" if _flip_note(c) else "") for c in changes["flipped"]]
    if show_all:
        lines.append(f"verdicts unchanged: {len(changes.get('kept', []))}")
        lines += [f"  {c['kind']:<8} {c['id']:<5} {c['verdict']}  ({c['title']})" for c in changes.get("kept", [])]
    contradicted = sum(c["contradicted"] for c in changes["parts"])
    lines.append(f"parts that changed state: {len(changes['parts'])} ({contradicted} held in one edition and were "
                 "refuted in the other)")
    lines += [f"  {c['kind']:<8} {c['id']:<5} {c['part']}: {_state(c['old'])} -> {_state(c['new'])}"
              + ("  [contradicted]" if c["contradicted"] else "") for c in changes["parts"]]
    lines.append(f"numbers beyond their intervals: {len(changes['drifted'])}  (old [interval] -> new [interval], change)")
    lines += [f"  {c['kind']:<8} {c['id']:<5} {c['number']}: {_interval(c['old'])} -> {_interval(c['new'])}, "
              f"{_change(c.get('delta'))}" for c in changes["drifted"]]
    if show_all:
        lines.append(f"numbers within their intervals: {len(changes.get('within', []))}")
        lines += [f"  {c['kind']:<8} {c['id']:<5} {c['number']}: {_interval(c['old'])} -> {_interval(c['new'])}, "
                  f"{_change(c.get('delta'))}" for c in changes.get("within", [])]
    for key, label in (("added", "added"), ("removed", "removed")):
        lines.append(f"{label}: {len(changes[key])}")
        lines += [f"  {c['kind']:<8} {c['id']:<5} {c['verdict']}  ({c['title']})" for c in changes[key]]
    if changes.get("pooled"):
        lines += _pooled_lines(changes["pooled"])
    return "\n".join(plain(line) for line in lines)  # an edition's text cannot send terminal escapes


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _md(text: Any) -> str:
    return markdown_cell(text)  # a "|" or a line break in an edition cannot add a column or a row


def unreadable_markdown(error: str) -> str:
    """Markdown for a CI job summary or issue when an edition cannot be read: the error, quoted inertly."""
    return "\n".join(["## vgreport: an edition could not be read", "", _md(error), "",
                      "No comparison was made. Publish only after checking why (see the run's log).", ""])


def to_markdown(changes: dict, show_all: bool = False) -> str:
    """GitHub-flavoured markdown, for a job summary ($GITHUB_STEP_SUMMARY); `show_all` adds
    the unchanged verdicts and numbers."""
    out = ["## vgreport: changes since the last edition", "",
           f"- old: `{markdown_code(changes['old']['source'])}`, {_md(changes['old']['profile'])} profile, "
           f"measured {_md(changes['old']['measured_at'] or 'unknown')}",
           f"- new: `{markdown_code(changes['new']['source'])}`, {_md(changes['new']['profile'])} profile, "
           f"measured {_md(changes['new']['measured_at'] or 'unknown')}"]
    out += [f"- note: {_md(n)}" for n in changes["notes"]]
    out.append("")
    pooled = changes.get("pooled")
    pooled_md = (["", f"### Pooled verdicts ({len(pooled['seeds'])} seeds, both editions' records together)", "",
                  "| id | title | old | new | pooled |", "|---|---|---|---|---|"]
                 + [f"| {_md(r['id'])} | {_md(r['title'])} | {_md(r['old'] or 'absent')} | {_md(r['new'] or 'absent')} "
                    f"| **{_md(r['pooled'])}** |" for r in pooled["findings"]]) if pooled else []
    if _unchanged(changes) and not show_all:
        return "\n".join(out + ["No verdict flipped, no number moved beyond its interval, nothing was added "
                                "or removed."] + pooled_md + [""])
    out.append(f"**{_count(changes['flipped'], 'verdict')} flipped, {_count(changes['drifted'], 'number')} moved "
               f"beyond {'its interval' if len(changes['drifted']) == 1 else 'their intervals'}, "
               f"{len(changes['added'])} added, {len(changes['removed'])} removed.**")
    out.append(f"\n{_support_line(changes)}.")
    if changes["flipped"]:
        out += ["", "### Verdicts that flipped", "", "| | id | title | was | now | support |", "|---|---|---|---|---|---|"]
        out += [f"| {c['kind']} | {_md(c['id'])} | {_md(c['title'])} | {_md(c['old'])} | **{_md(c['new'])}** | "
                f"{_md(_flip_note(c))} |" for c in changes["flipped"]]
    if show_all and changes.get("kept"):
        out += ["", "### Verdicts unchanged", "", "| | id | title | verdict |", "|---|---|---|---|"]
        out += [f"| {c['kind']} | {_md(c['id'])} | {_md(c['title'])} | {_md(c['verdict'])} |" for c in changes["kept"]]
    if changes["parts"]:
        out += ["", "### Parts that changed state", "", "| | id | part | was | now | |", "|---|---|---|---|---|---|"]
        out += [f"| {c['kind']} | {_md(c['id'])} | `{markdown_code(c['part'])}` | {_state(c['old'])} | "
                f"**{_state(c['new'])}** | {'contradicted' if c['contradicted'] else ''} |" for c in changes["parts"]]
    tables = [("drifted", "Numbers that moved beyond their intervals")]
    if show_all:
        tables.append(("within", "Numbers within their intervals"))
    for key, heading in tables:
        if changes.get(key):
            out += ["", f"### {heading}", "",
                    "| | id | number | was [interval] | now [interval] | change |", "|---|---|---|---|---|---|"]
            out += [f"| {c['kind']} | {_md(c['id'])} | `{markdown_code(c['number'])}` | {_interval(c['old'])} | "
                    f"{_interval(c['new'])} | {_change(c.get('delta'))} |" for c in changes[key]]
    for key, heading in (("added", "Added"), ("removed", "Removed")):
        if changes[key]:
            out += ["", f"### {heading}", "", "| | id | title | verdict |", "|---|---|---|---|"]
            out += [f"| {c['kind']} | {_md(c['id'])} | {_md(c['title'])} | {_md(c['verdict'])} |"
                    for c in changes[key]]
    return "\n".join(out + pooled_md + [""])
