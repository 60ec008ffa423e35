"""Verdicts on synthetic records: every finding can be supported, refuted and left open, and every
check can pass and fail. The worlds live in each result's folder (examples.py); the registry lists them."""
from __future__ import annotations

import itertools
import json
import math
import re
import types

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vgreport.findings import (
    CHECK_STATES,
    CHECKS,
    FINDINGS,
    MODULES,
    SUPPORT,
    VERDICTS,
    check_state,
    combine,
    evaluate,
    examples_of,
    verdict_of,
)
from vgreport.findings import synthetic as syn
from vgreport.findings.base import Config, Outcome, Part, Spec, clause_states
from vgreport.findings.stats import (
    holm,
    look_level,
    share,
    share_difference,
    t_interval,
    tost,
    welch,
    welch_p_greater,
    wilson,
)
from vgreport.specs import PROFILE_NAMES, default_experiments_dir, load_battery

MIXED = syn.MIXED


def result(frame: pd.DataFrame, rid: str):
    ev = evaluate(frame, None, with_figures=False, ids=(rid,))
    (out,) = ev.results
    return out


def test_every_result_has_refuting_and_open_examples():
    """Each registered finding has example worlds that support it, refute it and leave it open; each
    check has worlds where it passes and fails: a result no data could refute would be a theorem in disguise."""
    for module in MODULES:
        spec = module.SPEC
        verdicts = {e.verdict for e in examples_of(module)}
        if spec.kind == "check":
            assert {"pass", "fail"} <= verdicts, f"{spec.id} lacks a passing or a failing example"
        else:
            assert {"supported", "inconclusive"} <= verdicts, f"{spec.id} lacks a supporting or an open example"
            assert verdicts & {"refuted", "partly refuted"}, f"{spec.id} lacks a refuting example"


def test_discovery_finds_every_folder_in_report_order():
    """Every folder of vgreport/findings with a finding.py is registered, once, checks first, then
    by letter and number (C9 before C10); each id names its folder (c9_clipping is C9)."""
    from pathlib import Path

    import vgreport.findings as registry
    folders = sorted(p.parent.name for p in Path(registry.__file__).parent.glob("*/finding.py"))
    assert sorted(registry.folder_of(m).name for m in MODULES) == folders and len(folders) == len(set(folders))
    assert all(registry.folder_of(m).name.split("_")[0] == m.SPEC.id.lower() for m in MODULES)
    kinds = [m.SPEC.kind for m in MODULES]
    assert kinds == sorted(kinds, key=lambda k: k != "check")
    numbers = [(m.SPEC.id[0], int(m.SPEC.id[1:])) for m in FINDINGS]
    assert numbers == sorted(numbers)


def _examples():
    for module in MODULES:
        for example in examples_of(module):
            yield pytest.param(module.SPEC.id, example, id=f"{module.SPEC.id}-{example.name}")


@pytest.mark.parametrize("rid,example", list(_examples()))
def test_example_worlds_give_their_declared_outcome(rid, example):
    """Every registered result's example world gets exactly the verdict, and the part states, it declares."""
    got = result(syn.world(**example.world), rid)
    assert got.verdict == example.verdict, f"{rid} {example.name}: {got.reason}"
    states = {p.key: p.state for p in got.parts}
    for key, state in example.parts.items():
        assert key in states, f"{rid} {example.name}: no part {key!r} (parts: {sorted(states)})"
        assert states[key] is state, f"{rid} {example.name}: part {key} is {states[key]}, declared {state}"


@pytest.mark.parametrize("module", FINDINGS, ids=lambda m: m.SPEC.id)
def test_one_seed_leaves_every_finding_inconclusive(module):
    """A smoke build's single seed gives no interval: every finding is inconclusive and says why."""
    frame = syn.world(**{name: {"seeds": 1} for name in syn.builders()})
    got = result(frame, module.SPEC.id)
    assert got.verdict == "inconclusive", got.reason


