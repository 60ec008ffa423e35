"""`vgreport diff`: flipped verdicts, numbers beyond their intervals, items added or removed."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vgreport import api
from vgreport.cli import main
from vgreport.diff import compare, failed, intervals, load_edition, to_markdown, to_text

# Today's findings.json: findings only, intervals nested in dicts and lists.
OLD = {
    "profile": "standard", "measured_at": "2026-11-01T10:00:00+00:00",
    "findings": [
        {"id": "C2", "title": "Gradients shrink", "verdict": "supported",
         "numbers": {"tanh": {"rate": -0.20, "lo": -0.25, "hi": -0.15, "factor": 0.8},
                     "models": [{"key": "lstm", "acc": {"mean": 0.90, "lo": 0.80, "hi": 1.0}}],
                     "length": 30}},
        {"id": "C4", "title": "Short dependencies are learned", "verdict": "supported",
         "numbers": {"gap": {"diff": 0.5, "lo": 0.4, "hi": 0.6}}},
        {"id": "C9", "title": "Clipping", "verdict": "inconclusive", "numbers": {}},
    ],
}


def _new(**changes) -> dict:
    new = copy.deepcopy(OLD)
    for finding in new["findings"]:
        finding.update(changes.get(finding["id"], {}))
    return new


def _edition(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_an_identical_edition_has_no_changes():
    """Comparing an edition with itself reports nothing and fails under every --fail-on."""
    changes = compare(OLD, copy.deepcopy(OLD))
    assert not any(changes[k] for k in ("flipped", "drifted", "added", "removed"))
    assert not failed(changes, "flip") and not failed(changes, "drift")
    assert "no verdict flipped" in to_text(changes)


def test_a_flipped_verdict_is_reported_and_fails_on_flip():
    """A verdict that changed is a flip: listed with old and new, and it fails flip and drift, not never."""
    changes = compare(OLD, _new(C4={"verdict": "refuted"}))
    assert changes["flipped"] == [{"kind": "finding", "id": "C4", "title": "Short dependencies are learned",
                                   "old": "supported", "new": "refuted", "support": "lost",
                                   "fragile": False, "marked": False}]
    assert failed(changes, "flip") and failed(changes, "drift") and not failed(changes, "never")


@pytest.mark.parametrize("old,new,support", [
    ("supported", "supported so far", None), ("supported so far", "partly refuted", "lost"),
    ("inconclusive", "supported so far", "gained"), ("partly refuted", "refuted", None),
    ("refuted", "inconclusive", None)])
def test_only_supported_and_supported_so_far_count_as_support(old, new, support):
    """A flip says whether the finding lost or gained support; only the first two words count."""
    changes = compare(_new(C4={"verdict": old}), _new(C4={"verdict": new}))
    assert [c["support"] for c in changes["flipped"]] == [support]
    assert changes["support"]["new"] == ["C2"] + (["C4"] if new in ("supported", "supported so far") else [])
    assert f"findings with support (supported or supported so far): {len(changes['support']['old'])} -> " \
           f"{len(changes['support']['new'])}" in to_text(changes)


def test_parts_that_changed_state_are_listed_and_contradictions_named():
    """Parts are compared by key: undetermined -> holds is a change, holds -> refuted a contradiction."""
    parts = [{"key": "short", "state": True}, {"key": "long", "state": None}, {"key": "copy", "state": True}]
    later = [{"key": "short", "state": True}, {"key": "long", "state": True}, {"key": "copy", "state": False}]
    changes = compare(_new(C4={"parts": parts}), _new(C4={"parts": later}))
    assert [(c["part"], c["old"], c["new"], c["contradicted"]) for c in changes["parts"]] == [
        ("long", None, True, False), ("copy", True, False, True)]
    text = to_text(changes)
    assert "parts that changed state: 2 (1 held in one edition and were refuted in the other)" in text
    assert "copy: holds -> refuted  [contradicted]" in text
    assert "| finding | C4 | `copy` | holds | **refuted** | contradicted |" in to_markdown(changes)
    assert not compare(_new(C4={"parts": parts}), _new(C4={"parts": parts}))["parts"]


def test_a_flip_says_whether_either_edition_marked_the_verdict_thin_or_fragile():
    """Replication: a verdict that differs between two builds should rest on a part one seed decides in one
    of them (a fragile part that one seed reverses, or a thin one that one seed fewer leaves undetermined);
    the flip says which, and the summary counts flips that were marked in neither."""
    changes = compare(_new(C4={"fragile": True}, C9={"thin": ["exploding"]}),
                      _new(C4={"verdict": "supported so far"}, C2={"verdict": "refuted"}, C9={"verdict": "refuted"}))
    assert {c["id"]: (c["fragile"], c["marked"]) for c in changes["flipped"]} == {
        "C2": (False, False), "C4": (True, True), "C9": (False, True)}
    text = to_text(changes)
    assert "verdicts flipped: 3 (1 finding not marked thin or fragile in either edition)" in text
    assert "supported -> supported so far  (Short dependencies are learned)  [fragile]" in text
    assert "inconclusive -> refuted  (Clipping)  [thin]" in text


def test_a_new_estimate_outside_the_old_interval_is_drift():
    """A point estimate that left the old 95% interval is drift, named by its nested path."""
    numbers = copy.deepcopy(OLD["findings"][0]["numbers"])
    numbers["tanh"].update(rate=-0.30, lo=-0.32, hi=-0.28)
    changes = compare(OLD, _new(C2={"numbers": numbers}))
    assert [(c["id"], c["number"]) for c in changes["drifted"]] == [("C2", "tanh")]
    assert changes["drifted"][0]["old"] == {"point": -0.20, "lo": -0.25, "hi": -0.15}
    assert failed(changes, "drift") and not failed(changes, "flip")


def test_an_old_estimate_outside_a_narrower_new_interval_is_drift():
    """The reverse direction counts too: the new point inside the old interval, the old point outside the new."""
    numbers = copy.deepcopy(OLD["findings"][0]["numbers"])
    numbers["models"][0]["acc"] = {"mean": 0.82, "lo": 0.81, "hi": 0.83}  # 0.82 in [0.8, 1.0]; 0.9 not in [0.81, 0.83]
    changes = compare(OLD, _new(C2={"numbers": numbers}))
    assert [c["number"] for c in changes["drifted"]] == ["models[lstm].acc"]


def test_a_move_inside_both_intervals_is_not_drift():
    """Estimates that moved but stay inside each other's intervals are not reported."""
    numbers = copy.deepcopy(OLD["findings"][1]["numbers"])
    numbers["gap"] = {"diff": 0.55, "lo": 0.45, "hi": 0.65}
    assert compare(OLD, _new(C4={"numbers": numbers}))["drifted"] == []


