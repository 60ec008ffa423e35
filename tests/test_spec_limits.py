"""Specs are strict and bounded: a spec means what it says, and one a machine cannot honour is
refused on one line, quickly, before anything runs or is written (issue 12)."""
from __future__ import annotations

import time

import pytest

from vgreport import api
from vgreport.specs import MAX_CELLS, SpecError, load_battery, parse_overrides

import helpers

PROFILES, EXPERIMENT = helpers.SPEC_PROFILES, helpers.SPEC_EXPERIMENT


@pytest.fixture
def battery_dir(tmp_path):
    """A valid profiles.yaml and one experiment file, for tests to spoil."""
    return helpers.write(tmp_path, EXPERIMENT, PROFILES, file="axis.yaml")


def _spoil(folder, old: str, new: str, file: str = "axis.yaml"):
    path = folder / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _refused(folder, profile: str = "standard", **kwargs) -> str:
    """load_battery's one-line SpecError, which must come within seconds (on a busy shared machine)."""
    started = time.perf_counter()
    with pytest.raises(SpecError) as info:
        load_battery(folder, profile, **kwargs)
    assert time.perf_counter() - started < 3.0
    message = str(info.value)
    assert "\n" not in message and message == message.strip(), message
    return message


# --------------------------------------------------------------- strict types and finite numbers

@pytest.mark.parametrize("old, new, field", [
    ("hidden: 8", "hidden: true", "model.hidden"),
    ("hidden: 8", "hidden: '64'", "model.hidden"),
    ("hidden: 8", "hidden: 64.0", "model.hidden"),
    ("steps: 40", "steps: 1e9", "train.steps"),
    ("steps: 40", "steps: 1.0e+9", "train.steps"),
    ("steps: 40", "steps: 1000000000", "train.steps"),
    ("steps: 40", "steps: 40, batch: 1e7", "train.batch"),
    ("steps: 40", "steps: 40, batch: 1.0e+7", "train.batch"),
    ("steps: 40", "steps: 40, batch: 10000000", "train.batch"),
    ("steps: 40", "steps: 40, eval_size: 1.0e+9", "train.eval_size"),
    ("steps: 40", "steps: 40, lr: .inf", "train.lr"),
    ("steps: 40", "steps: 40, lr: .nan", "train.lr"),
    ("steps: 40", "steps: 40, lr: '0.01'", "train.lr"),
    ("steps: 40", "steps: 40, clip: .inf", "train.clip"),
    ("hidden: 8", "hidden: 8, gain: .inf", "model.gain"),
    ("hidden: 8", "hidden: 8, gain: 1e400", "model.gain"),
    ("length: 10", "length: 100000", "task.length"),
], ids=["bool_for_int", "string_for_int", "float_for_int", "steps_1e9", "steps_float_1e9", "steps_int_1e9", "batch_1e7", "batch_float_1e7",
        "batch_int_1e7", "eval_size_1e9", "inf_lr", "nan_lr", "string_lr", "inf_clip", "inf_gain", "overflow_gain",
        "length_1e5"])
def test_a_value_of_the_wrong_type_or_out_of_range_is_refused(battery_dir, old, new, field):
    """true is not an int, '64' is not a number, .inf is not a learning rate and 1e9 steps is no budget."""
    _spoil(battery_dir, old, new)
    message = _refused(battery_dir)
    assert message.startswith(str(battery_dir / "axis.yaml")) and field in message, message


def test_exponent_floats_without_a_dot_are_numbers(battery_dir):
    """`lr: 1e-3` is the float 0.001 (YAML 1.2), not the string '1e-3' that YAML 1.1 would make it."""
    _spoil(battery_dir, "steps: 40", "steps: 40, lr: 1e-3")
    assert {c.train.lr for c in load_battery(battery_dir).cells()} == {0.001}


def test_set_values_are_strict_too():
    """--set model.hidden=true or train.lr=.inf is refused like the same value in a file."""
    for assignment in ("model.hidden=true", "model.hidden='8'", "train.lr=.inf", "train.steps=1e9"):
        with pytest.raises(SpecError):
            parse_overrides([assignment])
    assert parse_overrides(["train.lr=1e-3"]) == {"train": {"lr": 0.001}}


# --------------------------------------------------------------- profiles cannot hide or escape

def test_a_profile_set_does_not_hide_an_invalid_base_value(battery_dir):
    """hidden: -1 is refused under smoke (whose set overwrites hidden) exactly as under standard."""
    _spoil(battery_dir, "hidden: 8", "hidden: -1")
    for profile in ("smoke", "standard"):
        assert "model.hidden" in _refused(battery_dir, profile)


def test_a_variant_cannot_escape_the_length_cap(battery_dir):
    """Under smoke (length_cap 6) a variant's task.length: 10000 is cut to 6 like the base length."""
    _spoil(battery_dir, "lstm: {model: {arch: lstm}}", "lstm: {model: {arch: lstm}, task: {length: 10000}}")
    assert max(c.task.length for c in load_battery(battery_dir, "smoke").cells()) == 6


