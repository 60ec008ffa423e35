"""The prose cannot outrun the data: every sentence that states a result is chosen by the measured
outcome, and the shown sentences agree with the verdicts on records that support, refute or leave
open each finding, in both editions. Each finding's section is rendered on its own (the block of the
page that holds the findings), from the supporting world and from each of its own example worlds."""
from __future__ import annotations

import re

import pytest

from vgreport.findings import FINDINGS, evaluate
from vgreport.findings import synthetic as syn
from vgreport.report import format as formatting

from helpers import MARK, finding_block, finding_worlds, section

WORLDS = finding_worlds()


def _shown(rid: str, world: str, edition: str = "student") -> tuple[str, object]:
    page, result = finding_block(rid, world, edition)
    return section(page, rid), result


@pytest.mark.parametrize("edition", ["student", "instructor"])
@pytest.mark.parametrize("rid, world", WORLDS, ids=[f"{rid} {world}" for rid, world in WORLDS])
def test_every_shown_result_sentence_matches_the_measured_outcome(rid, world, edition):
    """In each finding's worlds, each sentence marked with a part's outcome is shown only when that part
    has that outcome, each verdict sentence only under its verdicts, and none of them is empty."""
    shown, result = _shown(rid, world, edition)
    if not result.parts:
        return
    states = {p.key: formatting.state_word(p.state) for p in result.parts}
    for kind, key, state, text in MARK.findall(shown):
        assert text.strip(), f"{rid}: an empty sentence for {key}"
        if kind == "part":
            assert states.get(key) == state, f"{rid} in '{world}': says {key} {state}, measured {states.get(key)}"
        else:
            assert result.verdict in key.split("|"), f"{rid} in '{world}': says {key}, verdict {result.verdict}"


@pytest.mark.parametrize("rid, world", WORLDS, ids=[f"{rid} {world}" for rid, world in WORLDS])
def test_every_part_and_the_verdict_are_stated_in_words(rid, world):
    """Each part of a decided finding has a sentence for its outcome, and so does the verdict."""
    shown, result = _shown(rid, world)
    if not result.parts:
        return
    said = {m[1] for m in MARK.findall(shown) if m[0] == "part"}
    missing = [p.key for p in result.parts if p.key not in said]
    assert not missing, f"{rid} in '{world}': no sentence for the outcome of {missing}"
    assert any(m[0] == "verdict" for m in MARK.findall(shown)), f"{rid} in '{world}': no takeaway for its verdict"


@pytest.mark.parametrize("module", FINDINGS, ids=[m.SPEC.id for m in FINDINGS])
def test_the_instructor_edition_answers_every_question(module):
    """The instructor edition adds an answer under every 'Predict, then check' question; the
    student edition shows none."""
    rid = module.SPEC.id
    student, _ = _shown(rid, "supported", "student")
    teacher, _ = _shown(rid, "supported", "instructor")
    assert 'class="answer"' not in student
    questions = teacher.count('<code class="cmd">')
    assert questions >= 2, rid
    assert teacher.count('class="answer"') == questions, f"{rid}: {questions} questions, answers missing"


@pytest.mark.parametrize("edition", ["student", "instructor"])
@pytest.mark.parametrize("module", FINDINGS, ids=[m.SPEC.id for m in FINDINGS])
def test_a_world_with_every_measurement_quotes_every_number(module, edition):
    """Where every experiment ran with enough seeds, no finding's prose prints 'n/a' for an interval
    or a number it quotes (an interval record the ci filter cannot read printed 'n/a'), and no
    number is left in e-notation ('3.1e−15' is typeset as 3.1 × 10⁻¹⁵)."""
    rid = module.SPEC.id
    text = re.sub(r"<[^>]+>", "", _shown(rid, "supported", edition)[0])
    assert "n/a" not in text, f"{rid}: {text[max(0, text.index('n/a') - 120):text.index('n/a') + 20]!r}"
    assert not re.search(r"\d(?:\.\d+)?e[−-]?\d", text), f"{rid}: a number in e-notation"


ORDERING = {"lt", "gt", "lteq", "gteq"}