def test_missing_numbers_are_never_drift():
    """A null (NaN in the build) estimate or bound is not evidence of a move."""
    numbers = copy.deepcopy(OLD["findings"][1]["numbers"])
    numbers["gap"] = {"diff": None, "lo": None, "hi": None}
    assert compare(OLD, _new(C4={"numbers": numbers}))["drifted"] == []


def test_intervals_are_found_wherever_they_are_nested():
    """Any dict with lo, hi and a point key (mean, diff, rate, share, ...) is an interval; list items by key."""
    found = dict(intervals({"a": {"share": 0.5, "lo": 0.4, "hi": 0.6},
                            "b": [{"label": "x", "mean": 1, "lo": 0, "hi": 2}, {"mean": 3, "lo": 2, "hi": 4}],
                            "pairs": [{"slower": "tanh", "faster": "sigmoid", "acc_diff": {"mean": 1, "lo": 0, "hi": 2}}],
                            "c": {"lo": 0, "hi": 1}, "d": 3.0}))
    assert set(found) == {"a", "b[x]", "b[1]", "pairs[tanh/sigmoid].acc_diff"}
    assert found["a"] == {"point": 0.5, "lo": 0.4, "hi": 0.6, "key": "share"}
    # C8's pairs repeat at each length: each keeps its own name, so one length is never compared with another
    pairs = [{"length": n, "slower": "identity", "faster": "tanh", "solved_slower": {"share": share, "lo": share, "hi": share}}
             for n, share in ((30, 1.0), (60, 0.0))]
    assert set(dict(intervals({"pairs": pairs}))) == {"pairs[30/identity/tanh].solved_slower",
                                                      "pairs[60/identity/tanh].solved_slower"}


def test_checks_are_compared_and_an_edition_without_checks_still_reads():
    """The new format's checks flip like findings; against today's format (no checks) they are added, not failures."""
    with_checks = {**_new(), "checks": [{"id": "K1", "title": "BPTT equals the Jacobian product",
                                         "verdict": "pass", "numbers": {}}]}
    changes = compare(OLD, with_checks)
    assert changes["added"] == [{"kind": "check", "id": "K1", "title": "BPTT equals the Jacobian product",
                                 "verdict": "pass"}]
    assert not failed(changes, "flip")
    failing = copy.deepcopy(with_checks)
    failing["checks"][0]["verdict"] = "fail"
    flipped = compare(with_checks, failing)["flipped"]
    assert flipped == [{"kind": "check", "id": "K1", "title": "BPTT equals the Jacobian product",
                        "old": "pass", "new": "fail", "support": None, "fragile": False, "marked": False}]