def test_a_variant_cannot_escape_the_steps_scale(battery_dir):
    """Under smoke (steps_scale 0.5) a variant's own train.steps is scaled like the base budget."""
    _spoil(battery_dir, "lstm: {model: {arch: lstm}}", "lstm: {model: {arch: lstm}, train: {steps: 400}}")
    steps = {c.variant: c.train.steps for c in load_battery(battery_dir, "smoke").cells()}
    assert steps == {"tanh": 20, "lstm": 200}


def test_a_profile_that_is_not_a_mapping_is_refused(battery_dir):
    """`smoke: null` is a mistake, not 'the whole battery at full size'."""
    (battery_dir / "profiles.yaml").write_text(PROFILES.replace(
        "smoke: {seeds: 1, steps_scale: 0.5, length_cap: 6, set: {model: {hidden: 4}}}", "smoke: null"))
    message = _refused(battery_dir, "smoke")
    assert "profiles.yaml" in message and "smoke" in message


@pytest.mark.parametrize("profile_text, field", [
    ("smoke: {seeds: 1, set: {modle: {hidden: 4}}}", "smoke.set.modle"),
    ("smoke: {seeds: 1, set: {model: {hiden: 4}}}", "smoke.set.model.hiden"),
    ("smoke: {seeds: 1, set: {model: {hidden: true}}}", "smoke.set.model.hidden"),
    ("smoke: {seeds: 1, set: {model: 4}}", "smoke.set.model"),
    ("smoke: {seeds: 1, steps_scale: 1e9}", "smoke.steps_scale"),
    ("smoke: {seeds: 1, seeds_: 2}", "smoke.seeds_"),
], ids=["unknown_section", "unknown_field", "wrong_type", "section_not_a_mapping", "absurd_scale", "unknown_key"])
def test_every_profile_is_strict_even_when_another_is_built(battery_dir, profile_text, field):
    """A typo in smoke's settings is refused by a standard build too: every profile is checked."""
    (battery_dir / "profiles.yaml").write_text(PROFILES.replace(
        "smoke: {seeds: 1, steps_scale: 0.5, length_cap: 6, set: {model: {hidden: 4}}}", profile_text))
    message = _refused(battery_dir, "standard")
    assert message.startswith(str(battery_dir / "profiles.yaml")) and field in message, message


def test_an_experiments_own_profile_override_is_checked_under_every_profile(battery_dir):
    """profiles: {full: {train: {stepz: 9}}} is refused by a standard build as well."""
    _spoil(battery_dir, "    variants:", "    profiles: {full: {train: {stepz: 9}}}\n    variants:")
    message = _refused(battery_dir, "standard")
    assert "profiles.full" in message and "stepz" in message, message


def test_unknown_top_level_keys_are_refused(battery_dir):
    """A key beside `axis` and `experiments` in an experiment file is a typo, named with its file."""
    (battery_dir / "axis.yaml").write_text("axes: length\n" + EXPERIMENT)
    message = _refused(battery_dir)
    assert message.startswith(str(battery_dir / "axis.yaml")) and "axes" in message


# --------------------------------------------------------------- YAML itself

def test_duplicate_keys_are_refused(battery_dir):
    """A second `model:` would silently replace the first: refused with its line."""
    _spoil(battery_dir, "    task:", "    model: {arch: gru}\n    task:")
    message = _refused(battery_dir)
    assert "duplicate key 'model'" in message and "line 5" in message, message


def test_anchors_and_merge_keys_still_work(battery_dir):
    """A modest anchor shared between variants is fine: only an explosion of aliases is refused."""
    _spoil(battery_dir, "tanh: {}", "tanh: &wide {model: {hidden: 12}}")
    _spoil(battery_dir, "lstm: {model: {arch: lstm}}", "lstm: {<<: *wide, task: {length: 5}}")
    cells = load_battery(battery_dir).cells()
    assert {(c.variant, c.model.hidden) for c in cells} == {("tanh", 12), ("lstm", 12)}


def test_a_billion_laughs_is_refused_quickly(battery_dir):
    """Nine levels of ten aliases each (a billion values once expanded) are refused within seconds."""
    lines = ["lol0: &lol0 [lol]"] + [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, 10)]
    (battery_dir / "profiles.yaml").write_text(PROFILES.replace(
        "set: {model: {hidden: 4}}", "set: {model: {hidden: 4}, x: {" + ", ".join(lines) + "}}"))
    message = _refused(battery_dir, "smoke")
    assert "profiles.yaml" in message and "alias" in message, message


