"""The dynamical-systems section: its sentences follow the records (which seeds store the cue, and
whether training made their gradient decay faster or more slowly), it is left out cleanly when the
build lacks the experiment, and the exercise's snippet, run as printed, gives the answer worked by hand."""
from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest

from vgreport.findings import Evaluation
from vgreport.findings import synthetic as syn
from vgreport.findings.base import Context
from vgreport.findings.dynamics import dynamics as read_dynamics
from vgreport.report import document
from vgreport.report import dynamics as dyn

from helpers import report_context


def _frame(seeds: list[tuple[float, float, float]], length: int = 20):
    """The tanh RNN of 'architecture', one cell per (trained rate, cue influence, accuracy); rate −0.5 at init."""
    records = []
    for seed, (trained, influence, accuracy) in enumerate(seeds):
        records += syn.cell("architecture", "rnn_tanh", seed, length=length, rate=-0.5, trained_rate=trained,
                            influence=influence, score=accuracy, sens_log10=-12.0 + seed)
    return syn.frame(records)


def _section(seeds, edition: str = "student") -> str:
    evaluation = Evaluation(dynamics=read_dynamics(Context(_frame(seeds))))
    page = document.render_html(evaluation, report_context(edition), block="dynamics")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def test_stored_cues_that_decay_faster_are_said_to_decay_faster():
    text = _section([(-1.2, 0.8, 0.5), (-1.0, 0.9, 0.6), (-0.3, 0.0, 0.12)])
    assert "Two store it without solving the task" in text
    assert "decays faster than at initialisation (−1.20 to −1.00 per step)" in text
    assert "One ignores the cue" in text and "decays more slowly than at initialisation (−0.30 per step)" in text
    assert "In all, 2 of 3 seeds end with a gradient that decays faster than at initialisation and 1 more slowly" in text
    # the seed that follows the cue with the least sensitivity to it is the example
    assert "Seed 0's output is 10−12.0 times as sensitive to the cue" in text


def test_the_sentence_flips_when_training_slowed_the_decay():
    text = _section([(-0.2, 0.8, 0.5), (-0.3, 0.9, 0.6), (-0.1, 0.0, 0.12)])
    assert "gradient decays faster" not in text
    assert "decays more slowly than at initialisation (−0.30 to −0.20 per step)" in text
    assert "0 of 3 seeds end with a gradient that decays faster than at initialisation and 3 more slowly" in text


def test_a_group_whose_seeds_disagree_gets_no_direction_and_an_empty_group_no_sentence():
    text = _section([(-1.2, 0.8, 0.5), (-0.3, 0.9, 0.6)])
    assert "decays faster than at initialisation in one and more slowly in one of them" in text
    assert "ignore the cue" not in text and "solve it" not in text and "solves it" not in text


def test_a_seed_whose_trained_gradient_is_no_line_is_counted_as_such_in_its_group_and_in_all():
    """A group sentence never calls every seed's curve 'no straight line' when only some are: it counts the
    seeds that decay faster, more slowly, and those without a straight-line fit, and so does the total."""
    dynamics = read_dynamics(Context(_frame([(-1.2, 0.8, 0.5), (-0.3, 0.9, 0.6), (-1.0, 0.7, 0.4)])))
    dynamics["seeds"][2]["r2_trained"] = 0.3          # its trained curve is no line: no rate for it
    page = document.render_html(Evaluation(dynamics=dynamics), report_context("student"), block="dynamics")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert ("decays faster than at initialisation in one, more slowly in one and is no straight line on a log "
            "scale in one of them") in text, text
    assert "In all, 1 of 3 seeds end with a gradient that decays faster than at initialisation and 1 more slowly" in text


def test_solved_seeds_are_grouped_by_accuracy_and_no_cue_follower_means_no_example():
    text = _section([(0.0, 0.2, 0.95), (-0.3, 0.1, 0.97)])
    assert "solve it" not in text and "solves it" not in text  # influence below 0.25: they ignore the cue, whatever they scored
    assert "Two ignore the cue" in text and "Seed " not in text
    text = _section([(0.0, 1.0, 0.95), (0.0, 1.0, 0.97)])
    assert "Two solve it (accuracy 0.95 to 0.97)" in text


def test_the_section_is_left_out_without_the_experiment():
    assert read_dynamics(Context(syn.world(architecture=None))) == {}
    assert dyn.dynamics(Evaluation()) is None
    page = document.render_html(Evaluation(), report_context(), block="dynamics")
    assert 'id="dynamics"' not in page


def test_the_printed_snippet_runs_and_matches_the_answer_worked_by_hand():
    page = document.render_html(Evaluation(dynamics=read_dynamics(Context(_frame([(-1.0, 0.8, 0.5)])))),
                                report_context("instructor"), block="dynamics")
    printed = html.unescape(re.search(r'<pre class="snippet"[^>]*><code>(.*?)</code></pre>', page, re.S).group(1))
    assert printed == dyn.SNIPPET
    out = subprocess.run([sys.executable, "-c", printed], capture_output=True, text=True, check=True).stdout
    answer = dyn.exercise_answer()
    assert f"h1, h2, h3: {answer['states']}" in out
    norms = {int(k): float(v) for k, v in re.findall(r"dh3/dh(\d) 2-norm: ([0-9.]+)", out)}
    assert norms.keys() == {0, 1, 2}
    for k, value in norms.items():
        assert value == pytest.approx(answer["norms"][k], abs=5e-5)
    # pinned by hand: J_3 = diag(1, 0.64)·W has norm σ_max(W) = √1.25; the products shrink below the bound
    assert answer["norms"][2] == pytest.approx(1.25 ** 0.5)
    assert answer["norms"][0] < 1 < answer["bounds"][0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "are 1.118, 0.612, 0.272 against the bound's 1.118, 1.250, 1.398" in text


def test_the_seeds_that_remember_the_cue_are_counted_against_the_theorem():
    """Bengio et al.'s dilemma covers robust storage: the section counts, among the seeds that store the cue
    or solve the task, those whose trained gradient decays faster than at initialisation (the theorem's
    picture); seeds that ignore the cue are not among them, and no count is printed without such seeds."""
    text = _section([(-1.2, 0.8, 0.5), (-0.3, 0.9, 0.6)])
    assert "Of the 2 that remember the cue, 1 decays faster than at first" in text, text
    text = _section([(0.0, 0.2, 0.95), (-0.3, 0.1, 0.97)])  # both ignore the cue
    assert "remember the cue" not in text