def test_added_and_removed_findings_are_listed_without_failing():
    """A finding present in only one edition is added or removed; that alone does not fail a run."""
    new = _new()
    new["findings"] = [f for f in new["findings"] if f["id"] != "C9"] + [
        {"id": "C11", "title": "New claim", "verdict": "supported", "numbers": {}}]
    changes = compare(OLD, new)
    assert [c["id"] for c in changes["removed"]] == ["C9"] and [c["id"] for c in changes["added"]] == ["C11"]
    assert not failed(changes, "drift")


def test_markdown_has_a_table_row_per_flip(tmp_path):
    """--md is GitHub markdown: a heading, and one table row per flipped verdict with old and new."""
    md = to_markdown(compare(OLD, _new(C4={"verdict": "inconclusive", "title": "Short | long"})))
    assert md.startswith("## vgreport: changes since the last edition")
    assert ("| finding | C4 | Short \\| long | supported | **inconclusive** | support lost; not marked thin or "
            "fragile in either edition |") in md


def test_load_edition_accepts_a_build_folder_or_a_file(tmp_path):
    """OLD and NEW may be a build folder (its findings.json) or the file itself."""
    _edition(tmp_path, "findings.json", OLD)
    assert load_edition(tmp_path)["findings"] == load_edition(tmp_path / "findings.json")["findings"]


