"""Stage 1: the battery as data. Load experiments/*.yaml and profiles.yaml into frozen specs.

Loading never executes code (yaml.safe_load). A bad file raises SpecError with one line that
names the file and the field.
"""
from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import shipped_folder

__all__ = [
    "SpecError", "ModelSpec", "TaskSpec", "TrainSpec", "ProbeSpec", "CellSpec", "Experiment",
    "Profile", "Battery", "load_battery", "parse_overrides", "PROFILE_NAMES", "default_experiments_dir",
]

PROFILE_NAMES = ("smoke", "quick", "standard", "full")
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class SpecError(Exception):
    """A spec file is wrong: the message is one line naming the file and the field."""


class _VariantError(Exception):
    """A variant's overrides make an invalid cell; load_battery names the variant."""

    def __init__(self, variant: str, error: ValidationError):
        super().__init__(variant)
        self.variant, self.error = variant, error


class ModelSpec(BaseModel):
    model_config = _FROZEN
    arch: Literal["rnn", "lstm", "gru", "transformer"] = "rnn"
    # Only the plain RNN uses it; gated cells have their fixed sigmoid/tanh gates.
    activation: Literal["tanh", "sigmoid", "relu", "identity"] = "tanh"
    # default = PyTorch's own; orthogonal and identity scale W_hh by `gain`;
    # forget_bias_1 and chrono are LSTM gate initialisations (Tallec & Ollivier 2018).
    init: Literal["default", "xavier", "orthogonal", "identity", "forget_bias_1", "chrono"] = "default"
    gain: float = Field(1.0, gt=0)
    hidden: int = Field(64, ge=1, le=4096)
    layers: int = Field(1, ge=1, le=8)  # transformer blocks; recurrent models have one layer
    heads: int = Field(2, ge=1, le=16)  # transformer attention heads

    @model_validator(mode="after")
    def _init_fits_arch(self) -> "ModelSpec":
        if self.init in ("forget_bias_1", "chrono") and self.arch != "lstm":
            raise ValueError(f"init {self.init!r} is an LSTM gate initialisation, not for arch {self.arch!r}")
        if self.init in ("identity", "orthogonal", "xavier") and self.arch == "transformer":
            raise ValueError(f"init {self.init!r} needs a recurrent matrix; the transformer has none")
        if self.arch == "transformer" and self.hidden % self.heads:
            raise ValueError(f"hidden {self.hidden} is not divisible by heads {self.heads}")
        return self

    def describe(self) -> str:
        """Human-readable name with the initialisation stated, as the report must."""
        init = {"default": "PyTorch default init", "xavier": "Xavier init",
                "orthogonal": f"orthogonal init, gain {self.gain:g}",
                "identity": f"identity init, gain {self.gain:g}",
                "forget_bias_1": "forget-gate bias 1", "chrono": "chrono init"}[self.init]
        if self.arch == "rnn":
            return f"RNN ({self.activation}, {init})"
        if self.arch == "transformer":
            return f"Transformer ({self.layers} layer, {self.heads} heads, causal)"
        return f"{self.arch.upper()} ({init})"


class TaskSpec(BaseModel):
    model_config = _FROZEN
    # recall: predict the class of the first of `length` one-hot tokens (chance 1/classes);
    # adding: sum of the two marked numbers (Hochreiter & Schmidhuber 1997; baseline MSE 1/6).
    # copy: Arjovsky et al. 2016, `length` is the delay (the model reads length + 20 steps).
    name: Literal["recall", "adding", "copy"] = "recall"
    length: int = Field(30, ge=2, le=10000)
    classes: int = Field(8, ge=2, le=256)
    # recall only: answer with the token this many steps before the last (default: the first token).
    lag: Optional[int] = Field(None, ge=0)

    @model_validator(mode="after")
    def _lag_fits(self) -> "TaskSpec":
        if self.lag is not None and (self.name != "recall" or self.lag > self.length - 1):
            raise ValueError(f"lag {self.lag} needs the recall task and a lag of at most length - 1 = {self.length - 1}")
        return self


class TrainSpec(BaseModel):
    model_config = _FROZEN
    steps: int = Field(1500, ge=0)  # 0 = probe at initialisation only
    # Adam is the default; plain SGD shows exploding gradients as they hit the weights.
    optimizer: Literal["adam", "sgd"] = "adam"
    batch: int = Field(64, ge=1)
    lr: float = Field(3e-3, gt=0)
    clip: Optional[float] = Field(1.0, gt=0)  # global-norm clipping threshold; null = none
    eval_every: int = Field(250, ge=1)
    log_every: int = Field(25, ge=1)
    eval_size: int = Field(1024, ge=1)