def _number_comparisons(source: str) -> list[str]:
    """Ordering comparisons in a template (a < b, x is gt(y), selectattr(..., 'lt', ...)): a threshold
    decided in a template instead of in a finding's part."""
    from jinja2 import Environment, nodes
    found = []
    for node in Environment().parse(source).find_all((nodes.Compare, nodes.Test, nodes.Filter)):
        if isinstance(node, nodes.Compare):
            found += [op.op for op in node.ops if op.op in ORDERING]
        elif isinstance(node, nodes.Test) and node.name in {"lt", "gt", "le", "ge", "lessthan", "greaterthan"}:
            found.append(node.name)
        elif isinstance(node, nodes.Filter) and node.name in {"selectattr", "rejectattr", "select", "reject"}:
            found += [a.value for a in node.args if isinstance(a, nodes.Const)
                      and a.value in {"lt", "gt", "le", "ge", "<", ">", "<=", ">=", "lessthan", "greaterthan"}]
    return found


@pytest.mark.parametrize("module", FINDINGS, ids=[m.SPEC.id for m in FINDINGS])
def test_prose_chooses_sentences_by_part_states_not_by_comparing_numbers(module):
    """A finding's template compares no numbers: what a number means (grows, fails, better) is a part's
    state, decided in Python with its interval, never a bare comparison in the prose."""
    from vgreport.findings import folder_of
    source = (folder_of(module) / "prose.html.j2").read_text()
    assert _number_comparisons(source) == [], module.SPEC.id


def test_the_comparison_finder_sees_every_form():
    """The check above would catch what G2 and C2 once did."""
    assert _number_comparisons("{% if d.init_rate.lo <= 0 %}x{% endif %}") == ["lteq"]
    assert _number_comparisons("{% set s = xs | selectattr('gamma', 'lt', 0.5) | list %}") == ["lt"]
    assert _number_comparisons("{% if a is gt(1) %}x{% endif %}") == ["gt"]
    assert _number_comparisons("{% if v != 'x' and k in d %}x{% endif %}") == []


def test_c5_does_not_call_ambiguous_seeds_rescued():
    """Every seed's best accuracy 0.222 (unsolved, and neither clearly above nor at chance): C5 says most seeds
    are not rescued, never that most seeds solve it, and it names the budget in steps."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _shown("C5", "ambiguous seeds are not rescued")[0]))
    assert "most seeds do solve it" not in text and "most seeds are still not rescued" in text
    assert re.search(r"Within [\d,]+ steps", text)


@pytest.mark.parametrize("world, said", [
    ("most rescued, undecided", "5 of 6 seeds were rescued within 800 steps: the data lean "
                                   "against the claim, but do not yet refute it."),
    ("few rescued, undecided", "Only 1 of 6 seeds were rescued within 800 steps while the control solves it: the "
                                  "data lean towards the claim"),
    ("open", "3 of 6 seeds were rescued within 800 steps: this build cannot tell")])
def test_c5s_takeaway_says_which_way_undecided_seeds_lean(world, said):
    """An undecided C5 says how many seeds more training rescued and which way that leans, never a fixed
    'rescues some runs and not others' when none clearly failed."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _shown("C5", world)[0]))
    assert said in text, text[text.index("What to take away"):]
    assert "some runs and not others" not in text


def _instructor_section(rid: str, **world) -> str:
    """The instructor edition's section of one finding, rendered from a synthetic world."""
    return section(finding_block(rid, "supported", "instructor", **world)[0], rid)


def _answers(section: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", a)) for a in re.findall(r'<p class="answer">(.*?)</p>', section, re.S)]


@pytest.mark.parametrize("irnn, rate, explained", [(syn.FAIL, -0.008, True), (syn.SOLVE, -0.008, False),
                                                   (syn.FAIL, -0.5, False)])
def test_c7_says_what_its_irnns_flat_start_does_not_explain_only_when_it_failed(irnn, rate, explained):
    """C7 names the IRNN's near-zero rate at initialisation beside its failure, and only when it failed
    with a rate that barely decays; the table compares shares of seeds that solve it, never mean accuracies."""
    section = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _instructor_section(
        "C7", init={"accs": {"irnn": irnn}, "rates": {"irnn": rate}})))
    assert ("The IRNN failed although its gradient barely decays at the start (−0.01 per step): that rate describes "
            "the start only" in section) == explained, section
    assert "difference of the shares from the default" in section and "gain over the default" not in section


