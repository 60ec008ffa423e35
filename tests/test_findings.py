"""Verdict logic on synthetic record sets: each claim can be supported, refuted and left open."""
from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import jinja2
import pandas as pd
import pytest
import yaml

import synthetic as syn
from vgreport import render
from vgreport.aggregate import final_scores, fit_decay, interval, records_frame, welch
from vgreport.findings import CLAIM_IDS, VERDICTS, Finding, combine, evaluate
from vgreport.specs import load_battery, parse_overrides


def verdict(frame: pd.DataFrame, fid: str) -> Finding:
    (finding,) = evaluate(frame, None, with_figures=False, ids=(fid,))
    return finding


# Each claim: the experiments it reads, with arguments that support it and arguments that refute it.
SUPPORTING = {
    "C1": {"activation": {}},
    "C2": {"activation": {}},
    "C3": {"architecture": {}, "recall_length": {}},
    "C4": {"recall_length": {}, "adding_length": {}},
    "C5": {"budget": {}},
    "C6": {"architecture": {"accs": {"lstm_default": 1.0, "lstm_forget_bias_1": 1.0, "gru": 1.0},
                            "rates": {"lstm_default": -0.1, "gru": -0.1}}},
    "C7": {"init": {}, "architecture": {}, "gain_sweep": {}},
    "C8": {"activation": {}},
    "C9": {"clip_exploding": {}, "clip_vanishing": {}},
    "C10": {"architecture": {}},
    "G1": {"architecture": {}},
    "G2": {"gain_sweep": {}},
    "L1": {"activation": {}, "adding_length": {}, "architecture": {}, "gain_sweep": {}},
}

REFUTING = {
    "C1": {"activation": {"chain_err": 1e-3}},
    "C2": {"activation": {"rates": {"tanh": 0.05, "sigmoid": 0.05}}},
    "C3": {"architecture": {"sens": {"rnn_tanh": 1.0}}, "recall_length": {"accs": {20: 1.0, 50: 1.0}}},
    "C4": {"recall_length": {"accs": {20: 1.0, 50: 1.0}},
           "adding_length": {"mse": {"rnn_tanh": {5: 0.01, 10: 0.01, 20: 0.01}}}},
    "C5": {"budget": {"runs": {"rnn_tanh": (0.125, 0.95)}}},
    "C6": {"architecture": {"rates": {"lstm_default": -0.9, "lstm_forget_bias_1": -0.9, "lstm_chrono": -0.9,
                                      "gru": -0.9}, "accs": {"lstm_chrono": {5: 1.0, 10: 0.125, 20: 0.125}}}},
    "C7": {"init": {"accs": {"xavier": 0.2, "orthogonal": 0.2, "irnn": 0.2},
                    "rates": {"xavier": -0.9, "orthogonal": -0.9, "irnn": -0.9}},
           "architecture": {"accs": {"lstm_chrono": {5: 1.0, 10: 0.125, 20: 0.125}}}},
    "C8": {"activation": {"accs": {"identity": 0.13, "sigmoid": 0.9},
                          "derivs": {"sigmoid": 1.0, "tanh": 0.5, "relu": 0.3, "identity": 0.1}}},
    "C9": {"clip_exploding": {"clipped_diverge": True},
           "clip_vanishing": {"accs": {"clip_1": 0.9}, "trained_rates": {"clip_1": -0.05}}},
    "C10": {"architecture": {"rates": {"transformer": -0.3}, "accs": {"transformer": 0.125}}},
    "G1": {"architecture": {"accs": {"lstm_default": 1.0}}},
    "G2": {"gain_sweep": {"identity_error": 0.1}},
    "L1": {"activation": {"rates": {"tanh": 0.05, "sigmoid": 0.05, "relu": 0.05}},
           "adding_length": {"mse": {"rnn_tanh": {5: 0.01, 10: 0.01, 20: 0.01},
                                     "irnn": {5: 0.17, 10: 0.17, 20: 0.17},
                                     "lstm_chrono": {5: 0.17, 10: 0.17, 20: 0.17}}},
           "architecture": {"accs": {"lstm_chrono": 0.125}}, "gain_sweep": {"identity_error": 0.1}},
}