class ProbeSpec(BaseModel):
    model_config = _FROZEN
    batch: int = Field(32, ge=1)  # sequences in the gradient probe
    jacobian_samples: int = Field(4, ge=0)  # sequences whose Jacobians are formed explicitly


# The sections of a spec, by their YAML key (also the SECTION of --set SECTION.FIELD=VALUE).
SECTIONS = {"model": ModelSpec, "task": TaskSpec, "train": TrainSpec, "probe": ProbeSpec}


class CellSpec(BaseModel):
    """One run: everything that determines its records (and so its cache key)."""
    model_config = _FROZEN
    experiment: str
    variant: str
    sweep_value: Optional[float] = None
    model: ModelSpec
    task: TaskSpec
    train: TrainSpec
    probe: ProbeSpec
    seed: int

    @property
    def label(self) -> str:
        sweep = "" if self.sweep_value is None else f" {self.sweep_value:g}"
        return f"{self.experiment}/{self.variant}{sweep} seed {self.seed}"


class Experiment(BaseModel):
    """A resolved experiment (profile applied): a base configuration, named variants, one sweep."""
    model_config = _FROZEN
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    axis: str  # which battery axis (file) it belongs to
    title: str
    description: str = ""
    model: ModelSpec = ModelSpec()
    task: TaskSpec = TaskSpec()
    train: TrainSpec = TrainSpec()
    probe: ProbeSpec = ProbeSpec()
    variants: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"base": {}})
    sweep: Optional[dict[str, tuple[float, ...]]] = None  # {"task.length": (10, 30, 100)}
    seeds: int = Field(3, ge=1, le=1000)
    # The sequential design's looks for an experiment that trains: cumulative seed counts, e.g.
    # (5, 10): 5 seeds first, then up to 10 for the configurations a finding still cannot decide.
    # Empty: `seeds` seeds, one look.
    seed_rounds: tuple[int, ...] = ()
    # `--set section.field=value` from the command line: applied after the variants.
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("sweep")
    @classmethod
    def _one_sweep_field(cls, sweep):
        if sweep is not None:
            if len(sweep) != 1:
                raise ValueError("sweep takes exactly one field, e.g. {task.length: [10, 30]}")
            (path, values), = sweep.items()
            if path.count(".") != 1 or path.split(".")[0] not in SECTIONS:
                raise ValueError(f"sweep field {path!r} must look like model.gain or task.length")
            if not values:
                raise ValueError(f"sweep {path!r} has no values")
        return sweep

    @property
    def looks(self) -> int:
        return max(1, len(self.seed_rounds))

    def seeds_of_look(self, look: int) -> range:
        """The seeds a look adds: look 0 is range(seeds); look k adds the k-th round's new seeds."""
        if look == 0:
            return range(self.seeds)
        if look >= len(self.seed_rounds):
            return range(0)
        return range(self.seed_rounds[look - 1], self.seed_rounds[look])

    def cells(self, seeds: range | None = None) -> list[CellSpec]:
        """Expand variants x sweep values x seeds (default: the first look's) into validated cells."""
        seeds = range(self.seeds) if seeds is None else seeds
        sweep_path, sweep_values = (None, (None,))
        if self.sweep:
            (sweep_path, sweep_values), = self.sweep.items()
            section, name = sweep_path.split(".")
            if name in self.overrides.get(section, {}):  # --set on the swept field: that one value
                sweep_values = (self.overrides[section][name],)
        out = []
        for (variant, overrides), value, seed in itertools.product(
                self.variants.items(), sweep_values, seeds):
            cfg = {k: getattr(self, k).model_dump() for k in SECTIONS}
            _deep_merge(cfg, overrides)
            _deep_merge(cfg, self.overrides)
            if sweep_path:
                section, field = sweep_path.split(".")
                cfg[section][field] = value
            try:
                out.append(CellSpec(experiment=self.name, variant=variant, sweep_value=value,
                                    seed=seed, **cfg))
            except ValidationError as exc:
                raise _VariantError(variant, exc) from None
        return out


class Profile(BaseModel):
    model_config = _FROZEN
    description: str = ""
    seeds: Optional[int] = Field(None, ge=1)  # overrides every experiment's seed count
    # Experiments that train take their seeds in looks instead (see Experiment.seed_rounds):
    # cumulative counts, e.g. [5, 10]. Gradients at initialisation keep `seeds`.
    training_seeds: tuple[int, ...] = ()

    @field_validator("training_seeds")
    @classmethod
    def _increasing(cls, rounds):
        if any(b <= a for a, b in zip(rounds, rounds[1:])) or any(r < 1 for r in rounds):
            raise ValueError(f"training_seeds must be increasing positive seed counts, got {list(rounds)}")
        return rounds

    @property
    def looks(self) -> int:
        return max(1, len(self.training_seeds))
    steps_scale: float = Field(1.0, gt=0)  # multiplies train.steps, eval_every and log_every
    length_cap: Optional[int] = Field(None, ge=2)  # longer task lengths are cut to it (smoke)
    set: dict[str, Any] = Field(default_factory=dict)  # deep-merged into every experiment