def test_every_declared_experiment_and_variant_is_in_the_shipped_battery():
    """A renamed variant cannot silently turn a claim inconclusive: what each result reads exists in
    the shipped battery under every profile."""
    for profile in PROFILE_NAMES:
        battery = load_battery(default_experiments_dir(), profile)
        variants = {e.name: set(e.variants) for e in battery.experiments}
        for module in MODULES:
            for experiment, wanted in module.SPEC.needs.items():
                assert experiment in variants, f"{module.SPEC.id} reads {experiment!r}, absent under {profile}"
                missing = set(wanted) - variants[experiment]
                assert not missing, f"{module.SPEC.id} reads {experiment}/{sorted(missing)}, absent under {profile}"


def test_results_are_in_report_order_with_valid_states():
    """evaluate() returns the checks, then the findings, in registry order, each with a known state."""
    ev = evaluate(syn.world(), None, with_figures=False)
    assert [r.id for r in ev.results] == [m.SPEC.id for m in MODULES]
    assert all(r.verdict in CHECK_STATES for r in ev.checks)
    assert all(r.verdict in VERDICTS for r in ev.findings)


def test_checks_and_findings_are_apart_in_json_and_strict():
    """findings.json keeps checks and findings under their own keys; it is strict JSON (no NaN)."""
    payload = evaluate(syn.world(), None, with_figures=False).to_json()
    text = json.dumps(payload, allow_nan=False)
    assert [c["id"] for c in payload["checks"]] == [m.SPEC.id for m in CHECKS]
    assert all(f["id"][0] in "CG" for f in payload["findings"])
    assert json.loads(text)["literature"]["items"]


def test_empty_records_leave_everything_open():
    """evaluate() on no records returns every result, findings inconclusive and checks undetermined."""
    ev = evaluate(syn.frame(), None, with_figures=False)
    assert {r.verdict for r in ev.findings} == {"inconclusive"}
    assert {r.verdict for r in ev.checks} == {"undetermined"}


def test_undetermined_training_parts_name_the_configurations_that_need_seeds():
    """The sequential design adds seeds where a core training part is undetermined, and nowhere else."""
    ev = evaluate(syn.world(budget={"best": MIXED}), None, with_figures=False)
    pending = ev.undetermined()
    assert Config("budget", "rnn_tanh", 20, 1.0, 16, 800) in pending  # synthetic: width 16, 8 x 100 steps
    assert all(c.experiment == "budget" for c in pending), pending


def test_thin_core_parts_buy_seeds_and_context_parts_never_do():
    """A core training part that one seed fewer would leave undetermined (thin) gets the next look's seeds
    like an undetermined one; an undetermined or thin context part gets none."""
    core = Config("tiny", "a", 5, 1.0, 4, 4)
    context = Config("tiny", "b", 5, 1.0, 4, 4)
    spec = Spec("C99", "finding", "t", "c", "k", {})
    thin = Part("core", "?", True, reads=(core,), thin=True)
    open_context = Part("context", "?", None, reads=(context,), core=False)
    from vgreport.findings import Evaluation
    from vgreport.findings.base import Result
    ev = Evaluation(findings=[Result(spec.id, "finding", "t", "c", "supported", "k", parts=[thin, open_context])])
    assert ev.undetermined() == {core}
    thin.thin = False
    assert ev.undetermined() == set()
    # fragile (one seed fewer reverses it): at seed base 5000 C8's length-60 part held at 12 seeds with a
    # dagger while seed base 0 refuted it at 16; a reversible decision buys the next look's seeds too
    thin.fragile = True
    assert ev.undetermined() == {core}