# Intervals that straddle a threshold: two seeds that disagree, so the data cannot decide.
OPEN = {
    "C3": {"architecture": {"sens": {"rnn_tanh": -1.0}}, "recall_length": {"accs": {50: [0.125, 0.9, 0.5]}}},
    "C4": {"recall_length": {"accs": {50: [0.125, 0.9, 0.5]}},
           "adding_length": {"mse": {"rnn_tanh": {5: 0.01, 10: 0.05, 20: [0.01, 0.17, 0.09]}}}},
    "C5": {"budget": {"runs": {"rnn_tanh": (0.125, [0.125, 0.25, 0.125])}}},
    "C6": {"architecture": {"accs": {"lstm_default": [0.125, 1.0, 0.5], "lstm_forget_bias_1": [0.125, 1.0, 0.5],
                                     "lstm_chrono": [0.125, 1.0, 0.5], "gru": [0.125, 1.0, 0.5]}}},
    "C10": {"architecture": {"accs": {"transformer": [0.125, 1.0, 0.5]}, "rates": {"transformer": -0.011}}},
    "G1": {"architecture": {"accs": {"lstm_chrono": [0.125, 1.0, 0.5]}}},
}


def build(spec: dict, seeds: int = 3) -> pd.DataFrame:
    return syn.frame(*(syn.BUILDERS[name](seeds=seeds, **kwargs) for name, kwargs in spec.items()))


@pytest.mark.parametrize("fid", CLAIM_IDS)
def test_supporting_records_give_supported(fid):
    """Records built to agree with a claim make its verdict 'supported'."""
    finding = verdict(build(SUPPORTING[fid]), fid)
    assert finding.verdict == "supported", finding.reason


@pytest.mark.parametrize("fid", CLAIM_IDS)
def test_refuting_records_give_not_supported(fid):
    """Records built to contradict a claim make its verdict 'not supported', never a softer word."""
    finding = verdict(build(REFUTING[fid]), fid)
    assert finding.verdict == "not supported", finding.reason


@pytest.mark.parametrize("fid", sorted(OPEN))
def test_straddling_intervals_leave_the_claim_open(fid):
    """When seeds disagree so that an interval straddles its threshold, the verdict is not 'supported'."""
    finding = verdict(build(OPEN[fid]), fid)
    assert finding.verdict == "inconclusive", finding.reason


@pytest.mark.parametrize("fid", CLAIM_IDS)
def test_one_seed_is_inconclusive(fid):
    """With a single seed there is no interval, so every verdict is 'inconclusive' with its reason."""
    finding = verdict(build(SUPPORTING[fid], seeds=1), fid)
    assert finding.verdict == "inconclusive"
    assert "missing" in finding.numbers or finding.id == "L1"


@pytest.mark.parametrize("fid", [i for i in CLAIM_IDS if i != "L1"])  # L1 checks whatever a build has
def test_missing_experiments_are_inconclusive(fid):
    """A build without a claim's experiments (e.g. --only another axis) gives 'inconclusive', no crash."""
    if fid == "C1":  # C1 reads every plain-RNN cell: a build without any
        frame = build({"architecture": {}})
        frame = frame[frame["arch"] != "rnn"]
    else:
        frame = build({name: {} for name in syn.BUILDERS if name not in SUPPORTING[fid]})
    finding = verdict(frame, fid)
    assert finding.verdict == "inconclusive", finding.reason


def test_empty_records_give_every_finding_inconclusive():
    """evaluate() on no records returns all findings in order, each 'inconclusive'."""
    findings = evaluate(records_frame([]), None, with_figures=False)
    assert [f.id for f in findings] == list(CLAIM_IDS)
    assert {f.verdict for f in findings} == {"inconclusive"}


def test_partly_supported_when_only_one_activation_decays():
    """C2 with sigmoid decaying and tanh not decaying is 'partly supported'."""
    finding = verdict(build({"activation": {"rates": {"tanh": 0.05}}}), "C2")
    assert finding.verdict == "partly supported"
    assert finding.numbers["sigmoid"]["passes"] is True and finding.numbers["tanh"]["passes"] is False


