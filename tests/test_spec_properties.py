"""Property: whatever YAML a user writes into an experiment file or profiles.yaml, `vgreport build`
either accepts it or refuses it on one line (exit 2), within seconds, having written nothing; it
never shows a traceback (issue 12)."""
from __future__ import annotations

import copy
import tempfile
import textwrap
import time
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vgreport.report.document  # noqa: F401 - imported up front, so no example pays for it
from vgreport import api  # noqa: F401
from vgreport.cli import main

PROFILES = {"smoke": {"seeds": 1, "steps_scale": 0.5, "length_cap": 6, "set": {"model": {"hidden": 4}}},
            "quick": {"seeds": 1}, "standard": {"seeds": 1}, "full": {"seeds": 2}}
EXPERIMENT = {"experiments": [{
    "name": "tiny", "title": "A tiny RNN",
    "model": {"arch": "rnn", "activation": "tanh", "hidden": 8},
    "task": {"name": "recall", "length": 10, "classes": 3},
    "train": {"steps": 40, "eval_every": 10, "log_every": 4, "eval_size": 16},
    "probe": {"batch": 4, "jacobian_samples": 1},
    "variants": {"tanh": {}, "lstm": {"model": {"arch": "lstm"}}},
    "sweep": {"task.length": [4, 10]}}]}

# Keys a user might plausibly write, typos included, so generated mappings often hit real fields.
KEYS = ["experiments", "axis", "name", "title", "claims", "model", "task", "train", "probe", "variants", "sweep",
        "seeds", "profiles", "set", "steps_scale", "length_cap", "description", "arch", "activation", "init",
        "gain", "hidden", "layers", "heads", "length", "classes", "lag", "steps", "batch", "lr", "clip",
        "eval_every", "log_every", "eval_size", "jacobian_samples", "optimizer", "modle", "task.length",
        "model.gain", "smoke", "standard", "<<"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["rnn", "lstm", "transformer", "recall", "copy", "tanh", "chrono", "1e9", ".inf", "yes",
                     "64", "", "x" * 300, "1:30", "0x10"]),
    st.text(max_size=12))
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children,
                                               max_size=5)),
    max_leaves=30)
# Where a generated value goes: a path into the experiment file or profiles.yaml.
PLACES = st.sampled_from([
    ("experiment", ()), ("experiment", ("experiments",)), ("experiment", ("experiments", 0)),
    ("experiment", ("experiments", 0, "model")), ("experiment", ("experiments", 0, "model", "hidden")),
    ("experiment", ("experiments", 0, "task", "length")), ("experiment", ("experiments", 0, "train")),
    ("experiment", ("experiments", 0, "train", "steps")), ("experiment", ("experiments", 0, "variants")),
    ("experiment", ("experiments", 0, "variants", "lstm")), ("experiment", ("experiments", 0, "sweep")),
    ("experiment", ("experiments", 0, "seeds")), ("experiment", ("experiments", 0, "profiles")),
    ("experiment", ("experiments", 0, "extra")), ("experiment", ("axis",)),
    ("profiles", ()), ("profiles", ("smoke",)), ("profiles", ("smoke", "set")),
    ("profiles", ("smoke", "set", "model")), ("profiles", ("smoke", "steps_scale")),
    ("profiles", ("smoke", "length_cap")), ("profiles", ("standard",)),
])
# Raw text for what yaml.safe_dump never writes: anchors, aliases, merge keys, tags, odd nesting.
RAW = st.lists(st.sampled_from([
    "experiments:", "\n", "  - ", "name: tiny", "title: t", "model: ", "{hidden: 8}", "&a ", "*a", "<<: *a",
    "[", "]", "{", "}", ", ", ": ", "!!python/object:os.system ", "!!binary ", "? ", "'", '"', "#", "\t",
    "1e9", ".inf", "~", "---", "...", "%YAML 1.1", "\u00e9", "\x00"]), max_size=40).map("".join)


class _Accepted(BaseException):
    """Raised where the build would start training: the spec was accepted."""


def _put(document, path, value):
    if not path:
        return value
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def _build(folder: Path, out: Path, monkeypatch_execute) -> tuple[str, object]:
    """('accepted', None) or ('refused', the CliRunner result)."""
    try:
        result = CliRunner().invoke(main, ["build", "--experiments", str(folder), "--out", str(out),
                                           "--profile", "smoke", "--format", "html", "--jobs", "1"])
    except _Accepted:
        return "accepted", None
    return "refused", result


def _check(folder: Path, out: Path) -> None:
    started = time.perf_counter()
    outcome, result = _build(folder, out, None)
    assert time.perf_counter() - started < 5.0, "took too long to decide"
    if outcome == "accepted":
        return
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert not out.exists(), "a refused build wrote something"


def _refuse_to_train(monkeypatch):
    def accepted(*args, **kwargs):
        raise _Accepted
    monkeypatch.setattr(api, "execute", accepted)
    monkeypatch.setattr(api, "check_cost", lambda *args, **kwargs: None)  # reaching the runner is acceptance


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(place=PLACES, value=TREES)
def test_any_value_anywhere_is_accepted_or_one_line(monkeypatch, place, value):
    """A generated YAML value put anywhere in a valid battery: accepted, or one line, exit 2, nothing written."""
    _refuse_to_train(monkeypatch)
    which, path = place
    experiment, profiles = copy.deepcopy(EXPERIMENT), copy.deepcopy(PROFILES)
    if which == "experiment":
        experiment = _put(experiment, path, value)
    else:
        profiles = _put(profiles, path, value)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "battery"
        folder.mkdir()
        (folder / "profiles.yaml").write_text(yaml.safe_dump(profiles, allow_unicode=True))
        (folder / "axis.yaml").write_text(yaml.safe_dump(experiment, allow_unicode=True))
        _check(folder, Path(tmp) / "out")


@SETTINGS
@given(text=RAW, where=st.sampled_from(["axis.yaml", "profiles.yaml"]))
def test_any_text_is_accepted_or_one_line(monkeypatch, text, where):
    """Raw YAML-ish text (anchors, aliases, tags, control characters) as either file: never a traceback."""
    _refuse_to_train(monkeypatch)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "battery"
        folder.mkdir()
        (folder / "profiles.yaml").write_text(yaml.safe_dump(PROFILES))
        (folder / "axis.yaml").write_text(yaml.safe_dump(EXPERIMENT))
        (folder / where).write_text(text)
        _check(folder, Path(tmp) / "out")


def test_the_unspoilt_battery_is_accepted(monkeypatch):
    """The base documents of these properties are valid, so each generated change is what is tested."""
    _refuse_to_train(monkeypatch)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "profiles.yaml").write_text(yaml.safe_dump(PROFILES))
        (folder / "axis.yaml").write_text(textwrap.dedent(yaml.safe_dump(EXPERIMENT)))
        assert _build(folder, folder / "out", None)[0] == "accepted"
