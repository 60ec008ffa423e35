"""Hostile editions: every reader of findings.json (`diff`, `build --baseline`) parses with bounded
size, depth and number length and checks the shape, so bad input ends in one line with exit 2;
text output carries no terminal escapes and a Markdown cell cannot add a row or a column (issue 21).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vgreport import editions
from vgreport.cli import main
from vgreport.diff import compare, load_edition, to_markdown

import helpers

GOOD = {"profile": "smoke", "measured_at": "2026-11-01T10:00:00+00:00",
        "findings": [{"id": "C2", "title": "Gradients shrink", "verdict": "supported",
                      "numbers": {"rate": {"mean": -0.2, "lo": -0.25, "hi": -0.15}}}],
        "checks": [{"id": "K1", "title": "Probes agree", "verdict": "pass"}]}


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


_one_line = helpers.one_line  # shared: tests/helpers.py


HOSTILE = {
    "integer of 5,000 digits": ('{"findings": [], "n": ' + "9" * 5000 + "}", "digits"),
    "10^400": ('{"findings": [], "n": 1e400}', "beyond the range"),
    "990 brackets": ('{"findings": [], "n": ' + "[" * 990 + "]" * 990 + "}", "nested"),
    "100,000 brackets": ("[" * 100_000 + "]" * 100_000, "nested"),
    "unclosed 100,000 brackets": ("[" * 100_000, "nested"),
    "NaN": ('{"findings": [], "n": NaN}', "NaN is not JSON"),
    "a verdict that is an object": ('{"findings": [{"id": "C2", "verdict": {"a": 1}}]}', '"verdict" must be text'),
    "an id that is a number": ('{"findings": [{"id": 2, "verdict": "supported"}]}', '"id"'),
    "numbers that are a list": ('{"findings": [{"id": "C2", "verdict": "supported", "numbers": [1]}]}',
                                '"numbers" must be an object'),
    "a title that is a list": ('{"findings": [{"id": "C2", "verdict": "x", "title": []}]}', '"title" must be text'),
    "findings not a list": ('{"findings": {}}', '"findings" list'),
    "checks not a list": ('{"findings": [], "checks": 3}', '"checks" must be a list'),
    "a profile that is an object": ('{"findings": [], "profile": {}}', '"profile" must be text'),
    "an id twice": ('{"findings": [{"id": "C2", "verdict": "a"}, {"id": "C2", "verdict": "b"}]}', "twice"),
    "not UTF-8": (b'{"findings": ["\xff"]}', "UTF-8"),
    # a text over the limit used to read '"verdict" must be text, not str'
    "a verdict of 10,001 characters": ('{"findings": [{"id": "C2", "verdict": "' + "v" * 10_001 + '"}]}',
                                       '"verdict" must be text of at most 10,000 characters, not 10,001'),
    "an id of 10,001 characters": ('{"findings": [{"id": "' + "i" * 10_001 + '", "verdict": "x"}]}',
                                   '"id" must be text of at most 10,000 characters, not 10,001'),
    "a title of 20,000 characters": ('{"findings": [{"id": "C2", "verdict": "x", "title": "' + "t" * 20_000 + '"}]}',
                                     '"title" must be text of at most 10,000 characters, not 20,000'),
    "a profile of 10,001 characters": ('{"findings": [], "profile": "' + "p" * 10_001 + '"}',
                                       '"profile" must be text of at most 10,000 characters, not 10,001'),
    "not JSON": ("{findings: []}", "not JSON"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_edition_is_one_line_exit_2_in_diff(tmp_path, case):
    text, reason = HOSTILE[case]
    bad = _write(tmp_path, "bad.json", text)
    good = _write(tmp_path, "good.json", json.dumps(GOOD))
    for args in ([str(bad), str(good)], [str(good), str(bad)]):
        line = _one_line(CliRunner().invoke(main, ["diff", *args]), 2)
        assert reason in line and "bad.json" in line


@pytest.mark.parametrize("case", ["integer of 5,000 digits", "10^400", "990 brackets", "100,000 brackets",
                                  "a verdict that is an object"])
def test_a_hostile_baseline_is_one_line_exit_2_before_training(tmp_path, case):
    """These ended as "internal error ... please report it" (or blamed a shipped template)."""
    text, reason = HOSTILE[case]
    battery = helpers.write(tmp_path / "battery", helpers.experiments())
    out = tmp_path / "out"
    line = _one_line(CliRunner().invoke(main, ["build", "--experiments", str(battery), "--profile", "smoke",
                                               "--out", str(out), "--baseline",
                                               str(_write(tmp_path, "old.json", text))]), 2)
    assert line.startswith("Error: --baseline") and reason in line
    assert not out.exists()


def test_special_files_and_oversized_editions_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "findings.json"
    os.mkfifo(fifo)
    with pytest.raises(editions.EditionError, match="FIFO"):
        editions.load_findings(tmp_path)
    with pytest.raises(editions.EditionError, match="character device"):
        editions.load_findings("/dev/zero")
    big = _write(tmp_path, "big.json", '{"findings": [], "pad": "' + "x" * editions.MAX_BYTES + '"}')
    with pytest.raises(editions.EditionError, match="over the limit"):
        editions.load_findings(big)


def test_the_bounds_admit_every_real_number_and_depth(tmp_path):
    """Bounds that refuse nothing a build writes: a float64 at full precision, the largest and
    smallest, and nesting up to MAX_DEPTH."""
    numbers = [-1.7976931348623157e+308, 5e-324, 2 ** 63, -0.1234567890123456789, 0]
    nested = []
    for _ in range(editions.MAX_DEPTH - 2):  # inside the edition's own object: MAX_DEPTH in all
        nested = {"n": nested}
    edition = {**GOOD, "values": numbers, "deep": nested}
    assert load_edition(_write(tmp_path, "ok.json", json.dumps(edition)))["values"] == numbers
    edition["deep"] = {"n": nested}
    with pytest.raises(Exception, match="nested more than"):
        load_edition(_write(tmp_path, "deep.json", json.dumps(edition)))


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    edition = {**GOOD, "findings": [{**GOOD["findings"][0], "title": "[" * 5000 + '\\"{'}]}
    assert load_edition(_write(tmp_path, "ok.json", json.dumps(edition)))["findings"][0]["title"].startswith("[[[")


ESCAPE = "\x1b]0;pwned\x07\x1b[2J"


def _flipped(tmp_path: Path, verdict: str, title: str = "Gradients shrink") -> tuple[Path, Path]:
    new = json.loads(json.dumps(GOOD))
    new["findings"][0].update(verdict=verdict, title=title)
    return _write(tmp_path, "old.json", json.dumps(GOOD)), _write(tmp_path, "new.json", json.dumps(new))


def test_text_output_strips_terminal_escapes(tmp_path):
    """An OSC title string and a clear-screen in a verdict and a title reach the terminal as text only."""
    old, new = _flipped(tmp_path, f"refuted{ESCAPE}", f"title{ESCAPE}\nsecond line")
    result = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert result.exit_code == 1  # the verdict flipped
    assert not any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) < 0xa0 for c in result.output)
    assert "refuted]0;pwned[2J" in result.output
    flipped = [line for line in result.output.splitlines() if "C2" in line]
    assert len(flipped) == 1 and "second line" in flipped[0]


def test_a_newline_or_bar_in_a_verdict_adds_no_markdown_row_or_column(tmp_path):
    old, new = _flipped(tmp_path, "refuted\n| evil | row | x | y | z |", "a | b")
    md = to_markdown(compare(load_edition(old), load_edition(new)))
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert len(rows) == 3  # the header, its rule, and the one flip
    flip = rows[2]
    header = rows[0]
    assert flip.count("|") - flip.count("\\|") == header.count("|")  # as many cells as the header
    assert "\x1b" not in to_markdown(compare(*(load_edition(p) for p in _flipped(tmp_path, ESCAPE))))


# ------------------------------------------------------------------ property: never a traceback
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["supported", "refuted", "pass", "C2", "K1", "", "\x1b]0;x\x07", "a|b\nc"]),
                    st.text(max_size=8))
KEYS = st.one_of(st.sampled_from(["findings", "checks", "id", "verdict", "title", "numbers", "profile",
                                  "measured_at", "mean", "lo", "hi", "diff", "rate", "share", "key", "label"]),
                 st.text(max_size=5))
TREES = st.recursive(SCALARS, lambda children: st.one_of(st.lists(children, max_size=4),
                                                          st.dictionaries(KEYS, children, max_size=5)),
                     max_leaves=25)
# Editions close to the real shape, so generated ones often pass the first checks.
FINDINGS = st.fixed_dictionaries({"id": st.one_of(st.sampled_from(["C2", "C4", "K1"]), SCALARS),
                                  "verdict": st.one_of(st.sampled_from(["supported", "refuted"]), TREES)},
                                 optional={"title": SCALARS, "numbers": TREES})
EDITIONS = st.one_of(TREES, st.fixed_dictionaries({"findings": st.lists(FINDINGS, max_size=3)},
                                                  optional={"checks": st.one_of(st.lists(FINDINGS, max_size=2), TREES),
                                                            "profile": SCALARS, "measured_at": SCALARS}))
FOLDER = Path(tempfile.mkdtemp(prefix="vgreport-editions-"))


def _diff_exit(text: bytes, other: Path) -> None:
    path = FOLDER / "generated.json"
    path.write_bytes(text)
    for args in ([str(path), str(other)], [str(other), str(path)]):
        for fmt in ([], ["--md"], ["--json"]):
            result = CliRunner().invoke(main, ["diff", *fmt, *args])
            assert result.exit_code in (0, 1, 2), result.output
            assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
            assert "Traceback" not in result.output and "internal error" not in result.output
            if result.exit_code == 2:  # one line on stderr; with --md, the reason as markdown on stdout too
                assert len(result.stderr.strip().splitlines()) == 1, result.output
                assert result.stdout.startswith("## vgreport: an edition could not be read") if fmt == ["--md"] \
                    else result.stdout == "", result.output


GOOD_FILE = FOLDER / "good.json"
GOOD_FILE.write_text(json.dumps(GOOD))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITIONS)
def test_any_generated_json_is_read_or_refused_in_one_line(edition):
    _diff_exit(json.dumps(edition).encode(), GOOD_FILE)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_in_one_line(data):
    _diff_exit(data, GOOD_FILE)


def test_manifest_json_is_read_with_the_same_bounds(tmp_path):
    (tmp_path / "manifest.json").write_text('{"vgreport": {"code": "abc"}, "n": 1.5}')
    assert editions.load_manifest(tmp_path)["vgreport"] == {"code": "abc"}
    for text, reason in (("[1, 2]", "not an object"), ('{"n": ' + "9" * 5000 + "}", "digits"),
                         ("{" * 1000, "nested")):
        (tmp_path / "manifest.json").write_text(text)
        with pytest.raises(editions.EditionError, match=reason):
            editions.load_manifest(tmp_path)
