"""The battery as data: the shipped experiments load under every profile; bad specs are one-line errors."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from vgreport.specs import PROFILE_NAMES, CellSpec, SpecError, default_experiments_dir, load_battery, parse_overrides

import helpers

SHIPPED_EXPERIMENTS = {"activation", "architecture", "lstm_tuning", "clip_exploding", "clip_vanishing", "init",
                       "gain_sweep", "gain_sweep_sigmoid", "gain_train", "recall_length", "recall_lag",
                       "adding_length", "copy", "budget"}

PROFILES = helpers.SPEC_PROFILES
EXPERIMENT = helpers.SPEC_EXPERIMENT + "    sweep: {task.length: [4, 10]}\n"


@pytest.fixture
def battery_dir(tmp_path):
    """A folder holding a valid profiles.yaml and one experiment file, for tests to spoil."""
    return helpers.write(tmp_path, EXPERIMENT, PROFILES, file="axis.yaml")


@pytest.fixture
def shipped():
    return {profile: load_battery(default_experiments_dir(), profile) for profile in PROFILE_NAMES}


def _by_name(battery):
    return {e.name: e for e in battery.experiments}


def test_shipped_battery_loads_under_every_profile(shipped):
    """Every profile loads all shipped experiments, each expanding into valid cells on the five axes."""
    for profile, battery in shipped.items():
        assert battery.profile == profile
        assert set(_by_name(battery)) == SHIPPED_EXPERIMENTS
        assert battery.axes == ["activation", "architecture", "clipping", "initialisation", "length"]
        for experiment in battery.experiments:
            cells = experiment.cells()
            assert cells and all(isinstance(c, CellSpec) for c in cells)
            assert all(c.experiment == experiment.name for c in cells)
            assert len(cells) == len({(c.variant, c.sweep_value, c.seed) for c in cells})


def test_profiles_set_the_seed_count(shipped):
    """smoke and quick give every experiment 1 and 2 seeds; standard and full measure gradients at
    initialisation with 6 and 10 seeds (enough to decide a part measured at initialisation) and train
    with a first look of 8 and 10 seeds, in rounds up to 16 and 30 (the sequential design); context-only
    experiments keep their own few seeds and one look."""
    for profile, seeds in zip(("smoke", "quick"), (1, 2)):
        assert {e.seeds for e in shipped[profile].experiments} == {seeds}
        assert {e.looks for e in shipped[profile].experiments} == {1}
    own = {"copy": 3, "lstm_tuning": 4, "clip_vanishing": 4}  # context-only experiments: their own seeds, one look
    for profile, at_init, rounds in (("standard", 6, (8, 12, 16)), ("full", 10, (10, 20, 30))):
        for e in shipped[profile].experiments:
            if e.train.steps == 0 or (profile == "standard" and e.name in own):
                assert e.seed_rounds == () and e.seeds == own.get(e.name, at_init), (profile, e.name)
            else:
                assert (e.seeds, e.seed_rounds) == (rounds[0], rounds), (profile, e.name)
                assert list(e.seeds_of_look(1)) == list(range(rounds[0], rounds[1]))


def test_later_cells_add_the_next_round_for_the_named_configurations_only(shipped):
    """A later look adds seeds 8..11 to the configurations named, and no cell of any other."""
    from vgreport.configs import config_of
    battery = shipped["standard"]
    budget, sweep = (config_of(next(c for c in battery.cells() if (c.experiment, c.variant) == names))
                     for names in (("budget", "rnn_tanh"), ("gain_sweep", "tanh")))
    extra = battery.later_cells([budget], 1)
    assert [(c.experiment, c.variant, c.seed) for c in extra] == [("budget", "rnn_tanh", s) for s in range(8, 12)]
    assert battery.later_cells([sweep], 1) == []  # no rounds at initialisation


def test_profiles_scale_the_training_budget_and_its_intervals(shipped):
    """steps_scale multiplies train.steps, eval_every and log_every (rounded, intervals at least 1)."""
    standard = _by_name(shipped["standard"])
    for profile, scale in (("smoke", 0.02), ("quick", 0.3), ("full", 2.0)):
        for name, experiment in _by_name(shipped[profile]).items():
            base = standard[name].train
            assert experiment.train.steps == round(base.steps * scale), (profile, name)
            assert experiment.train.eval_every == max(1, round(base.eval_every * scale)), (profile, name)
            assert experiment.train.log_every == max(1, round(base.log_every * scale)), (profile, name)
    assert _by_name(shipped["standard"])["budget"].train.steps == 4000
    assert _by_name(shipped["full"])["budget"].train.steps == 8000


def test_length_cap_cuts_lengths_and_lags_and_drops_duplicates(shipped):
    """smoke caps every length at 12 and quick at 50, keeping each capped sweep value once; a lag set by
    a variant is capped to stay inside the shortened sequence."""
    for profile, cap in (("smoke", 12), ("quick", 50)):
        assert max(c.task.length for c in shipped[profile].cells()) == cap
    sweep = _by_name(shipped["smoke"])["recall_length"].sweep["task.length"]
    assert list(sweep) == [5, 12]
    sweep = _by_name(shipped["quick"])["recall_length"].sweep["task.length"]
    assert list(sweep) == [5, 25, 50]
    assert max(c.task.length for c in shipped["standard"].cells()) == 100
    lags = {c.variant: c.task.lag for c in _by_name(shipped["smoke"])["recall_lag"].cells()}
    assert lags == {"lag_2": 2, "lag_10": 10, "lag_30": 11}


def test_per_experiment_profile_overrides_apply_to_that_profile_only(shipped):
    """The architecture sweep reaches length 200 under full only, through its own profiles: key."""
    lengths = {p: {c.task.length for c in _by_name(shipped[p])["architecture"].cells()} for p in PROFILE_NAMES}
    assert lengths["full"] == {10, 30, 100, 200}
    assert lengths["standard"] == {10, 40}


def test_profile_set_overrides_the_experiment_base_but_not_its_variants(shipped):
    """smoke's `set` makes models tiny (hidden 16) and probes small; a variant's own width still wins."""
    for cell in shipped["smoke"].cells():
        assert (cell.probe.batch, cell.probe.jacobian_samples, cell.train.eval_size) == (8, 2, 128)
        own = {"transformer": 32, "wide": 128}  # widths set by a variant itself
        assert cell.model.hidden == own.get(cell.variant, 16), cell.label
    assert {c.model.hidden for c in shipped["standard"].cells() if c.model.arch == "rnn"} == {64}


def test_variants_sweeps_and_seeds_expand_into_cells(battery_dir):
    """Cells are the product variants x sweep values x seeds, each value written into its field."""
    battery = load_battery(battery_dir, "standard")
    cells = battery.cells()
    assert len(cells) == 2 * 2 * 3
    assert {(c.variant, c.model.arch, c.task.length) for c in cells} == {
        ("tanh", "rnn", 4), ("tanh", "rnn", 10), ("lstm", "lstm", 4), ("lstm", "lstm", 10)}
    assert {c.sweep_value for c in cells} == {4.0, 10.0}


def test_a_tiny_profile_applies_all_of_its_settings(battery_dir):
    """A profile's seeds, steps_scale, length_cap and set act together on a hand-written battery."""
    (experiment,) = load_battery(battery_dir, "smoke").experiments
    assert experiment.seeds == 1
    assert (experiment.train.steps, experiment.train.eval_every, experiment.train.log_every) == (20, 5, 2)
    assert experiment.task.length == 6 and experiment.sweep == {"task.length": (4, 6)}
    assert {c.model.hidden for c in experiment.cells()} == {4}