@pytest.mark.parametrize("content,message", [
    (None, "not found"),
    ("{not json", "not JSON"),
    (json.dumps({"profile": "x"}), "no \"findings\" list"),
    (json.dumps({"findings": [{"title": "no id"}]}), "findings[0] needs an \"id\""),
    (json.dumps({"findings": [], "checks": {}}), "\"checks\" must be a list"),
])
def test_an_unreadable_edition_is_one_line_exit_2(tmp_path, content, message):
    """A missing, malformed or foreign file: exit status 2 and one line naming the file and the problem."""
    good = _edition(tmp_path, "good.json", OLD)
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    result = CliRunner().invoke(main, ["diff", str(bad), str(good)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "bad.json" in lines[0] and message in lines[0], result.output


def test_cli_exit_status_follows_fail_on(tmp_path):
    """diff exits 1 on a flip by default, 0 with --fail-on never; drift fails only with --fail-on drift."""
    runner = CliRunner()
    old = _edition(tmp_path, "old.json", OLD)
    flip = _edition(tmp_path, "flip.json", _new(C4={"verdict": "inconclusive"}))
    numbers = copy.deepcopy(OLD["findings"][1]["numbers"])
    numbers["gap"] = {"diff": 0.9, "lo": 0.85, "hi": 0.95}
    drift = _edition(tmp_path, "drift.json", _new(C4={"numbers": numbers}))
    assert runner.invoke(main, ["diff", str(old), str(flip)]).exit_code == 1
    assert runner.invoke(main, ["diff", str(old), str(flip), "--fail-on", "never"]).exit_code == 0
    assert runner.invoke(main, ["diff", str(old), str(drift)]).exit_code == 0
    assert runner.invoke(main, ["diff", str(old), str(drift), "--fail-on", "drift"]).exit_code == 1
    table = runner.invoke(main, ["diff", str(old), str(flip)]).output
    assert "C4" in table and "supported -> inconclusive" in table
    # -q: the results only, one line per change, without the editions, counts or notes around them
    quiet = runner.invoke(main, ["diff", "-q", str(old), str(flip)])
    assert quiet.exit_code == 1 and quiet.output.splitlines() == [
        "finding  C4    supported -> inconclusive  (Short dependencies are learned)  "
        "[support lost; not marked thin or fragile in either edition]"]
    assert runner.invoke(main, ["diff", "-q", str(old), str(old)]).output == ""  # nothing changed: nothing


def test_cli_json_is_the_api_result(tmp_path):
    """--json prints api.diff's changes plus the --fail-on decision, as one JSON object."""
    old = _edition(tmp_path, "old.json", OLD)
    new = _edition(tmp_path, "new.json", _new(C2={"verdict": "partly refuted"}))
    result = CliRunner().invoke(main, ["diff", "--json", str(old), str(new), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["flipped"] == api.diff(old, new)["flipped"] and payload["failed"] is False
    both = CliRunner().invoke(main, ["diff", "--json", "--md", str(old), str(new)])
    assert both.exit_code == 2


def test_shares_of_none_or_all_have_exact_bounds():
    """Wilson's interval at k = 0 starts at exactly 0 and at k = n ends at exactly 1 (computed as
    centre - half it was 5.6e-17, so a share of 0 lay outside its own interval)."""
    from vgreport.findings.stats import share
    for n in (1, 3, 6, 10, 30):
        for level in (0.95, 1 - 0.05 / 2, 1 - 0.05 / 3):
            none, every = share(0, n, level), share(n, n, level)
            assert none.lo == 0.0 and none.lo <= none.mean <= none.hi
            assert every.hi == 1.0 and every.lo <= every.mean <= every.hi


def test_an_edition_never_differs_from_itself_even_with_a_point_outside_its_interval():
    """Standard-build C4 as it was published: share 0 with a lower bound of 5.551e-17. Compared with
    itself it is unchanged (and shown with --all as within, change +0), so --fail-on drift passes."""
    edition = _new(C4={"numbers": {"copy": {"share": 0, "lo": 5.551e-17, "hi": 0.5615, "n": 6}}})
    changes = compare(edition, copy.deepcopy(edition))
    assert not changes["drifted"] and not failed(changes, "drift")
    assert {c["number"] for c in changes["within"]} == {"tanh", "models[lstm].acc", "copy"}
    assert [c["delta"] for c in changes["within"] if c["number"] == "copy"] == [0]


def test_rounding_is_not_drift_but_a_real_move_is():
    """Intervals compare with a stated tolerance (diff.REL_TOL of their scale): a recomputed interval that
    differs in the 15th digit is unchanged; a point just beyond the old end by more than that drifts."""
    from vgreport import diff
    rounded = {"diff": 0.6 * (1 + 1e-14), "lo": 0.4 * (1 + 1e-14), "hi": 0.6 * (1 - 1e-14)}
    assert not compare(OLD, _new(C4={"numbers": {"gap": rounded}}))["drifted"]
    beyond = {"diff": 0.6 + 1e-6, "lo": 0.55, "hi": 0.65}
    assert compare(OLD, _new(C4={"numbers": {"gap": beyond}}))["drifted"]
    assert diff.REL_TOL <= 1e-6  # the tolerance is rounding, not a margin on the measurement


def test_a_zero_width_interval_never_moves_by_float_noise():
    """An identity sweep's rate is the same in every seed (a zero-width interval); recomputed on another
    machine it moved by 1.8e-8, which is float noise, not drift. A zero-width interval compares with an
    absolute floor (diff.ZERO_WIDTH_FLOOR); a real move of it still drifts, and so does a point just beyond a
    wide interval's end."""
    from vgreport import diff
    old = _new(C2={"numbers": {"identity": {"rate": 0.405465108, "lo": 0.405465108, "hi": 0.405465108}}})
    noise = 0.405465108 + 1.8e-8
    moved = compare(old, _new(C2={"numbers": {"identity": {"rate": noise, "lo": noise, "hi": noise}}}))
    assert not moved["drifted"] and "identity" in [c["number"] for c in moved["within"]]
    real = compare(old, _new(C2={"numbers": {"identity": {"rate": 0.41, "lo": 0.41, "hi": 0.41}}}))
    assert [c["number"] for c in real["drifted"]] == ["identity"]
    assert 1.8e-8 < diff.ZERO_WIDTH_FLOOR < 1e-3
    # as two standard builds measured it: seeds agree to 3e-8, the next build's point 1.8e-8 off
    seen = {"rate": -0.6931471922072547, "lo": -0.6931472088483999, "hi": -0.6931471755661096}
    again = {"rate": -0.6931471741572547, "lo": -0.6931471907983999, "hi": -0.6931471575161096}
    noisy = compare(_new(C2={"numbers": {"identity": seen}}), _new(C2={"numbers": {"identity": again}}))
    assert not noisy["drifted"], noisy["drifted"]


def test_a_change_column_and_all_show_old_new_and_delta(tmp_path):
    """Each compared number has old, new and their difference (as `dvc metrics diff` shows); --all also
    lists the verdicts that stayed and the numbers that moved within their intervals."""
    old = _edition(tmp_path, "old.json", OLD)
    new = _edition(tmp_path, "new.json", _new(C4={"numbers": {"gap": {"diff": 0.9, "lo": 0.85, "hi": 0.95}}}))
    runner = CliRunner()
    table = runner.invoke(main, ["diff", str(old), str(new), "--fail-on", "never"]).output
    assert "gap: 0.5 [0.4, 0.6] -> 0.9 [0.85, 0.95], +0.4" in table
    assert "verdicts unchanged" not in table and "models[lstm].acc" not in table
    full = runner.invoke(main, ["diff", str(old), str(new), "--all"]).output
    assert "verdicts unchanged: 3" in full and "C9" in full
    assert "numbers within their intervals: 2" in full and "models[lstm].acc: 0.9 [0.8, 1] -> 0.9 [0.8, 1], +0" in full
    md = runner.invoke(main, ["diff", str(old), str(new), "--md", "--all"]).output
    assert "| was [interval] | now [interval] | change |" in md and "| +0.4 |" in md
    assert "### Verdicts unchanged" in md and "### Numbers within their intervals" in md
    quiet_json = json.loads(runner.invoke(main, ["diff", str(old), str(new), "--json"]).output)
    assert "within" not in quiet_json and quiet_json["drifted"][0]["delta"] == pytest.approx(0.4)
    assert len(json.loads(runner.invoke(main, ["diff", str(old), str(new), "--json", "--all"]).output)["kept"]) == 3


def _build_folder(tmp_path, name: str, shift: int, **world) -> Path:
    """A build folder with the findings.json and metrics.csv of a synthetic world, its seeds shifted by `shift`
    (a build with --seed-base)."""
    from vgreport.findings import evaluate
    from vgreport.findings import synthetic as syn
    frame = syn.world(**world)
    frame["seed"] = frame["seed"] + shift
    folder = tmp_path / name
    folder.mkdir()
    frame.to_csv(folder / "metrics.csv", index=False, float_format="%.9g")
    payload = {**evaluate(frame, None, with_figures=False).to_json(), "profile": "standard"}
    (folder / "findings.json").write_text(json.dumps(payload))
    return folder


def test_pool_evaluates_both_builds_records_together(tmp_path):
    """`diff --pool` evaluates the union of two builds on disjoint seeds and prints each finding's pooled
    verdict beside each edition's: here C5 is open in each build (five of six seeds unrescued cannot say
    "most"), and pooled its twelve seeds decide it."""
    import pandas as pd

    from vgreport.aggregate import records_from_csv
    from vgreport.findings import evaluate
    from vgreport.findings import synthetic as syn
    from vgreport.specs import default_experiments_dir, load_battery
    L, F = syn.SOLVE, syn.FAIL
    old = _build_folder(tmp_path, "old", 0, budget={"best": [F, F, F, F, F, L]})
    new = _build_folder(tmp_path, "new", 100, budget={"best": [F, F, F, F, L, F]})
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--pool", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    union = pd.concat([records_from_csv(old / "metrics.csv"), records_from_csv(new / "metrics.csv")])
    expected = {f.id: f.verdict for f in evaluate(union, load_battery(default_experiments_dir(), "standard"),
                                                  with_figures=False).findings}
    assert "pooled verdicts (both editions' records evaluated together: 12 seeds, 0–105)" in result.output
    for line in result.output.splitlines():
        if line.startswith("  C5 "):
            assert line.endswith(f"-> {expected['C5']}"), line
    as_json = json.loads(CliRunner().invoke(main, ["diff", str(old), str(new), "--pool", "--json"]).output)
    assert {r["id"]: r["pooled"] for r in as_json["pooled"]["findings"]} == expected
    editions = [{f["id"]: f["verdict"] for f in json.loads((folder / "findings.json").read_text())["findings"]}
                for folder in (old, new)]
    assert expected["C5"] == "supported" and editions[0]["C5"] == editions[1]["C5"] == "inconclusive"


def test_pool_refuses_overlapping_seeds_and_a_findings_json_alone(tmp_path):
    """Pooling needs disjoint seeds (the same cell twice would count twice) and each build's metrics.csv:
    each refusal is one line and exit status 2."""
    a, b = _build_folder(tmp_path, "a", 0), _build_folder(tmp_path, "b", 3)
    overlap = CliRunner().invoke(main, ["diff", str(a), str(b), "--pool"])
    assert overlap.exit_code == 2 and "disjoint seeds; seeds 3, 4, 5 are in both" in overlap.output
    (b / "metrics.csv").unlink()
    alone = CliRunner().invoke(main, ["diff", str(a), str(b), "--pool"])
    assert alone.exit_code == 2 and "--pool needs a build folder with its metrics.csv" in alone.output
