"""Exercises as data: every command tests its question, runs as printed, and `run` checks an
override against the experiment it runs only."""
from __future__ import annotations

import shlex

import pytest
from click.testing import CliRunner

from vgreport import api
from vgreport.cli import main
from vgreport.findings import EXERCISES, MODULES
from vgreport.report.exercises import for_finding, selector_terms
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


def _cells(exercise):
    overrides = parse_overrides(list(exercise.sets)) if exercise.sets else None
    battery = load_battery(default_experiments_dir(), exercise.profile, overrides, overrides_for=(exercise.experiment,))
    return list(battery.cells(only_experiments=(exercise.experiment,)))


def _selects(cell, arm: str) -> bool:
    """Whether a cell belongs to an exercise's arm ("variant=lstm_default,length=40", "gain=1.0"): any
    field of the configuration key, read by the same selector parser as the cell tables."""
    from vgreport.configs import config_of
    config = config_of(cell)
    return all(str(getattr(config, field)) in spellings for field, spellings in selector_terms(arm).items())


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"{e.finding}-{e.experiment}-{'-'.join(e.sets)}")
def test_both_arms_of_each_exercise_run_in_its_own_command_at_one_budget(exercise):
    """The two arms an answer compares are both among the cells the printed command runs at its printed
    profile, with the same steps, batch and learning rate: no answer weighs a quick run against the build."""
    assert len(exercise.arms) == 2, f"{exercise.command}: an answer compares two arms of its own output"
    cells = _cells(exercise)
    budgets = set()
    for arm in exercise.arms:
        chosen = [c for c in cells if _selects(c, arm)]
        assert chosen, f"{exercise.command}: no cell of arm {arm}"
        budgets |= {(c.train.steps, c.train.batch, c.train.lr) for c in chosen}
    assert len(budgets) == 1, f"{exercise.command}: arms at different budgets {budgets}"
    assert exercise.expect in ("<", "<=", ">", ">=") and exercise.metric in ("final_accuracy", "final_mse", "decay_rate_init", "diverged")
    assert exercise.profile == "quick", "a printed command runs in a couple of minutes (quick), never standard"


def _variants() -> dict[str, dict]:
    """Each experiment's variants as its YAML writes them (name -> the fields the variant sets)."""
    import yaml
    out = {}
    for path in default_experiments_dir().glob("*.yaml"):
        for e in (yaml.safe_load(path.read_text()) or {}).get("experiments", []):
            out[e["name"]] = e.get("variants", {})
    return out


def _flat(tree: dict, prefix: str = "") -> set[str]:
    return set().union(*[_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k} for k, v in tree.items()] or [set()])


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.sets],
                         ids=lambda e: f"{e.finding}-{e.experiment}-{'-'.join(e.sets)}")
def test_no_override_changes_what_a_variants_label_says(exercise):
    """A --set may not overwrite a field that a variant sets itself and names (C9's train.clip=10 once
    clipped the arm labelled no_clip), nor change a value the variant's name states (model.arch=lstm on a
    variant named rnn_tanh): every label in the output still describes its configuration."""
    before = {c.variant: c for c in _values_cells(exercise.profile, exercise.experiment)}
    for name, own in _variants()[exercise.experiment].items():
        for assignment in exercise.sets:
            key = assignment.split("=")[0]
            section, attr = key.split(".")
            words = name.lower().split("_")
            if key in _flat(own or {}):  # the variant's own value (the transformer's heads) yields only where unnamed
                assert attr not in words, f"{exercise.command}: --set {key} overwrites variant {name}'s own value"
            old = str(getattr(getattr(before[name], section), attr))
            assert old.lower() not in words, f"{exercise.command}: variant {name} names {key}={old}"


def _values_cells(profile: str, experiment: str):
    battery = load_battery(default_experiments_dir(), profile, None, overrides_for=(experiment,))
    return list(battery.cells(only_experiments=(experiment,)))


def _outcome(exercise, cells, first: float, second: float):
    """The cell table `vgreport run` would produce from exactly the cells the printed command runs, each
    cell's records made by the synthetic engine (findings.synthetic.cell): the first arm's cells measure
    `first` in the exercise's metric, the second arm's `second`, every other cell nothing comparable."""
    from vgreport.aggregate import cell_table, records_frame
    from vgreport.findings import synthetic
    from vgreport.schema import cell_columns

    records = []
    for cell in cells:
        arm = next((i for i, a in enumerate(exercise.arms) if _selects(cell, a)), None)
        value = (first, second)[arm] if arm is not None else float("nan")
        columns = cell_columns(cell)
        kw = {k: columns[k] for k in ("arch", "activation", "init", "gain", "length", "task", "budget")}
        kw["clip"] = cell.train.clip
        if exercise.metric == "decay_rate_init":
            kw["rate"] = value if value == value else -0.3
        elif exercise.metric == "diverged":
            kw["diverged_step"] = 5 if value > 0.5 else None
        else:
            kw["score"] = value
        made = synthetic.cell(cell.experiment, cell.variant, cell.seed, **kw)
        records += [{**r, "hidden": cell.model.hidden} for r in made]
    return cell_table(records_frame(records))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"{e.finding}-{e.experiment}")
def test_check_reads_each_answers_direction_from_its_own_commands_cells(exercise):
    """`check` bears the answer out on the cells the printed command runs (at its printed profile) when
    their arms go its way, and not when they are reversed: so each arm selects cells the command really
    runs, in the columns its output has, and the direction is read the way the answer states it."""
    from vgreport.report.exercises import check
    cells = _cells(exercise)
    low, high = {"diverged": (0.0, 1.0), "decay_rate_init": (-0.6, -0.1)}.get(exercise.metric, (0.2, 0.8))
    way = (low, high) if exercise.expect in ("<", "<=") else (high, low)
    reversed_ = way[::-1]
    assert check(exercise, _outcome(exercise, cells, *way)) is True, exercise.command
    assert check(exercise, _outcome(exercise, cells, *reversed_)) is False, exercise.command
    if exercise.expect in ("<", ">"):  # a strict answer: a tie (every run diverged, or none) is no yes
        assert check(exercise, _outcome(exercise, cells, high, high)) is False, exercise.command


@pytest.mark.parametrize("sets, experiment", [(("train.clip=10",), "clip_exploding"),
                                              (("model.arch=lstm",), "adding_length")])
def test_the_label_rule_catches_an_override_that_makes_a_label_lie(sets, experiment):
    """What the rule exists to catch: clipping the arm named no_clip; making the arm named rnn_tanh an LSTM."""
    from vgreport.findings import Exercise
    lying = Exercise(question="?", experiment=experiment, sets=sets, field=sets[0].split("=")[0], compare="-")
    with pytest.raises(AssertionError):
        test_no_override_changes_what_a_variants_label_says(lying)