def test_command_line_overrides_win_over_variants(battery_dir):
    """`--set` values (parse_overrides) apply to every cell after the variants."""
    overrides = parse_overrides(["model.hidden=5", "train.clip=null"])
    assert overrides == {"model": {"hidden": 5}, "train": {"clip": None}}
    cells = load_battery(battery_dir, "standard", overrides).cells()
    assert {c.model.hidden for c in cells} == {5} and {c.train.clip for c in cells} == {None}


@pytest.mark.parametrize("assignment", ["model.hidden", "model.hiden=4", "net.hidden=4", "model.arch=cnn"])
def test_bad_command_line_override_is_a_spec_error(assignment):
    """A malformed or invalid `--set` raises a one-line SpecError quoting it."""
    with pytest.raises(SpecError) as info:
        parse_overrides([assignment])
    assert assignment in str(info.value) and "\n" not in str(info.value)


def _spoil(battery_dir, old: str, new: str, file: str = "axis.yaml"):
    path = battery_dir / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _one_line_error(battery_dir, profile: str = "standard") -> str:
    with pytest.raises(SpecError) as info:
        load_battery(battery_dir, profile)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message
    return message


@pytest.mark.parametrize("old, new, field", [
    ("arch: rnn", "arch: cnn", "model.arch"),
    ("steps: 40", "steps: -1", "train.steps"),
    ("hidden: 8", "hiden: 8", "model.hiden"),
    ('title: "A tiny RNN"', 'title: "A tiny RNN"\n    colour: red', "colour"),
    ("classes: 3", "classes: many", "task.classes"),
    ("lstm: {model: {arch: lstm}}", "lstm: {model: {arch: lstm, init: nope}}", "variants.lstm.model.init"),
    ("tanh: {}", "tanh: {model: {init: chrono}}", "variants.tanh.model"),
    ("sweep: {task.length: [4, 10]}", "sweep: {length: [4, 10]}", "sweep"),
    ("name: tiny", "name: Tiny Model", "name"),
], ids=["unknown_arch", "negative_steps", "unknown_field", "unknown_top_field", "wrong_type",
        "bad_variant", "chrono_for_rnn", "bad_sweep", "bad_name"])