def _by_definition(core: list[bool | None], untested: bool = False) -> str:
    """The six verdict words as docs/findings.md defines them, one predicate each (`untested`: a clause of
    the claim was not tested)."""
    holds, refuted, open_ = core.count(True), core.count(False), core.count(None)
    words = {"supported": bool(core) and holds == len(core) and not untested,
             "supported so far": refuted == 0 and holds > 0 and open_ > 0 and not untested,
             "partly tested": refuted == 0 and holds > 0 and untested,
             "partly refuted": holds > 0 and refuted > 0,
             "refuted": refuted > 0 and holds == 0,
             "inconclusive": holds == 0 and refuted == 0}
    (word,) = [w for w, applies in words.items() if applies]  # exactly one applies
    return word


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_verdict_follows_the_core_parts_only_in_every_combination(n):
    """Every combination of up to three parts, each core or context and holding, refuted or
    undetermined: the verdict is the definition's word for the core parts, whatever the context says."""
    for kinds in itertools.product((True, False), repeat=n):
        for states in itertools.product((True, False, None), repeat=n):
            parts = [Part(f"p{i}", "?", state, core=core) for i, (core, state) in enumerate(zip(kinds, states))]
            core_states = [s for s, core in zip(states, kinds) if core]
            assert verdict_of(parts) == _by_definition(core_states) == combine(core_states), (kinds, states)
    assert SUPPORT == ("supported", "supported so far")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_verdict_follows_parts_and_clauses_in_every_combination(n):
    """Every combination of up to three core parts spread over two clauses, each clause declared untested
    or not: a clause holds (a part holds, none refuted), is refuted (a part refuted) or is untested (declared,
    or no part decided); the verdict is the definition's word, `partly tested` whenever a claim with a part
    that holds and none refuted has an untested clause, and `partly tested` never counts as support."""
    seen = set()
    for clauses in itertools.product("ab", repeat=n):
        for states in itertools.product((True, False, None), repeat=n):
            for declared in ({}, {"a": "why"}, {"b": "why"}):
                parts = [Part(f"p{i}", "?", state, clause=c) for i, (c, state) in enumerate(zip(clauses, states))]
                got = clause_states({"a": "A", "b": "B"}, parts, declared)
                by_key = {c.key: c.state for c in got}
                for key in "ab":
                    mine = [s for c, s in zip(clauses, states) if c == key]
                    expected = ("refuted" if False in mine else "untested" if key in declared or True not in mine
                                else "holds")
                    assert by_key[key] == expected, (clauses, states, declared)
                untested = "untested" in by_key.values()
                word = verdict_of(parts, got)
                assert word == _by_definition(list(states), untested), (clauses, states, declared)
                assert (word in SUPPORT) == (word in ("supported", "supported so far"))
                seen.add(word)
    assert n < 3 or seen == set(VERDICTS)  # three parts in two clauses reach every word
    assert "partly tested" not in SUPPORT


def test_check_states_are_unchanged():
    """A check passes only when every part holds and fails when any part fails."""
    assert check_state([True, True]) == "pass"
    assert check_state([True, False]) == "fail"
    assert check_state([True, None]) == "undetermined"
    assert check_state([]) == "undetermined"


def _finding_of(*parts: Part):
    """A finding of its own (C99), whose decide returns these parts."""
    spec = Spec("C99", "finding", "a claim", "a claim", "its core part", {"activation": ("tanh",)})
    return types.SimpleNamespace(SPEC=spec, decide=lambda ctx: Outcome(list(parts), {}, "measured",
                                                                       experiments=["activation"]))


def test_a_refuted_core_part_shows_in_the_verdict_while_a_context_part_holds(monkeypatch):
    """The issue's C9 case (the exploding arm refuted, an 'equivalence' elsewhere holding): a core
    part refuted while a context part holds is 'refuted', no support; findings.json carries each
    part's core flag. The same parts the other way round are 'supported'."""
    import vgreport.findings as registry
    refuted = _finding_of(Part("core", "the claim", False), Part("context", "a detail", True, core=False))
    monkeypatch.setattr(registry, "MODULES", registry.MODULES + (refuted,))
    got = result(syn.world(), "C99")
    assert got.verdict == "refuted" and not got.supports
    parts = {p["key"]: p for p in got.to_json()["parts"]}
    assert (parts["core"]["core"], parts["core"]["state"]) == (True, False)
    assert (parts["context"]["core"], parts["context"]["state"]) == (False, True)
    held = _finding_of(Part("core", "the claim", True), Part("context", "a detail", False, core=False))
    monkeypatch.setattr(registry, "MODULES", registry.MODULES[:-1] + (held,))
    assert result(syn.world(), "C99").verdict == "supported"