def test_c2_refutes_decay_that_is_not_exponential():
    """A decaying but non-exponential gradient (poor log-linear fit) fails C2's R² test."""
    records = []
    for v, gamma in (("tanh", 1.0), ("sigmoid", 0.25)):
        for seed in range(3):
            cell = syn.cell("activation", v, seed, activation=v, init="orthogonal", rate=-0.1,
                            bound=math.log(gamma), gamma=gamma)
            for r in cell:  # replace the profile by a step: flat, then a cliff
                if r["stage"] == "init" and r["metric"] == "grad_norm_state":
                    r["value"] = 1.0 if r["time_lag"] < 15 else 1e-6 * (1 + 0.01 * seed)
            records += cell
    finding = verdict(records_frame(records), "C2")
    assert finding.verdict == "not supported"


def test_c5_is_partly_supported_when_another_init_learns():
    """C5 says 'partly supported' and names the rescuing init when the default stays at chance but IRNN learns."""
    finding = verdict(build({"budget": {"runs": {"irnn": (0.125, 0.9)}}}), "C5")
    assert finding.verdict == "partly supported"
    assert any("relu" in name for name in finding.numbers["rescued_by"])


def test_c5_is_partly_supported_when_some_seeds_learn():
    """C5 is 'partly supported' when some, not all, seeds of the default RNN learn with 4x the budget."""
    finding = verdict(build({"budget": {"runs": {"rnn_tanh": (0.125, [0.125, 0.6, 0.9])}}}), "C5")
    assert finding.verdict == "partly supported"
    assert finding.numbers["variants"]["rnn_tanh"]["learned_end"] == 2


def test_c5_is_inconclusive_when_the_standard_budget_already_learns():
    """C5 cannot be tested when the default RNN learns at the standard budget: nothing to rescue."""
    finding = verdict(build({"budget": {"runs": {"rnn_tanh": (0.9, 0.95)}}}), "C5")
    assert finding.verdict == "inconclusive"


def test_c9_without_any_explosion_leaves_the_exploding_part_open():
    """If no unclipped run diverges, clipping has nothing to tame: that part is undetermined."""
    finding = verdict(build({"clip_exploding": {"unclipped_diverge": False}, "clip_vanishing": {}}), "C9")
    assert finding.verdict == "partly supported"
    assert finding.numbers["exploding"]["part"] is None


def test_c4_uses_one_task_when_the_other_is_missing():
    """C4 with only the recall experiment decides on recall alone and says 'partly supported'."""
    finding = verdict(build({"recall_length": {}}), "C4")
    assert finding.verdict == "partly supported"
    assert finding.numbers["tasks"] == ["recall"]


def test_l1_items_are_computed_with_citations():
    """Every literature item states its source, a full reference, and a computed outcome."""
    finding = verdict(build(SUPPORTING["L1"]), "L1")
    outcomes = {item["key"]: item["match"] for item in finding.numbers["items"]}
    assert outcomes["pascanu_bound"] == "match" and outcomes["le_irnn"] == "match"
    assert outcomes["arjovsky_copy"] == "not measured"
    for item in finding.numbers["items"]:
        assert item["source"] and item["reference"] and item["match"] in ("match", "mismatch", "undetermined", "not measured")


def test_findings_are_in_report_order_with_valid_verdicts():
    """evaluate() returns C1..C10, G1, G2, L1, each with a known verdict, criterion and seeds."""
    findings = evaluate(syn.world(), None, with_figures=False)
    assert [f.id for f in findings] == list(CLAIM_IDS)
    for f in findings:
        assert f.verdict in VERDICTS and f.criterion and f.title and f.claim
        assert f.seeds == [0, 1, 2]


def test_to_json_is_strict_json():
    """Finding.to_json() survives json.dumps(allow_nan=False): NaN becomes null, numpy becomes plain."""
    findings = evaluate(syn.world(seeds=2), None, with_figures=False)
    text = json.dumps([f.to_json() for f in findings], allow_nan=False)
    assert json.loads(text)[0]["id"] == "C1"