def test_bad_experiment_field_is_one_line_naming_file_and_field(battery_dir, old, new, field):
    """An invalid experiment raises SpecError on one line that names the file and the field."""
    _spoil(battery_dir, old, new)
    message = _one_line_error(battery_dir)
    assert message.startswith(f"{battery_dir / 'axis.yaml'}: experiments[0]")
    assert f").{field}: " in message, message


def test_duplicate_experiment_name_is_an_error(battery_dir):
    """Two experiments with one name raise SpecError naming the second file and the name field."""
    (battery_dir / "other.yaml").write_text(EXPERIMENT)
    message = _one_line_error(battery_dir)
    assert message.startswith(str(battery_dir / "other.yaml")) and ".name:" in message and "'tiny'" in message
    assert "axis.yaml" in message


def test_invalid_yaml_is_an_error_with_its_line(battery_dir):
    """Unparseable YAML raises SpecError naming the file and the line, not a yaml traceback."""
    _spoil(battery_dir, 'title: "A tiny RNN"', "title: [A tiny RNN")
    message = _one_line_error(battery_dir)
    assert message.startswith(f"{battery_dir / 'axis.yaml'}: line 4 invalid YAML")


def test_loading_never_executes_code(battery_dir, tmp_path):
    """A python/object tag is refused as invalid YAML (safe_load), never run."""
    marker = tmp_path / "ran"
    _spoil(battery_dir, 'title: "A tiny RNN"', f"title: !!python/object/apply:os.system ['touch {marker}']")
    message = _one_line_error(battery_dir)
    assert "axis.yaml" in message and "invalid YAML" in message
    assert not marker.exists()


def test_missing_profiles_file_is_an_error(battery_dir):
    """Without profiles.yaml the loader names the missing file."""
    (battery_dir / "profiles.yaml").unlink()
    message = _one_line_error(battery_dir)
    assert message.startswith(str(battery_dir / "profiles.yaml")) and "missing" in message


@pytest.mark.parametrize("profiles, field", [
    ("standard: {seedz: 3}\n", "standard.seedz"),
    ("standard: {seeds: 0}\n", "standard.seeds"),
    ("standard: {steps_scale: -1}\n", "standard.steps_scale"),
    ("standard: [3]\n", "standard"),
    ("smoke: {}\n", "'standard' not defined"),
    ("standard: {seeds: 3\n", "invalid YAML"),
], ids=["unknown_key", "zero_seeds", "negative_scale", "not_a_mapping", "undefined_profile", "invalid_yaml"])
def test_bad_profile_is_one_line_naming_profiles_file_and_field(battery_dir, profiles, field):
    """A wrong profiles.yaml raises SpecError on one line naming profiles.yaml and the setting."""
    (battery_dir / "profiles.yaml").write_text(profiles)
    message = _one_line_error(battery_dir)
    assert message.startswith(f"{battery_dir / 'profiles.yaml'}:") and field in message, message


def test_unknown_profile_under_an_experiment_is_an_error(battery_dir):
    """An experiment's profiles: key naming an undefined profile raises SpecError naming it."""
    _spoil(battery_dir, "sweep:", "profiles: {smok: {seeds: 1}}\n    sweep:")
    message = _one_line_error(battery_dir)
    assert message.startswith(str(battery_dir / "axis.yaml")) and ".profiles:" in message and "smok" in message


def test_missing_experiments_list_is_an_error(battery_dir):
    """A file without an `experiments:` list raises SpecError naming the file and the key."""
    (battery_dir / "axis.yaml").write_text("experiment:\n  - name: tiny\n")
    message = _one_line_error(battery_dir)
    assert message.startswith(str(battery_dir / "axis.yaml")) and "experiments" in message


def test_specs_are_frozen():
    """A loaded spec cannot be changed in place: cells are values, safe to hash and share."""
    cell = load_battery(default_experiments_dir(), "smoke").cells()[0]
    with pytest.raises(ValidationError):
        cell.model.hidden = 3
    with pytest.raises(ValidationError):
        cell.seed = 5
