"""Reading an edition that someone else may have written: findings.json (for `diff` and
`build --baseline`) and manifest.json, with bounded size, nesting depth and number length, and
their shape checked before any comparison reads them.

An edition is input like a spec: a file from an artifact, a release or a colleague. Python's json
module would raise ValueError on an integer of more than 4,300 digits, turn 1e400 into inf, and
recurse until RecursionError on deep nesting; here each of these is refused with one line naming
the file and what is wrong (EditionError). Text that reaches a terminal or a Markdown table is made
inert by `plain` and `markdown_cell` (which also keeps it from mentioning someone, referring to an
issue or becoming a link when the markdown lands in a GitHub issue).
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from .store import read_regular

__all__ = ["EditionError", "MAX_BYTES", "MAX_DEPTH", "MAX_NUMBER_CHARS", "MAX_TEXT_CHARS", "read_json",
           "load_findings", "load_manifest", "plain", "markdown_cell", "markdown_code"]

MAX_BYTES = 8 << 20  # a standard edition's findings.json is about 0.3 MB, its manifest.json 0.2 MB
MAX_DEPTH = 64  # findings.json nests about 8 levels deep
MAX_NUMBER_CHARS = 40  # a float64 written in full takes at most 24 characters
MAX_TEXT_CHARS = 10_000  # an id, verdict, title or profile name (titles are one sentence)
SECTIONS = ("findings", "checks")

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class EditionError(Exception):
    """An edition that cannot be read or has the wrong shape: one line naming the file and why."""


def _too_deep(text: str) -> bool:
    """Whether brackets outside strings nest deeper than MAX_DEPTH, counted without recursion
    (json.loads recurses once per level and raises RecursionError near 1,000)."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def _number_parsers(file: Path):
    def integer(text: str) -> int:
        if len(text) > MAX_NUMBER_CHARS:
            raise EditionError(f"{file}: an integer of {len(text):,} digits (at most {MAX_NUMBER_CHARS})")
        return int(text)

    def real(text: str) -> float:
        if len(text) > MAX_NUMBER_CHARS:
            raise EditionError(f"{file}: a number written with {len(text):,} characters (at most {MAX_NUMBER_CHARS})")
        value = float(text)
        if not math.isfinite(value):
            raise EditionError(f"{file}: the number {text[:20]} is beyond the range of a float64")
        return value

    def constant(text: str):
        raise EditionError(f"{file}: {text} is not JSON (findings.json writes null for a missing number)")

    return integer, real, constant