@pytest.mark.parametrize("accs", [{}, {0.5: syn.SOLVE}])
def test_g2_states_g_1_in_its_table(accs):
    """G2's table says for g = 1 whether it lies in the window (from the 'centre' part)."""
    section = _instructor_section("G2", gain_train={"accs": accs})
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", section, re.S) if re.match(r"<td>1</td>", r))
    assert 'data-part="centre" data-state="holds">yes<' in row, row


HOLDS, REFUTED, OPEN = "still at chance (no control at this setting)", "rises above chance: partly a matter of tuning", "not decided"


@pytest.mark.parametrize("accs, said", [({}, {"lr_low": HOLDS, "lr_high": HOLDS, "wide": HOLDS}),
                                        ({"lr_low": syn.SOLVE, "lr_high": syn.MIXED, "wide": syn.FAIL},
                                         {"lr_low": REFUTED, "lr_high": OPEN, "wide": HOLDS})])
def test_g1_states_each_retuned_arm_once_with_its_count_and_outcome(accs, said):
    """Each retuning arm of G1 is one row of its table: the arm, its counts of seeds that solve and that stay at
    chance, and its outcome chosen by the arm's part; the arm is named nowhere else in the section."""
    page = _instructor_section("G1", lstm_tuning={"accs": accs})
    rows = {re.sub(r"<[^>]+>|\s+", " ", r).strip() for r in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)}
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    solved = {"lr_low": 6 if accs else 0, "lr_high": 3 if accs else 0, "wide": 0}
    for variant, what in (("lr_low", "learning rate ÷ 3"), ("lr_high", "learning rate × 3"), ("wide", "width × 2")):
        assert text.count(what) == 1, text
        (row,) = [r for r in rows if what in r]
        at_chance = 6 - solved[variant]
        assert re.search(rf"{what} {solved[variant]} of 6 {at_chance} of 6 +{re.escape(said[variant])}$",
                         re.sub(r" +", " ", row)), row


@pytest.mark.parametrize("rnn, expected", [({5: syn.SOLVE, 10: syn.SOLVE, 20: syn.FAIL}, "— 0 of 6 6 of 6"),
                                           ({5: syn.SOLVE, 10: syn.SOLVE, 20: syn.SOLVE}, "— 6 of 6 6 of 6")])
def test_c6s_rnn_row_counts_its_seeds_and_the_mechanism_keeps_bias_1_apart(rnn, expected):
    """C6's comparison row states how many seeds of the tanh RNN solve the long length and its control,
    from the same experiment; the mechanism says only chrono keeps the forget gate near 1 and quotes
    bias 1's measured factor per step."""
    section = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _instructor_section(
        "C6", architecture={"accs": {"rnn_tanh": rnn}})))
    row = section[section.index("for comparison"):section.index("for comparison") + 80]
    assert re.search(r"— " + re.escape(expected[2:]), row), row
    assert "to 1, or to chrono" not in section
    assert re.search(r"σ\(1\) ≈ 0.73 \(measured factor [\d.]+\), still a geometric decay; chrono's", section), section
    assert "left after" not in section  # every ratio printed is measured (the table's), never e^(k·r)


@pytest.mark.parametrize("rnn, says", [({5: syn.SOLVE, 10: syn.SOLVE, 20: syn.SOLVE}, True),
                                       ({5: syn.SOLVE, 10: syn.SOLVE, 20: syn.FAIL}, False)])
def test_c6_says_when_the_faster_decaying_plain_rnn_learned_more_often_than_the_gated_cells(rnn, says):
    """A sentence points at the comparison row only when the tanh RNN learned the long length in a larger
    share of its seeds than every gated cell as PyTorch ships it."""
    section = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _instructor_section("C6", architecture={"accs": {"rnn_tanh": rnn}})))
    assert ("Note the last row: the plain tanh RNN" in section) == says, section


def test_c4_names_its_model_counts_the_partial_seeds_and_flags_first_token_recall():
    """C4's heading names the model it tested; with more steps it counts the seeds that rose above chance
    without solving apart from those that solved; it says its recall evidence is first-token recall."""
    from vgreport.findings.c4_distance.finding import SPEC
    assert "default tanh RNN" in SPEC.title
    L = syn.SOLVE
    section = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _instructor_section(
        "C4", budget={"best": [L, L, L, L, syn.PARTIAL, syn.PARTIAL]})))
    assert "By then 2 of 6 had risen above chance without solving it." in section, section
    assert "Whether most seeds still do not solve it with those steps is not decided." in section, section
    assert "The recall row is first-token recall, a partial exception by C3's mechanism" in section