class Battery(BaseModel):
    model_config = _FROZEN
    profile: str
    profile_spec: Profile
    experiments: tuple[Experiment, ...]

    def cells(self, only_axes: tuple[str, ...] = (), only_experiments: tuple[str, ...] = ()) -> list[CellSpec]:
        return [c for e in self.select(only_axes, only_experiments) for c in e.cells()]

    def later_cells(self, configs, look: int) -> list[CellSpec]:
        """The cells look `look` adds for these configurations (objects with experiment, variant,
        length, gain): their next round of seeds. Experiments without rounds add none."""
        wanted = {(c.experiment, c.variant, int(c.length), float(c.gain)) for c in configs}
        out = []
        for exp in self.experiments:
            if not any(w[0] == exp.name for w in wanted):
                continue
            out += [c for c in exp.cells(exp.seeds_of_look(look))
                    if (c.experiment, c.variant, c.task.length, float(c.model.gain)) in wanted]
        return out

    def select(self, only_axes=(), only_experiments=()) -> list[Experiment]:
        return [e for e in self.experiments
                if (not only_axes or e.axis in only_axes)
                and (not only_experiments or e.name in only_experiments)]

    @property
    def axes(self) -> list[str]:
        return list(dict.fromkeys(e.axis for e in self.experiments))


def default_experiments_dir() -> Path:
    """The shipped battery: inside the installed package, or the repository's top level."""
    try:
        return shipped_folder("experiments", "profiles.yaml")
    except FileNotFoundError as exc:
        raise SpecError(str(exc)) from None


def _cap_lengths(exp: Experiment, cap: int) -> Experiment:
    task = {"length": min(exp.task.length, cap)}
    if exp.task.lag is not None:  # a lag must stay inside the shortened sequence
        task["lag"] = min(exp.task.lag, cap - 1)
    update = {"task": exp.task.model_copy(update=task)}
    if exp.sweep and "task.length" in exp.sweep:
        update["sweep"] = {"task.length": tuple(dict.fromkeys(min(v, cap) for v in exp.sweep["task.length"]))}
    if exp.sweep and "task.lag" in exp.sweep:
        update["sweep"] = {"task.lag": tuple(dict.fromkeys(min(v, cap - 1) for v in exp.sweep["task.lag"]))}
    variants = {}
    for name, overrides in exp.variants.items():  # a variant's own length or lag is capped too
        task = dict(overrides.get("task") or {})
        if isinstance(task.get("length"), int):
            task["length"] = min(task["length"], cap)
        if isinstance(task.get("lag"), int):
            task["lag"] = min(task["lag"], cap - 1)
        variants[name] = {**overrides, "task": task} if "task" in overrides else overrides
    update["variants"] = variants
    return exp.model_copy(update=update)


def _deep_merge(base: dict, overrides: dict) -> dict:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}:{where} invalid YAML: {problem}") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None


def _one_line(exc: ValidationError, prefix: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if p not in ("function-after",))
    field = f"{prefix}.{loc}" if loc else prefix
    given = err.get("input")
    shown = "" if isinstance(given, (dict, list)) or err["type"] == "missing" else f" (got {given!r})"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    msg = err["msg"].removeprefix("Value error, ")
    return f"{field}: {msg}{shown}{more}"


def parse_overrides(assignments: tuple[str, ...] | list[str]) -> dict[str, dict[str, Any]]:
    """["model.hidden=128", "train.clip=null"] -> {"model": {"hidden": 128}, "train": {"clip": None}}."""
    out: dict[str, dict[str, Any]] = {}
    for text in assignments:
        path, sep, value = text.partition("=")
        section, dot, field = path.strip().partition(".")
        if not sep or not dot or section not in SECTIONS or not field:
            raise SpecError(f"--set {text!r}: expected SECTION.FIELD=VALUE with SECTION one of model, task, train, probe")
        known = SECTIONS[section].model_fields
        if field not in known:
            raise SpecError(f"--set {text!r}: {section} has no field {field!r} (fields: {', '.join(known)})")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            raise SpecError(f"--set {text!r}: cannot read the value {value!r}") from None
        try:
            SECTIONS[section](**{field: parsed})
        except ValidationError as exc:
            mine = [e for e in exc.errors() if e["loc"] and e["loc"][0] == field]
            if mine:
                raise SpecError(f"--set {text!r}: {mine[0]['msg'].removeprefix('Value error, ')}") from None
        out.setdefault(section, {})[field] = parsed
    return out