def read_json(file: Path | str, max_bytes: int = MAX_BYTES) -> Any:
    """Parse a JSON file of at most max_bytes, nested at most MAX_DEPTH deep, with numbers of at
    most MAX_NUMBER_CHARS characters and no NaN or Infinity. A regular file only (a link, a FIFO
    or a device is refused without blocking). EditionError otherwise."""
    file = Path(file)
    try:
        raw = read_regular(file, max_bytes)
    except FileNotFoundError:
        raise EditionError(f"{file}: not found (give a build folder or a findings.json file)") from None
    except OSError as exc:
        raise EditionError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditionError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    if _too_deep(text):
        raise EditionError(f"{file}: nested more than {MAX_DEPTH} levels deep")
    integer, real, constant = _number_parsers(file)
    try:
        return json.loads(text, parse_int=integer, parse_float=real, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise EditionError(f"{file}: not JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:  # a nesting the scan above cannot see (it never should)
        raise EditionError(f"{file}: nested too deeply") from None


def _text(value: Any, optional: bool = False) -> bool:
    return (value is None and optional) or (isinstance(value, str) and len(value) <= MAX_TEXT_CHARS)


def _timestamp(text: str) -> bool:
    """An ISO 8601 date and time (what builds write: the newest cell's computed_at), nothing else."""
    if len(text) > 40 or not re.fullmatch(r"[0-9T:+\-. Z]+", text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _not_text(value: Any) -> str:
    """Why a value that _text refused is refused: its type, or a text's length."""
    if isinstance(value, str):
        return f"must be text of at most {MAX_TEXT_CHARS:,} characters, not {len(value):,}"
    return f"must be text, not {'null' if value is None else type(value).__name__}"


def _edition_file(path: Path | str, name: str) -> Path:
    path = Path(path)
    return path / name if path.is_dir() else path


def load_findings(path: Path | str) -> dict:
    """findings.json from a build folder or a file, checked to have the shape `diff` reads: a
    "findings" list (and an optional "checks" list) of objects with a text "id" and "verdict", an
    optional text "title" and an optional object "numbers"; "profile" and "measured_at" text or
    null. The result carries "source": the file's name."""
    file = _edition_file(path, "findings.json")
    edition = read_json(file)
    if not isinstance(edition, dict) or not isinstance(edition.get("findings"), list):
        raise EditionError(f"{file}: not a vgreport findings.json (no \"findings\" list)")
    for key in ("profile", "measured_at"):
        if not _text(edition.get(key), optional=True):
            raise EditionError(f"{file}: \"{key}\" {_not_text(edition.get(key))}")
    if edition.get("measured_at") and not _timestamp(edition["measured_at"]):
        raise EditionError(f"{file}: \"measured_at\" must be a time stamp (ISO 8601, like "
                           f"2026-11-01T10:00:00+00:00), not {plain(edition['measured_at'])[:40]!r}")
    for section in SECTIONS:
        items = edition.get(section, [])
        if not isinstance(items, list):
            raise EditionError(f"{file}: \"{section}\" must be a list")
        seen = set()
        for n, item in enumerate(items):
            where = f"{file}: {section}[{n}]"
            if not isinstance(item, dict) or not _text(item.get("id")) or not item["id"]:
                long = isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]
                raise EditionError(f"{where}: \"id\" {_not_text(item['id'])}" if long else
                                   f"{where} needs an \"id\" (text) and a \"verdict\"")
            if "verdict" not in item or not _text(item["verdict"]):
                raise EditionError(f"{where} ({plain(item['id'])[:40]}): \"verdict\" {_not_text(item.get('verdict'))}")
            if not _text(item.get("title"), optional=True):
                raise EditionError(f"{where} ({plain(item['id'])[:40]}): \"title\" {_not_text(item.get('title'))}")
            if not isinstance(item.get("numbers", {}), dict):
                raise EditionError(f"{where} ({plain(item['id'])[:40]}): \"numbers\" must be an object")
            if item["id"] in seen:
                raise EditionError(f"{where}: the id {plain(item['id'])[:40]} appears twice")
            seen.add(item["id"])
    return {**edition, "source": str(file)}


def load_manifest(path: Path | str) -> dict:
    """manifest.json from a build folder or a file, read with the same bounds; an object."""
    file = _edition_file(path, "manifest.json")
    manifest = read_json(file)
    if not isinstance(manifest, dict):
        raise EditionError(f"{file}: not a vgreport manifest.json (not an object)")
    return manifest


def plain(value: Any) -> str:
    """Text safe for a terminal: control characters (ESC, BEL, C1 codes, the bidirectional
    overrides) are dropped, so an edition cannot set a window title or move the cursor; a line
    break or tab becomes a space."""
    out = []
    for char in str(value):
        category = unicodedata.category(char)
        if char in "\n\r\t\v\f":
            out.append(" ")
        elif category not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(char)
    return "".join(out)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
# What GitHub turns into a mention, an issue or commit reference or a link in an issue's text: "@name",
# "#12", "GH-12", "owner/repo#12", "https://...", "www.x" (and an e-mail address, through its "@").
# A word joiner (invisible) after "@", "#" and "GH-" and inside "://" and "www." breaks each of them.
_GITHUB_LIVE = re.compile(r"[@#]|(?<=gh)-(?=\d)|:(?=//)|(?<=www)\.", re.IGNORECASE)
_INERT = "\u2060"  # WORD JOINER


def markdown_cell(value: Any) -> str:
    """Text safe in a GitHub Markdown table cell, job summary or issue: plain, with Markdown's and
    HTML's special characters backslash-escaped (a "|" cannot add a column nor a line break a row,
    "&#64;" cannot spell an "@"), and an invisible word joiner inside what GitHub would make live
    ("@name" mentions, "#12" references, links), so quoting an edition notifies nobody."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", plain(value))
    return _GITHUB_LIVE.sub(lambda m: m.group(0) + _INERT, text)


def markdown_code(value: Any) -> str:
    """Text for inside a `code span` in a table: plain, backticks replaced (they would end the
    span) and "|" escaped (GitHub splits cells before it reads code spans)."""
    return plain(value).replace("`", "'").replace("|", "\\|")
