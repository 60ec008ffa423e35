"""Exercises as data: every command tests its question, runs as printed, and `run` checks an
override against the experiment it runs only."""
from __future__ import annotations

import shlex

import pytest
from click.testing import CliRunner

from vgreport import api
from vgreport.cli import main
from vgreport.findings import EXERCISES, MODULES
from vgreport.report.exercises import for_finding
from vgreport.specs import default_experiments_dir, load_battery, parse_overrides


def _values(profile: str, experiment: str, sets: tuple[str, ...], field: str) -> set:
    """The values `field` takes in the cells `vgreport run experiment --set ...` would run."""
    overrides = parse_overrides(list(sets)) if sets else None
    battery = load_battery(default_experiments_dir(), profile, overrides, overrides_for=(experiment,))
    section, name = field.split(".")
    return {getattr(getattr(cell, section), name) for cell in battery.cells(only_experiments=(experiment,))}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"{e.finding}-{e.experiment}-{'-'.join(e.sets)}")
def test_each_exercise_command_changes_the_field_its_question_is_about(exercise):
    """At the profile it prints, the command's override changes the field the question asks about
    in the cells it runs (quick cuts lengths to 50: a length of 100 needs the standard profile);
    an exercise without an override compares variants the build already has."""
    assert exercise.question.strip().endswith("?") or "Predict" in exercise.question
    assert exercise.compare
    if exercise.field is None:
        assert not exercise.sets
        return
    assert any(s.startswith(exercise.field + "=") for s in exercise.sets), "the override sets another field"
    before = _values(exercise.profile, exercise.experiment, (), exercise.field)
    after = _values(exercise.profile, exercise.experiment, exercise.sets, exercise.field)
    assert after != before, f"{exercise.command}: {exercise.field} stays {sorted(map(str, before))}"


def test_every_finding_has_an_exercise_and_every_exercise_a_finding():
    findings = {m.SPEC.id for m in MODULES if m.SPEC.kind == "finding"}
    assert {e.finding for e in EXERCISES} == findings
    assert all(1 <= len(for_finding(f)) <= 2 for f in findings)


@pytest.fixture
def no_training(monkeypatch):
    """`run` without training: the cells it would run are recorded instead (the command line,
    profile, overrides and experiment are all checked before this point)."""
    ran = []

    def execute(cells, cache, **options):
        ran.append(list(cells))
        return [], api.Summary(cells=len(cells), cached=len(cells))
    monkeypatch.setattr(api, "_execute", execute)
    return ran


@pytest.mark.parametrize("profile", ["as printed", "smoke"])
def test_every_exercise_command_is_accepted_as_printed_and_at_the_smoke_profile(tmp_path, no_training, profile):
    """Each command, parsed by the CLI from its printed text, is accepted and runs the cells of its
    experiment with the override applied, at the printed profile and at smoke."""
    for exercise in EXERCISES:
        argv = shlex.split(exercise.command)[1:]
        if profile == "smoke":
            argv[argv.index("--profile") + 1] = "smoke"
        result = CliRunner().invoke(main, argv + ["--out", str(tmp_path / "o"), "-q"])
        assert result.exit_code == 0, (exercise.command, result.output)
        cells = no_training[-1]
        assert cells and {c.experiment for c in cells} == {exercise.experiment}


def test_run_checks_an_override_against_its_own_experiment_only(tmp_path):
    """`run architecture --set task.length=10` trains (at smoke): recall_lag's lag of 10 would not fit
    a length of 10, but recall_lag is not what runs. The same override still fails for recall_lag."""
    runner = CliRunner()
    result = runner.invoke(main, ["run", "architecture", "--profile", "smoke", "--set", "task.length=10",
                                  "--out", str(tmp_path / "a"), "-q"])
    assert result.exit_code == 0, result.output
    assert "final_accuracy" in result.output and "decay_rate_init" in result.output
    refused = runner.invoke(main, ["run", "recall_lag", "--profile", "smoke", "--set", "task.length=10",
                                   "--out", str(tmp_path / "b"), "-q"])
    assert refused.exit_code == 2 and "lag" in refused.output