# ---------------------------------------------------------------- statistics, pinned to scipy

@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 10, 30, 97])
@pytest.mark.parametrize("level", [0.95, 0.975, 1 - 0.05 / 3])
def test_wilson_matches_scipy(n, level):
    """The hand-written Wilson interval equals scipy's binomtest(...).proportion_ci(method='wilson')
    for every k in 0..n, and its bounds at k = 0 and k = n are exactly 0 and 1."""
    for k in range(n + 1):
        ci = stats.binomtest(k, n).proportion_ci(level, method="wilson")
        assert wilson(k, n, level) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert wilson(0, n, level)[0] == 0.0 and wilson(n, n, level)[1] == 1.0
    assert 0.0 < wilson(0, n, level)[1] and wilson(n, n, level)[0] < 1.0


def test_newcombe_difference_matches_his_worked_example():
    """Newcombe (1998), example (a): 56/70 − 48/80 has hybrid-score interval 0.0524 to 0.3339."""
    d = share_difference(56, 70, 48, 80)
    assert d.mean == pytest.approx(0.2)
    assert (round(d.lo, 4), round(d.hi, 4)) == (0.0524, 0.3339)


def test_welch_matches_scipy_and_t_interval_the_t_distribution():
    """welch() is scipy's Welch interval; t_interval is mean ± t(0.975, n−1)·s/√n."""
    a, b = [0.1, 0.4, 0.35, 0.8], [0.2, 0.25, 0.3]
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (welch(a, b).lo, welch(a, b).hi) == pytest.approx((ci.low, ci.high))
    iv = t_interval(a)
    half = stats.t.ppf(0.975, 3) * np.std(a, ddof=1) / 2
    assert (iv.lo, iv.hi) == pytest.approx((np.mean(a) - half, np.mean(a) + half))
    assert welch_p_greater(a, b) == pytest.approx(stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)