def test_deep_nesting_is_refused_on_one_line(battery_dir):
    """A document nested 50,000 deep is one line, not a RecursionError traceback."""
    (battery_dir / "axis.yaml").write_text("experiments: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "nested deeper than" in _refused(battery_dir)


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_a_file_that_is_not_utf8_is_one_line(battery_dir, encoding):
    """Latin-1 or UTF-16 text is named as such, not a UnicodeDecodeError traceback."""
    (battery_dir / "axis.yaml").write_bytes(EXPERIMENT.replace("A tiny RNN", "Un très petit RNN").encode(encoding))
    message = _refused(battery_dir)
    assert message.startswith(str(battery_dir / "axis.yaml")) and "UTF-8" in message


def test_a_huge_file_is_refused_before_it_is_parsed(battery_dir):
    """A spec file is at most 256 KiB: a 5 MB one is refused without being read into YAML."""
    (battery_dir / "axis.yaml").write_text(EXPERIMENT + "# " + "x" * 5_000_000 + "\n")
    assert "KiB" in _refused(battery_dir)


# --------------------------------------------------------------- sizes of the battery

def test_a_huge_sweep_is_refused_before_it_is_expanded(battery_dir):
    """A 20,047-value sweep is refused while the file is read, and a 51-value one by the sweep limit."""
    values = ", ".join(str(2 + i % 90) for i in range(20_047))
    _spoil(battery_dir, "    variants:", f"    sweep: {{task.length: [{values}]}}\n    variants:")
    assert "more than 10,000 values" in _refused(battery_dir)
    values = ", ".join(str(2 + i) for i in range(51))
    (battery_dir / "axis.yaml").write_text(EXPERIMENT.replace("    variants:", f"    sweep: {{task.length: [{values}]}}\n    variants:"))
    assert ".sweep: sweep 'task.length' has 51 values; at most 50" in _refused(battery_dir)


def test_too_many_cells_are_refused_before_they_are_expanded(battery_dir):
    """Seeds x variants x sweep values above MAX_CELLS is refused without building the cells."""
    variants = "\n".join(f"      v{i}: {{}}" for i in range(40))
    values = ", ".join(str(2 + i) for i in range(50))
    (battery_dir / "axis.yaml").write_text(EXPERIMENT.replace(
        "      tanh: {}\n      lstm: {model: {arch: lstm}}\n",
        variants + f"\n    sweep: {{task.length: [{values}]}}\n    seeds: 100\n"))
    message = _refused(battery_dir)
    assert str(MAX_CELLS) in message.replace(",", ""), message


# --------------------------------------------------------------- cost: refused before running

def test_a_cell_estimated_beyond_the_time_limit_needs_allow_large(battery_dir, tmp_path):
    """100,000 steps of a width-1024 RNN is hours of one core: refused unless allow_large, and nothing is written."""
    _spoil(battery_dir, "hidden: 8", "hidden: 1024")
    _spoil(battery_dir, "steps: 40, eval_every: 10, log_every: 4", "steps: 100000, eval_every: 1000, log_every: 100")
    out = tmp_path / "out"
    with pytest.raises(SpecError, match="allow-large") as info:
        api.build("standard", out, experiments_dir=battery_dir, formats=("html",), progress=False)
    assert "\n" not in str(info.value) and "hours" in str(info.value)
    assert not out.exists()


def test_a_cell_estimated_beyond_the_memory_limit_needs_allow_large(battery_dir, tmp_path):
    """A batch of 4096 sequences of length 10,000 through a width-1024 LSTM cannot fit: refused first."""
    _spoil(battery_dir, "hidden: 8", "hidden: 1024")
    _spoil(battery_dir, "length: 10", "length: 10000")
    _spoil(battery_dir, "steps: 40", "steps: 1, batch: 4096")
    with pytest.raises(SpecError, match="GiB.*allow-large"):
        api.run_experiment("tiny", "standard", experiments_dir=battery_dir, out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_allow_large_lets_an_expensive_spec_through_to_the_run(battery_dir, tmp_path, monkeypatch):
    """With allow_large the same spec reaches the runner (stopped here before it trains)."""
    _spoil(battery_dir, "hidden: 8", "hidden: 1024")
    _spoil(battery_dir, "steps: 40, eval_every: 10, log_every: 4", "steps: 100000, eval_every: 1000, log_every: 100")
    reached = []

    def stop(cells, *args, **kwargs):
        reached.append(len(cells))
        raise KeyboardInterrupt
    monkeypatch.setattr(api, "execute", stop)
    with pytest.raises(KeyboardInterrupt):
        api.run_experiment("tiny", "standard", experiments_dir=battery_dir, out=tmp_path / "out",
                           progress=False, allow_large=True)
    assert reached == [6]


def test_the_shipped_profiles_pass_the_cost_limits():
    """smoke, quick, standard and full are all within the limits without --allow-large."""
    from vgreport.runner import check_cost
    from vgreport.specs import PROFILE_NAMES, default_experiments_dir
    for profile in PROFILE_NAMES:
        check_cost(load_battery(default_experiments_dir(), profile).cells(), jobs=2, device="cpu")