def test_g1s_mechanism_states_the_measured_rates():
    """G1's mechanism quotes the default and chrono LSTMs' measured rates at initialisation, not 'about T steps'."""
    section = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _instructor_section("G1")))
    assert "about T steps" not in section
    assert re.search(r"the gradient's rate was −[\d.]+ per step for LSTM \(PyTorch default init\) and −[\d.]+ per step "
                     r"for LSTM \(chrono init\)", section), section


@pytest.mark.parametrize("verdict, states, expected", [
    ("supported", [True], "Its core part holds."),
    ("supported", [True, True], "Both core parts hold."),
    ("supported", [True] * 4, "All four core parts hold."),
    ("refuted", [False], "Its core part is refuted."),
    ("refuted", [False, False], "Both core parts are refuted."),
    ("refuted", [False] * 4, "All four core parts are refuted."),
    ("refuted", [False, False, None], "Two core parts are refuted, one undetermined; none holds."),
])
def test_the_verdict_line_counts_core_parts_in_plain_words(verdict, states, expected):
    """'All four core parts are refuted', never 'Four of four' or 'All two'."""
    from vgreport.report.environment import make_environment
    macros = make_environment().get_template("macros.html.j2").module
    f = {"verdict": verdict, "parts": [{"core": True, "state": s} for s in states] + [{"core": False, "state": True}]}
    assert " ".join(str(macros.verdict_meaning(f)).split()) == expected


def test_c10_quotes_the_drop_one_step_back_that_the_records_hold():
    """C10 says what was measured: the gradient one step back over the last position's (here e^r, the
    synthetic profile's exact value at lag 1) and the rate fitted from there, never 'over the whole sequence'."""
    import math
    evaluation = evaluate(syn.world(architecture={"rates": {"transformer": -0.3}}), None, with_figures=False)
    c10 = next(r for r in evaluation.findings if r.id == "C10")
    jitter = sum(0.0005 * ((seed % 3) - 1) for seed in range(6)) / 6
    assert c10.numbers.first_step == pytest.approx(math.exp(-0.3 + jitter))
    section = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _instructor_section("C10")))
    assert "whole sequence" not in section
    assert re.search(r"from one step back the rate is −?[\d.]+(?: × 10−?\d+)? per step", section), section
    with_figure = evaluate(syn.world(), None, with_figures=True, ids=("C10",)).findings[0]
    (caption,) = [fig.caption for fig in with_figure.figures if fig.key == "flat"]
    assert re.search(r"hence the drop to [\d.]+ one step back", caption), caption


# ------------------------------------------------------------- every number printed is measured

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _tokens(text: str) -> set[str]:
    """The numbers in a text (tags dropped, so 10<sup>−6</sup> gives '10' and '6'; entities decoded, so
    &#39; is no 39), without their signs (a template may write the minus of '−0.01' itself)."""
    import html
    return set(_NUMBER.findall(html.unescape(re.sub(r"<[^>]+>", " ", str(text)))))


def _leaves(value) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _leaves(v)]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    return []


def _formatted(value: float) -> set[str]:
    """Every way the report's filters print a number, and the measured per-step factor e^r of a rate."""
    import math
    out = {formatting.fmt(value)} | {formatting.fmt(value, d) for d in (1, 2, 3, 4)}
    out |= {formatting.pct(value, d) for d in (0, 1, 2)} | {formatting.fixed(value)}
    if abs(value) < 50:
        out |= {formatting.fmt(math.exp(value), d) for d in (2, 3)} | {formatting.fmt(math.exp(value))}
    return set().union(*(_tokens(s) for s in out))