def test_welch_of_nearly_equal_accuracies_is_quiet_and_still_scipys():
    """Six seeds that all learned (accuracy 1 up to the last digit) against a spread group: scipy
    warns of precision loss on the build's console; welch() keeps its result and drops the warning."""
    import warnings
    a = [1.0, 1.0, 1.0 - 1e-16, 1.0, 1.0, 1.0]
    b = [0.9, 0.95, 0.97, 0.99, 0.92, 0.96]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iv = welch(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (iv.lo, iv.hi) == pytest.approx((ci.low, ci.high))


def test_tost_needs_the_interval_inside_the_margin_not_just_around_zero():
    """Equivalence is shown only when the (1 − 2α) interval lies inside ±margin; a wide interval
    around 0 is undetermined, a shifted one is 'different'."""
    rng = np.random.default_rng(0)
    same_a, same_b = rng.normal(0, 0.01, 10), rng.normal(0, 0.01, 10)
    assert tost(same_a, same_b, 0.05)[0] is True
    wide_a, wide_b = rng.normal(0, 1, 4), rng.normal(0, 1, 4)
    state, diff = tost(wide_a, wide_b, 0.05)
    assert state is None and diff.lo < 0 < diff.hi
    assert tost(same_a + 1, same_b, 0.05)[0] is False


def test_holm_rejects_step_down():
    """Holm: the smallest p against α/m, the next against α/(m−1), stopping at the first failure."""
    assert holm([0.01, 0.04, 0.03], 0.05) == [True, False, False]
    assert holm([0.01, 0.02, 0.03], 0.06) == [True, True, True]
    assert holm([0.2, math.nan], 0.05) == [False, False]


def test_holm_keeps_an_untested_comparison_in_the_family():
    """A NaN p-value is never rejected and counts in the family as p = 1: 0.03 beside one NaN faces
    0.05/2 and is not rejected (dropping the NaN would have rejected it at 0.05/1)."""
    assert holm([0.03, math.nan], 0.05) == [False, False]
    assert holm([0.02, math.nan], 0.05) == [True, False]
    rng = np.random.default_rng(1)
    for _ in range(200):
        p = rng.uniform(0, 0.1, rng.integers(1, 6))
        p[rng.random(len(p)) < 0.3] = math.nan
        assert holm(list(p), 0.05) == holm([1.0 if math.isnan(x) else x for x in p], 0.05)


def test_looks_spend_the_error_rate_by_pococks_rule():
    """Pocock's rule: one nominal level for every look, computed for the looks' information fractions: 95% with
    one look, and the standard table's two-sided 0.0294 (two equal looks) and 0.0221 (three); looks after 8
    and 12 seeds spend a little more each than two equal ones (their statistics are more correlated)."""
    assert look_level(1) == pytest.approx(0.95)
    assert look_level((8,)) == pytest.approx(0.95)
    assert 1 - look_level(2) == pytest.approx(0.0294, abs=2e-4)
    assert 1 - look_level(3) == pytest.approx(0.0221, abs=2e-4)
    assert 1 - look_level((10, 20, 30)) == pytest.approx(1 - look_level(3))
    assert 0.0294 < 1 - look_level((8, 12)) < 0.05 / 1.5
    assert look_level((8, 12)) == look_level((8, 12))  # deterministic (a fixed random stream)


def test_a_share_needs_five_unanimous_seeds_to_call_most():
    """With 95% Wilson intervals, 5 of 5 seeds show 'most'; 3 of 3 cannot (so 3 seeds decide no
    training outcome)."""
    assert share(5, 5).lo > 0.5
    assert share(3, 3).lo < 0.5


REFUTATION = ("partly refuted", "refuted")  # the verdict words that show a refuted core part
SUPPORTING = ("supported", "supported so far")


@pytest.mark.parametrize("module", FINDINGS, ids=lambda m: m.SPEC.id)
def test_a_refuted_core_part_shows_in_the_verdict_even_beside_holding_context(module):
    """Every finding has a world where a core part is refuted while a context part holds, and in every
    world where that happens the verdict says 'refuted' or 'partly refuted': context never hides it."""
    seen = 0
    for example in examples_of(module):
        got = result(syn.world(**example.world), module.SPEC.id)
        core_refuted = any(p.core and p.state is False for p in got.parts)
        if core_refuted:
            assert got.verdict in REFUTATION, f"{module.SPEC.id} {example.name}: {got.verdict}"
        seen += core_refuted and any(not p.core and p.state is True for p in got.parts)
    assert seen, f"{module.SPEC.id}: no example where a core part is refuted while a context part holds"


def test_c9_with_a_clip_threshold_that_never_fires_is_not_support():
    """Clipped at 1e6, the exploding arm's clipped runs diverge like the unclipped ones: the exploding
    part is refuted and C9 is not support, whatever the vanishing arm does."""
    for vanishing in ({}, {"accs": {"no_clip": syn.SOLVE, "clipped": syn.SOLVE}}):
        world = syn.world(clip_exploding={"clip": 1e6, "clipped_diverge": True}, clip_vanishing=vanishing)
        got = result(world, "C9")
        assert {p.key: p.state for p in got.parts}["exploding"] is False
        assert got.verdict in REFUTATION and got.verdict not in SUPPORTING


def test_an_equivalence_of_two_arms_at_chance_supports_nothing():
    """C9's vanishing arm at chance on both sides (0.125 against 0.125, rates equal): the equivalence
    parts stay undetermined, so with nothing else decided the verdict is inconclusive, never support."""
    got = result(syn.world(clip_exploding={"unclipped_diverge": False}), "C9")
    states = {p.key: p.state for p in got.parts}
    assert states["vanishing_accuracy"] is None and states["vanishing_rate"] is None
    assert got.verdict not in SUPPORTING
    learned = result(syn.world(clip_exploding={"unclipped_diverge": False},
                               clip_vanishing={"accs": {"no_clip": syn.SOLVE, "clipped": syn.SOLVE}}), "C9")
    assert {p.key: p.state for p in learned.parts}["vanishing_accuracy"] is True  # the same test, arms that learned


@pytest.mark.parametrize("rid,world", [("C6", {"architecture": {"accs": {"lstm_default": syn.FAIL, "gru": syn.FAIL}}}),
                                       ("C4", {"recall_length": {"accs": {5: syn.FAIL, 50: syn.FAIL}}}),
                                       ("G2", {"gain_train": {"accs": {g: syn.FAIL for g in (0.5, 1.0, 1.25, 1.6, 4.0)}}})])
def test_a_failure_without_a_learning_control_is_budget_limited(rid, world):
    """Every configuration at chance, the controls included: no 'fails' part is decided, and the
    part's question names its budget in steps."""
    got = result(syn.world(**world), rid)
    failing = [p for p in got.parts if p.key in ("lstm_default_learns", "gru_learns", "recall_length_long",
                                                   "vanishing", "exploding", "centre")]
    assert failing and all(p.state is None for p in failing), [(p.key, p.state) for p in failing]
    assert all("steps" in p.question for p in failing)


def _c9_vanishing_caption(**clip_vanishing) -> tuple[str, str]:
    ev = evaluate(syn.world(clip_vanishing=clip_vanishing), None, with_figures=True, ids=("C9",))
    (fig,) = [fig for fig in ev.results[0].figures if fig.key == "vanishing"]
    return fig.caption, fig.alt


@pytest.mark.parametrize("world,says", [
    ({}, "although clipping rescaled 90% of the steps"),
    ({"fraction": 0.0}, ": clipping never triggered."),
    ({"fraction": 0.2}, ": clipping rescaled only 20% of the steps."),
    ({"trained_rates": {"clipped": -0.3}}, None)])
def test_c9_caption_says_when_the_clipped_and_unclipped_curves_coincide_and_why(world, says):
    """Figure 9 once showed one line where there were two: the caption says so when the two
    trained profiles lie within a line's width of each other (with why, from how often clipping
    acted), and says nothing of the kind when clipping changed the decay (−0.1 against −0.3)."""
    caption, alt = _c9_vanishing_caption(**world)
    if says is None:
        assert "coincide" not in caption and "coincide" not in alt
    else:
        assert "The clipped and unclipped curves coincide" in caption and says in caption
        assert alt.endswith("they coincide.")


def _c8_world(**overrides):
    """Only the tanh RNNs with orthogonal W_hh at gain 1, at four lengths under three labels: 'tanh'
    in 'activation' (length 30), 'orthogonal' in 'init' (20), and the gain experiments (40, 100),
    whose variant is first described at gain 0.5."""
    keep = {"activation": {"lengths": (30,)}, "init": {}, "gain_train": {"length": 40}, "gain_sweep": {"length": 100}}
    return syn.world(**{name: None for name in syn.builders() if name not in keep}, **{**keep, **overrides})


def test_c8_reads_the_tanh_models_rate_at_every_length_whatever_its_label():
    """The same configuration (architecture, activation, init, gain, width) under any experiment's label:
    the mean of its per-seed rates, rate − step·seed as the builders set them."""
    assert result(_c8_world(), "C8").numbers.tanh_by_length == pytest.approx(
        {20: -0.047, 30: -0.046, 40: -0.001, 100: -0.031})


def test_c8_skips_an_experiment_without_gradient_probes():
    frame = _c8_world()
    unprobed = (frame["experiment"] == "gain_sweep") & (frame["metric"] == "grad_norm_state")
    assert set(result(frame[~unprobed], "C8").numbers.tanh_by_length) == {20, 30, 40}


def test_c8_lets_an_error_in_the_rates_of_another_experiment_through(monkeypatch):
    """Only a missing probe is skipped: a bug in rates() for another experiment is not swallowed."""
    from vgreport.findings.c8_activation import finding as c8
    real = c8.rates

    def broken(ctx, exp, *args, **kwargs):
        if exp == "gain_train":
            raise KeyError("a bug")
        return real(ctx, exp, *args, **kwargs)

    monkeypatch.setattr(c8, "rates", broken)
    with pytest.raises(KeyError, match="a bug"):
        result(_c8_world(), "C8")


@pytest.mark.parametrize("copy", [{}, None])
def test_k2_says_why_its_count_of_plain_rnn_cells_is_below_k1s(copy):
    """K1 checks every plain-RNN cell, the copy task's included; K2's bound needs a loss on the last state
    only, so it leaves out the copy cells and says so exactly when that makes the two counts differ."""
    world = syn.world(copy=copy)
    k1, k2 = result(world, "K1"), result(world, "K2")
    shown = int(re.match(r"All (\d+) plain-RNN cells", k2.headline).group(1))
    copy_cells = 0 if copy is None else 2 * 6  # syn.copy: two delays, six seeds
    assert k2.numbers.copy_cells == copy_cells and shown + copy_cells == k1.numbers.cells
    assert ("plain-RNN cells outside the copy task (" in k2.headline) == bool(copy_cells), k2.headline


def test_a_heading_never_states_a_refuted_or_undecided_claim_bare():
    """heading_of: a claim whose clauses all hold keeps its title; otherwise the heading joins what was
    found per clause (SPEC.found), and an undecided claim is asked as a question."""
    from vgreport.findings.base import Clause, heading_of
    for module in FINDINGS:
        spec = module.SPEC
        held = [Clause(k, t, "holds") for k, t in spec.clauses.items()]
        assert heading_of(spec, "supported", held) == spec.title
        assert set(spec.found) == set(spec.clauses), spec.id
        for key in spec.clauses:
            states = [Clause(k, t, "refuted" if k == key else "holds") for k, t in spec.clauses.items()]
            verdict = "refuted" if len(states) == 1 else "partly refuted"
            heading = heading_of(spec, verdict, states)
            phrase = spec.found[key]["refuted"]
            # no parts given: nothing held, so a phrase about what held gives way to the clause itself
            found = (f"not found: {spec.clauses[key]}" if "{held}" in phrase
                     else phrase.format(refuted="one of them", them="it"))
            assert heading != spec.title and found.lower() in heading.lower(), spec.id
        undecided = heading_of(spec, "inconclusive", [Clause(k, t, "untested") for k, t in spec.clauses.items()])
        assert undecided.startswith(spec.question) and "Undecided" in undecided, spec.id


def test_a_criterion_that_counts_its_core_parts_counts_them_right():
    """A criterion's text that says how many core parts it has ("Three core parts; clauses: …") agrees
    with the core parts the finding decides on the synthetic world (C3 once said four, with three)."""
    words = {"One": 1, "Two": 2, "Three": 3, "Four": 4, "Five": 5, "Six": 6, "Seven": 7, "Eight": 8}
    counted = 0
    for r in evaluate(syn.world(), None, with_figures=False).findings:
        said = re.search(r"\b(One|Two|Three|Four|Five|Six|Seven|Eight) core parts?\b", r.criterion)
        if said:
            counted += 1
            assert words[said.group(1)] == sum(p.core for p in r.parts), (r.id, said.group(0))
    assert counted >= 3


@pytest.mark.parametrize("short, long, match", [(syn.SOLVE, syn.FAIL, "match"), (syn.FAIL, syn.FAIL, "undetermined"),
                                                (syn.SOLVE, syn.SOLVE, "mismatch")])
def test_the_copy_rows_baseline_counts_only_beside_a_control_that_learned(short, long, match):
    """Appendix D's copy row agrees with "stays at the baseline at long delays" only where the same model rose
    above it at the short delay within the same steps; a control at the baseline leaves it undetermined and
    says the budget may be what failed; the long delay solved refutes it."""
    world = syn.world(copy={"accs": {"rnn_tanh": {5: short, 30: long}}})
    row = next(i for i in evaluate(world, None, with_figures=False).literature.items if i["key"] == "arjovsky_copy")
    assert row["match"] == match, row
    assert ("budget may be what failed" in row["ours"]) == (short == syn.FAIL), row["ours"]
    assert row["steps"] > 0