def load_battery(folder: Path | str | None = None, profile: str = "standard",
                 overrides: dict[str, dict[str, Any]] | None = None) -> Battery:
    """Read every experiments/*.yaml (one file per axis) and apply `profile` and `overrides`."""
    folder = Path(folder) if folder is not None else default_experiments_dir()
    if not folder.is_dir():
        raise SpecError(f"{folder}: experiments folder not found")
    profiles_path = folder / "profiles.yaml"
    if not profiles_path.is_file():
        raise SpecError(f"{profiles_path}: missing (it defines the profiles {', '.join(PROFILE_NAMES)})")
    raw_profiles = _read_yaml(profiles_path)
    if not isinstance(raw_profiles, dict):
        raise SpecError(f"{profiles_path}: expected a mapping of profile name to settings")
    if profile not in raw_profiles:
        raise SpecError(f"{profiles_path}: profile {profile!r} not defined (have: {', '.join(raw_profiles)})")
    try:
        prof = Profile(**(raw_profiles[profile] or {}))
    except ValidationError as exc:
        raise SpecError(f"{profiles_path}: {_one_line(exc, profile)}") from None
    except TypeError:
        raise SpecError(f"{profiles_path}: {profile}: expected a mapping of settings") from None

    experiments, names = [], {}
    files = sorted(p for p in folder.glob("*.yaml") if p.name != "profiles.yaml")
    if not files:
        raise SpecError(f"{folder}: no experiment files (*.yaml besides profiles.yaml)")
    for path in files:
        doc = _read_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("experiments"), list):
            raise SpecError(f"{path}: experiments: expected a list of experiments under the key 'experiments'")
        axis = str(doc.get("axis", path.stem))
        for i, raw in enumerate(doc["experiments"]):
            where = f"experiments[{i}]"
            if not isinstance(raw, dict):
                raise SpecError(f"{path}: {where}: expected a mapping")
            raw = copy.deepcopy(raw)
            if isinstance(raw.get("name"), str):
                where = f"experiments[{i}] ({raw['name']})"
            per_profile = raw.pop("profiles", {}) or {}
            if not isinstance(per_profile, dict) or set(per_profile) - set(raw_profiles):
                bad = sorted(set(per_profile) - set(raw_profiles)) if isinstance(per_profile, dict) else per_profile
                raise SpecError(f"{path}: {where}.profiles: unknown profile {bad}")
            for name, value in per_profile.items():
                if value is not None and not isinstance(value, dict):
                    raise SpecError(f"{path}: {where}.profiles.{name}: expected a mapping of fields to change, "
                                    f"got {value!r}")
            # The profile's `set` overrides the experiment's base configuration (variants still win).
            merged = _deep_merge(raw, {k: v for k, v in prof.set.items() if k in SECTIONS})
            _deep_merge(merged, per_profile.get(profile) or {})
            own = per_profile.get(profile) or {}
            if prof.seeds is not None and "seeds" not in own:
                merged["seeds"] = prof.seeds
            trains = (merged.get("train") or {}).get("steps", TrainSpec.model_fields["steps"].default) != 0
            if prof.training_seeds and trains and "seeds" not in own:
                merged["seeds"] = prof.training_seeds[0]
                merged["seed_rounds"] = tuple(prof.training_seeds)
            if "sweep" in merged and isinstance(merged["sweep"], dict):
                merged["sweep"] = {k: tuple(v) if isinstance(v, list) else v for k, v in merged["sweep"].items()}
            merged.setdefault("axis", axis)
            if overrides:
                merged["overrides"] = overrides
            try:
                exp = Experiment(**merged)
                train = exp.train
                if prof.steps_scale != 1.0 and not (per_profile.get(profile) or {}).get("train", {}).get("steps"):
                    scale = prof.steps_scale
                    train = train.model_copy(update={
                        "steps": int(round(train.steps * scale)),
                        "eval_every": max(1, int(round(train.eval_every * scale))),
                        "log_every": max(1, int(round(train.log_every * scale)))})
                    exp = exp.model_copy(update={"train": train})
                if prof.length_cap is not None:
                    exp = _cap_lengths(exp, prof.length_cap)
                exp.cells()  # validates every variant and sweep value now, not mid-build
            except ValidationError as exc:
                raise SpecError(f"{path}: {_one_line(exc, where)}") from None
            except _VariantError as exc:
                raise SpecError(f"{path}: {_one_line(exc.error, f'{where}.variants.{exc.variant}')}") from None
            except TypeError as exc:
                raise SpecError(f"{path}: {where}: {exc}") from None
            if exp.name in names:
                raise SpecError(f"{path}: {where}.name: {exp.name!r} already defined in {names[exp.name]}")
            names[exp.name] = path.name
            experiments.append(exp)
    return Battery(profile=profile, profile_spec=prof, experiments=tuple(experiments))