def test_numbers_hold_plain_python_values():
    """numbers carry Python scalars (no numpy types), so templates and JSON treat them alike."""
    def walk(value):
        if isinstance(value, dict):
            for k, v in value.items():
                assert type(k).__module__ == "builtins"
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert type(value).__module__ == "builtins", type(value)

    for f in evaluate(syn.world(), None, with_figures=False):
        walk(f.numbers)


def test_combine_truth_table():
    """combine(): all true -> supported, some true -> partly, all false -> not supported, else inconclusive."""
    assert combine([True, True]) == "supported"
    assert combine([True, False]) == "partly supported"
    assert combine([True, None]) == "partly supported"
    assert combine([False, False]) == "not supported"
    assert combine([False, None]) == "inconclusive"
    assert combine([None, None]) == "inconclusive"


def test_decay_fit_recovers_an_exact_exponential():
    """fit_decay on exp(r·lag) returns r with R² = 1, and ignores zeros (dead ReLU gradients)."""
    lags = list(range(20))
    fit = fit_decay(lags, [math.exp(-0.3 * k) if k < 15 else 0.0 for k in lags])
    assert fit["rate"] == pytest.approx(-0.3) and fit["r2"] == pytest.approx(1.0) and fit["points"] == 14


def test_interval_and_welch_match_the_t_distribution():
    """interval() is mean ± t(0.975, n−1)·s/√n; welch() of two identical groups is centred on 0."""
    s = interval([1.0, 2.0, 3.0])
    assert s["mean"] == 2.0 and s["hi"] - 2.0 == pytest.approx(4.302652729911275 / math.sqrt(3))
    assert math.isnan(interval([1.0])["lo"])
    w = welch([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert w["diff"] == 0.0 and w["lo"] < 0 < w["hi"]


def test_records_frame_has_documented_columns_and_dtypes():
    """records_frame() keeps the documented column order with integer ids and float measurements."""
    frame = syn.frame(syn.clip_vanishing(seeds=2))
    assert list(frame.columns) == ["experiment", "variant", "arch", "activation", "init", "gain", "hidden", "task",
                                   "length", "clip", "budget", "seed", "stage", "metric", "step", "time_lag", "value"]
    assert all(frame[c].dtype.kind == "i" for c in ("hidden", "length", "budget", "seed", "step"))
    assert all(frame[c].dtype.kind == "f" for c in ("gain", "clip", "time_lag", "value"))
    assert frame.loc[frame["variant"] == "no_clip", "clip"].isna().all()


def test_final_scores_has_one_row_per_cell_that_ran():
    """final_scores() lists exactly the cells present (no invented combinations), diverged ones with NaN score."""
    frame = syn.frame(syn.clip_exploding(seeds=2), syn.gain_sweep(seeds=2, gains=(0.5, 1.0)))
    scores = final_scores(frame, "clip_exploding")
    assert len(scores) == 4
    diverged = scores[scores["variant"] == "no_clip"]
    assert diverged["score"].isna().all() and (diverged["diverged"] == 1).all()
    assert len(final_scores(frame, "gain_sweep")) == 2 * 2 * 2


def _render_strict(findings, monkeypatch):
    make = render.make_environment

    def strict(templates_dir=None):
        env = make(templates_dir)
        env.undefined = jinja2.StrictUndefined  # a template must never lean on a missing number
        return env

    monkeypatch.setattr(render, "make_environment", strict)
    context = render.ReportContext(profile="quick", profile_description="test", measured_at="2026-01-01T00:00:00+00:00",
                                   versions={"vgreport": "test"}, compute_seconds=1.0, n_cells=1, seeds=[0, 1, 2],
                                   experiments=[])
    return render.render_html(findings, context)


SCENARIOS = {"support": {}, **{f"refute-{k}": v for k, v in REFUTING.items()}, **{f"open-{k}": v for k, v in OPEN.items()}}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_finding_templates_render_for_every_outcome(scenario, monkeypatch):
    """Every finding's prose template renders, with no undefined number, whatever the verdict."""
    overrides = SCENARIOS[scenario]
    frame = syn.world(**overrides) if scenario == "support" else build(overrides)
    page = _render_strict(evaluate(frame, None, with_figures=False), monkeypatch)
    for fid in CLAIM_IDS:
        assert f'id="{fid}"' in page


def test_finding_templates_render_a_one_seed_build(monkeypatch):
    """A one-seed build (smoke) renders every section, each saying why it is inconclusive."""
    page = _render_strict(evaluate(syn.world(seeds=1), None, with_figures=False), monkeypatch)
    assert page.count("an interval across seeds needs at least 2") >= 10


def test_every_predict_then_check_command_is_valid():
    """Each command in the finding templates names a real experiment and --set values that validate."""
    commands = []
    for path in sorted(Path(__file__).resolve().parent.parent.glob("templates/findings/*.html.j2")):
        found = re.findall(r'<code class="cmd">(vgreport run [^<]+)</code>', path.read_text())
        assert 2 <= len(found) <= 3, path.name
        commands += found
    for command in commands:
        args = shlex.split(command)
        assert args[:2] == ["vgreport", "run"] and args[3:5] == ["--profile", "quick"], command
        sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
        battery = load_battery(None, "quick", parse_overrides(sets))
        (experiment,) = battery.select(only_experiments=(args[2],))
        cells = experiment.cells()
        for assignment in sets:  # the override reaches the cells (a swept field would silently win)
            section, _, rest = assignment.partition(".")
            field, _, value = rest.partition("=")
            assert all(getattr(getattr(c, section), field) == yaml.safe_load(value) for c in cells), command


def _without_fit(frame: pd.DataFrame, experiment: str, variant: str, gain: float | None = None) -> pd.DataFrame:
    """The same records with one variant's gradient profile unusable (NaN), as after a failed probe."""
    rows = (frame["experiment"] == experiment) & (frame["variant"] == variant) & (frame["metric"] == "grad_norm_state")
    if gain is not None:
        rows &= frame["gain"] == gain
    frame = frame.copy()
    frame.loc[rows, "value"] = math.nan
    return frame


def test_g2_a_failed_fit_leaves_its_check_open_instead_of_refuting():
    """A NaN rate at one gain decides nothing: G2 must not turn 'not supported' because of it."""
    frame = _without_fit(build({"gain_sweep": {}}), "gain_sweep", "identity", gain=0.9)
    finding = verdict(frame, "G2")
    assert finding.verdict == "inconclusive", finding.reason
    assert finding.numbers["exact"] is None


def test_c8_without_any_fitted_rate_is_inconclusive():
    """No activation with a usable gradient profile: C8 says so instead of raising."""
    frame = _without_fit(build({"activation": {}}), "activation", "tanh")
    for act in ("sigmoid", "relu", "identity"):
        frame = _without_fit(frame, "activation", act)
    finding = verdict(frame, "C8")
    assert finding.verdict == "inconclusive" and "no decay rate" in finding.reason


def test_g2_prose_without_a_crossing_does_not_invent_one(monkeypatch):
    """With every tanh rate negative the sweep has no crossing: the prose says so, no 'n/a' gain."""
    frame = build({"gain_sweep": {"gains": (0.5, 0.9, 1.0)}})
    finding = verdict(frame, "G2")
    assert finding.numbers["tanh_crossing"] is None and finding.numbers["tanh_grows"] is False
    page = _render_strict([finding], monkeypatch)
    section = page[page.index('id="G2"'):]
    assert "does not grow with distance anywhere in the sweep" in section
    assert "near g = n/a" not in section


def test_known_test_rejects_nan_none_and_undefined():
    """Templates test numbers with `is known`: NaN must not pass as a number the prose can quote."""
    env = render.make_environment()
    template = env.from_string("{{ x is known }}")
    assert [template.render(x=v) for v in (1.5, 0, math.nan, None)] == ["True", "True", "False", "False"]
    assert template.render() == "False"
