"""Compare two editions of findings.json: what a regeneration changed.

A scheduled build changes only when code, specs or dependencies change, so its diff against the
last published edition is exactly what a maintainer must review. Three kinds of change:

- a verdict that flipped (in "findings" or in "checks"),
- a number that moved beyond its interval: the new point estimate lies outside the old 95%
  interval, or the old point estimate outside the new one,
- a finding or check added or removed.

A flipped finding also says whether it lost or gained support: only `supported` and `supported
so far` count as support (schema.SUPPORT). Parts are compared by key: a part whose state changed
is listed, and one that holds in one edition and is refuted in the other is a contradiction. Two
builds on different seeds (`--seed-base`) replicate when no part is contradicted and every flipped
verdict was fragile (rests on a part that one seed decides) in at least one of them.

The comparison is generic over the structure: any dict inside `numbers` that holds `lo`, `hi` and
a point estimate (mean, diff, rate, share, ...) is an interval, wherever it is nested. Editions
written before "checks" existed have none; they compare as an empty section.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterator

from .schema import SUPPORT

__all__ = ["DiffError", "SECTIONS", "POINT_KEYS", "FAIL_ON", "load_edition", "compare", "intervals",
           "failed", "to_text", "to_markdown"]

SECTIONS = ("findings", "checks")
# The keys that hold an interval's point estimate, in the order they are looked for.
POINT_KEYS = ("mean", "diff", "rate", "share", "estimate", "value")
FAIL_ON = ("flip", "drift", "never")


class DiffError(Exception):
    """An edition that cannot be read: the message names the file and what is wrong."""


def load_edition(path: Path | str) -> dict:
    """Read findings.json from a build folder or a file; check the shape the comparison needs."""
    path = Path(path)
    file = path / "findings.json" if path.is_dir() else path
    if not file.is_file():
        raise DiffError(f"{file}: not found (give a build folder or a findings.json file)")
    try:
        edition = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DiffError(f"{file}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise DiffError(f"{file}: not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(edition, dict) or not isinstance(edition.get("findings"), list):
        raise DiffError(f"{file}: not a vgreport findings.json (no \"findings\" list)")
    for section in SECTIONS:
        items = edition.get(section, [])
        if not isinstance(items, list):
            raise DiffError(f"{file}: \"{section}\" must be a list")
        for n, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or "verdict" not in item:
                raise DiffError(f"{file}: {section}[{n}] needs an \"id\" and a \"verdict\"")
    return {**edition, "source": str(file)}


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


def _item_name(item: Any, position: int) -> str:
    """A list item's name: its key, label, name or id; else its short text fields (a pair
    {"slower": "tanh", "faster": "sigmoid", ...} is "tanh/sigmoid"); else its position."""
    if not isinstance(item, dict):
        return str(position)
    for field in ("key", "label", "name", "id"):
        if isinstance(item.get(field), (str, int)):
            return str(item[field])
    words = [v for v in item.values() if isinstance(v, str) and 0 < len(v) <= 30][:3]
    return "/".join(words) if words else str(position)


def _outside(point: Any, interval: dict) -> bool:
    return (_finite(point) and _finite(interval["lo"]) and _finite(interval["hi"])
            and not interval["lo"] <= point <= interval["hi"])


def _meta(edition: dict) -> dict:
    return {"source": edition.get("source"), "profile": edition.get("profile"),
            "measured_at": edition.get("measured_at")}


def compare(old: dict, new: dict) -> dict:
    """The changes from edition `old` to edition `new` (both as load_edition returns them)."""
    result: dict[str, Any] = {"old": _meta(old), "new": _meta(new), "flipped": [], "drifted": [],
                              "added": [], "removed": [], "parts": [], "notes": [],
                              "support": {"old": _supported(old), "new": _supported(new)}}
    if old.get("profile") != new.get("profile"):
        result["notes"].append(f"the profiles differ ({old.get('profile')} -> {new.get('profile')}): "
                               "budgets and seeds differ too, so changes are expected")
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
                                          "fragile": bool(was.get("fragile") or now.get("fragile"))})
            result["parts"] += _part_changes(kind, id_, was, now)
            old_intervals = dict(intervals(was.get("numbers", {})))
            for name, interval in intervals(now.get("numbers", {})):
                previous = old_intervals.get(name)
                if previous is None:
                    continue
                if _outside(interval["point"], previous) or _outside(previous["point"], interval):
                    result["drifted"].append({"kind": kind, "id": id_, "title": title, "number": name,
                                              "old": {k: previous[k] for k in ("point", "lo", "hi")},
                                              "new": {k: interval[k] for k in ("point", "lo", "hi")}})
    for key in ("added", "removed"):
        result[key].sort(key=lambda c: (c["kind"], c["id"]))
    return result


def _supported(edition: dict) -> list[str]:
    """The findings whose verdict counts as support (an edition with older words counts only 'supported')."""
    return [item["id"] for item in edition.get("findings", []) if item.get("verdict") in SUPPORT]


def _part_changes(kind: str, id_: str, was: dict, now: dict) -> list[dict]:
    """Parts (by key) whose state differs between the editions; `contradicted` when one holds and
    the other is refuted."""
    def states(item):
        return {p["key"]: p.get("state") for p in item.get("parts") or [] if isinstance(p, dict) and "key" in p}
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
        notes.append("fragile" if c.get("fragile") else "not fragile in either edition")
    return "; ".join(notes)


def _flips_line(changes: dict) -> str:
    steady = sum(1 for c in changes["flipped"] if c["kind"] == "finding" and not c.get("fragile"))
    return (f"verdicts flipped: {len(changes['flipped'])}"
            + (f" ({steady} finding{'s' if steady != 1 else ''} not fragile in either edition)" if steady else ""))


def to_text(changes: dict) -> str:
    """A plain table for a terminal."""
    lines = [f"old: {_edition(changes['old'])}", f"new: {_edition(changes['new'])}"]
    lines += [f"note: {n}" for n in changes["notes"]]
    if _unchanged(changes):
        return "\n".join(lines + ["no verdict flipped, no number moved beyond its interval, nothing added or removed"])
    lines.append(_support_line(changes))
    lines.append(_flips_line(changes))
    lines += [f"  {c['kind']:<8} {c['id']:<5} {c['old']} -> {c['new']}  ({c['title']})"
              + (f"  [{_flip_note(c)}]" if _flip_note(c) else "") for c in changes["flipped"]]
    contradicted = sum(c["contradicted"] for c in changes["parts"])
    lines.append(f"parts that changed state: {len(changes['parts'])} ({contradicted} held in one edition and were "
                 "refuted in the other)")
    lines += [f"  {c['kind']:<8} {c['id']:<5} {c['part']}: {_state(c['old'])} -> {_state(c['new'])}"
              + ("  [contradicted]" if c["contradicted"] else "") for c in changes["parts"]]
    lines.append(f"numbers beyond their intervals: {len(changes['drifted'])}")
    lines += [f"  {c['kind']:<8} {c['id']:<5} {c['number']}: {_interval(c['old'])} -> {_interval(c['new'])}"
              for c in changes["drifted"]]
    for key, label in (("added", "added"), ("removed", "removed")):
        lines.append(f"{label}: {len(changes[key])}")
        lines += [f"  {c['kind']:<8} {c['id']:<5} {c['verdict']}  ({c['title']})" for c in changes[key]]
    return "\n".join(lines)


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(changes: dict) -> str:
    """GitHub-flavoured markdown, for a job summary ($GITHUB_STEP_SUMMARY)."""
    out = ["## vgreport: changes since the last edition", "",
           f"- old: `{_md(changes['old']['source'])}`, {changes['old']['profile']} profile, "
           f"measured {changes['old']['measured_at'] or 'unknown'}",
           f"- new: `{_md(changes['new']['source'])}`, {changes['new']['profile']} profile, "
           f"measured {changes['new']['measured_at'] or 'unknown'}"]
    out += [f"- note: {_md(n)}" for n in changes["notes"]]
    out.append("")
    if _unchanged(changes):
        return "\n".join(out + ["No verdict flipped, no number moved beyond its interval, nothing was added "
                                "or removed.", ""])
    out.append(f"**{_count(changes['flipped'], 'verdict')} flipped, {_count(changes['drifted'], 'number')} moved "
               f"beyond {'its interval' if len(changes['drifted']) == 1 else 'their intervals'}, "
               f"{len(changes['added'])} added, {len(changes['removed'])} removed.**")
    out.append(f"\n{_support_line(changes)}.")
    if changes["flipped"]:
        out += ["", "### Verdicts that flipped", "", "| | id | title | was | now | support |", "|---|---|---|---|---|---|"]
        out += [f"| {c['kind']} | {c['id']} | {_md(c['title'])} | {c['old']} | **{c['new']}** | {_flip_note(c)} |"
                for c in changes["flipped"]]
    if changes["parts"]:
        out += ["", "### Parts that changed state", "", "| | id | part | was | now | |", "|---|---|---|---|---|---|"]
        out += [f"| {c['kind']} | {c['id']} | `{_md(c['part'])}` | {_state(c['old'])} | **{_state(c['new'])}** | "
                f"{'contradicted' if c['contradicted'] else ''} |" for c in changes["parts"]]
    if changes["drifted"]:
        out += ["", "### Numbers that moved beyond their intervals", "",
                "| | id | number | was [95% interval] | now [95% interval] |", "|---|---|---|---|---|"]
        out += [f"| {c['kind']} | {c['id']} | `{_md(c['number'])}` | {_interval(c['old'])} | {_interval(c['new'])} |"
                for c in changes["drifted"]]
    for key, heading in (("added", "Added"), ("removed", "Removed")):
        if changes[key]:
            out += ["", f"### {heading}", "", "| | id | title | verdict |", "|---|---|---|---|"]
            out += [f"| {c['kind']} | {c['id']} | {_md(c['title'])} | {c['verdict']} |" for c in changes[key]]
    return "\n".join(out + [""])