def _literal_tokens(source: str) -> set[str]:
    """Numbers written in a template's own words (theory: σ(0) = 0.5, 1/6, 95%), not computed in it."""
    return _tokens(re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", source, flags=re.S))


def _unexplained(rid: str, shown: str, result) -> list[str]:
    """The numbers of a rendered section that no measured or declared number, and no template's own words,
    account for (see the test below)."""
    from vgreport.findings import MODULES, exercises_of, folder_of
    from vgreport.findings.base import plain
    from vgreport.findings.literature import REFERENCES
    from vgreport.report.environment import make_environment
    module = next(m for m in MODULES if m.SPEC.id == rid)
    env = make_environment()
    allowed = set()
    for value in _leaves(plain(result.numbers)) + [float(s) for s in result.seeds]:
        allowed |= _formatted(value)
    for name in ("macros.html.j2", "finding.html.j2"):
        allowed |= _literal_tokens(env.loader.get_source(env, name)[0])
    allowed |= _literal_tokens((folder_of(module) / "prose.html.j2").read_text())
    allowed |= {str(n) for n in range(1, 30)}  # experiment numbers E1..En, appendix cross-references
    for exercise in exercises_of(module):
        allowed |= _tokens(exercise.command) | _tokens(exercise.question)
    allowed |= _tokens(str(REFERENCES))
    body = re.sub(r'<code class="cmd">.*?</code>', " ", shown, flags=re.S)
    return sorted(_tokens(body) - allowed)


@pytest.mark.parametrize("rid, world", WORLDS, ids=[f"{rid} {world}" for rid, world in WORLDS])
def test_every_number_in_a_findings_prose_is_measured_or_written_as_theory(rid, world):
    """Each number the instructor edition prints in a finding's section is one of that build's measured or
    declared numbers (the finding's `numbers`, as the filters print them), an experiment's number, a
    number of its exercises' commands, a year of a cited reference, or a number written in the templates'
    own words: never a value a template computed by extrapolating (e^(k·r) from a one-step slope, a line
    drawn through two gains)."""
    shown, result = _shown(rid, world, "instructor")
    unexplained = _unexplained(rid, shown, result)
    assert not unexplained, f"{rid} in '{world}': numbers drawn from no measurement: {unexplained}"


def test_the_number_scan_catches_an_extrapolated_number():
    """What the scan exists to catch: C6 once printed e^(39·r) from a one-step slope as the gradient "left at
    the first input" (0.099 for chrono, where 0.002 was measured). A sentence printing such a value (here the
    rate carried out to 100 steps, which no cell measured) is flagged; the same sentence printing the
    measured ratio is not."""
    import math
    shown, result = _shown("C6", "supported", "instructor")
    chrono = result.numbers.models["lstm_chrono"]
    extrapolated = formatting.fmt(math.exp(chrono["rate"].mean * 100), 4)
    assert extrapolated.replace("−", "") in _unexplained("C6", shown + f"<p>{extrapolated} left</p>", result)
    measured = formatting.fmt(chrono["kept_init"]["geo_mean"], 2)
    assert _unexplained("C6", shown + f"<p>{measured} left</p>", result) == []


@pytest.mark.parametrize("rid", ["C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "G1", "G2"])
def test_answers_to_commands_that_compare_arms_quote_no_number_of_the_build(rid):
    """Where an exercise compares two arms of its own quick command, the answer reasons from theory and
    never quotes the build's (standard) numbers as if the command gave them: it reads the same in a world
    that supports the finding and in one that refutes it, and starts with the word its exercise declares ('Yes'
    where the question asks for the direction the arms are expected to go, 'No' where it asks for the opposite)."""
    from vgreport.findings import MODULES, examples_of
    module = next(m for m in MODULES if m.SPEC.id == rid)
    refuting = next(e for e in examples_of(module) if e.world and e.verdict in ("refuted", "partly refuted"))
    supported = _answers(_instructor_section(rid))
    other = _answers(section(finding_block(rid, refuting.name, "instructor")[0], rid))
    assert supported == other and len(supported) == 2, (supported, other)
    from vgreport.report.exercises import for_finding
    words = [e.answer for e in for_finding(rid)[:2]]
    assert all(a.startswith(f"Answer. {word}") for a, word in zip(supported, words)), (supported, words)


def test_some_printed_answers_are_no():
    """A student who learns that every answer is yes stops predicting: several printed questions (each
    finding's first) ask for the direction the arms are not expected to go."""
    from vgreport.findings import FINDINGS
    from vgreport.report.exercises import for_finding
    printed = [for_finding(m.SPEC.id)[0] for m in FINDINGS if for_finding(m.SPEC.id)]
    assert sum(e.answer == "No" for e in printed) >= 3 and sum(e.answer == "Yes" for e in printed) >= 3
    assert all(e.answer in ("Yes", "No") for e in printed)
