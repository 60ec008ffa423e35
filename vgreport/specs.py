"""Stage 1: the battery as data. Load experiments/*.yaml and profiles.yaml into frozen specs.

Loading never executes code (a yaml SafeLoader) and is bounded: files of at most 1 MiB, UTF-8,
no duplicate keys, nesting and aliases limited. Types are strict (no `true` for an int, no
string for a number, floats finite) and unknown keys are errors everywhere. Every numeric field
has a range a CPU or a GPU can honour, checked on the experiment as written and again once the
profile, its own overrides and --set are applied. A bad file raises SpecError with one line
that names the file and the field.
"""
from __future__ import annotations

import copy
import itertools
import re
import reprlib
from pathlib import Path
from typing import Any, Literal, Optional, Sequence, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .architectures import architecture
from .shipped import shipped_folder

__all__ = [
    "SpecError", "ModelSpec", "TaskSpec", "TrainSpec", "ProbeSpec", "CellSpec", "Experiment",
    "Profile", "Battery", "load_battery", "parse_overrides", "PROFILE_NAMES", "default_experiments_dir",
    "MAX_CELLS", "SWEEPABLE", "MEMBER_FIELDS",
]

PROFILE_NAMES = ("smoke", "quick", "standard", "full", "gpu")
# strict: 1 is an int and 1.0 a float, never true or "1"; allow_inf_nan: .inf and .nan are refused.
_FROZEN = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

# Limits of the files themselves. Each is far above what a real battery needs.
# PyYAML parses about 10,000 values a second on a busy core, so these also bound the time to refuse.
MAX_FILE_BYTES = 256 << 10  # the largest shipped spec file is 4 KB
MAX_DEPTH = 32  # a spec nests 7 levels (file, experiments, experiment, variants, variant, section, field)
MAX_NODES = 10_000  # YAML values, also once aliases are expanded (a shipped file has about 200): no billion laughs
# Limits of the battery's shape, checked before any cell list is built.
# The first seed of a build (--seed-base): seeds run base, base + 1, ...; the data streams are
# seeded with seed·1000 + k (training.py), which stays far inside torch's 64-bit seeds.
MAX_SEED_BASE = 1_000_000_000
MAX_SEEDS = 100  # full runs 10; 100 narrows a t-interval about 3.3 times more, past what any verdict needs
MAX_VARIANTS = 50  # a figure draws one line per variant; the shipped battery has at most 6
MAX_SWEEP_VALUES = 50  # a figure draws one point per value; the shipped sweeps have at most 7
MAX_CELLS = 10_000  # full reaches 2,050 cells with all its looks; each is a pool task, a cache file, rows in figures
# Training records per cell: every log point is three records, every evaluation two (cache, metrics.csv).
MAX_LOG_POINTS = 10_000
MAX_EVALUATIONS = 1_000  # each evaluation also runs the whole held-out set


class _SpecLoader(yaml.SafeLoader):
    """yaml.safe_load, stricter: a duplicate key is an error (safe_load keeps the last one), an
    exponent without a dot is a float (1e-3, as YAML 1.2 reads it; YAML 1.1 makes it a string),
    and a document is bounded in depth and in size once its aliases are expanded."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = self._nodes = 0

    def compose_node(self, parent, index):
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:  # before recursing further: 50,000 levels never reach Python's limit
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)
            if self._nodes > MAX_NODES:  # before parsing the rest
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_NODES:,} values in one file",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor):
        node = super().compose_mapping_node(anchor)
        seen = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if (key.tag, key.value) in seen:
                    raise yaml.composer.ComposerError(None, None, f"duplicate key {key.value!r}", key.start_mark)
                seen.add((key.tag, key.value))
        return node

    def compose_document(self):
        node = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node


_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose tree, aliases expanded, is deeper than MAX_DEPTH, larger than
    MAX_NODES or recursive. Memoised per node, so the work is linear in the document's own size."""
    done: dict[int, Optional[tuple[int, int]]] = {}  # id(node) -> (values, height); None while visiting

    def refuse(problem: str, node: yaml.Node):
        raise yaml.composer.ComposerError(None, None, problem, node.start_mark)

    def visit(node: yaml.Node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            refuse(f"nested deeper than {MAX_DEPTH} levels once its aliases are expanded", node)
        if id(node) in done:
            known = done[id(node)]
            if known is None:
                refuse("an alias refers to a value that contains it", node)
            if depth + known[1] > MAX_DEPTH:
                refuse(f"nested deeper than {MAX_DEPTH} levels once its aliases are expanded", node)
            return known
        done[id(node)] = None
        children = (node.value if isinstance(node, yaml.SequenceNode)
                    else [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else [])
        total, height = 1, 0
        for child in children:
            size, child_height = visit(child, depth + 1)
            total, height = total + size, max(height, child_height + 1)
            if total > MAX_NODES:
                refuse(f"more than {MAX_NODES:,} values once its aliases are expanded", node)
        done[id(node)] = (total, height)
        return total, height

    visit(root, 1)


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict, _SHOWN.maxtuple = 2, 4, 4, 4


def _shown(value: Any) -> str:
    """repr cut to a few dozen characters: an error line quotes a value, never a whole document."""
    return _SHOWN.repr(value)


def _key(key: Any) -> str:
    """A key as a message shows it: a plain name as it is, anything else (control characters,
    spaces, numbers) as its short repr, so a message always stays on one line."""
    return key if isinstance(key, str) and re.fullmatch(r"[\w.\-\[\]]{1,64}", key, re.ASCII) else _shown(key)


def _seed_rounds(rounds: tuple[int, ...]) -> tuple[int, ...]:
    """Cumulative seed counts of the sequential looks: increasing, each within 1..MAX_SEEDS."""
    if any(b <= a for a, b in zip(rounds, rounds[1:])) or any(not 1 <= r <= MAX_SEEDS for r in rounds):
        raise ValueError(f"seed rounds must be increasing seed counts from 1 to {MAX_SEEDS}, got {list(rounds)}")
    return rounds


class SpecError(Exception):
    """A spec file is wrong: the message is one line naming the file and the field."""


class _VariantError(Exception):
    """A variant's overrides make an invalid cell; load_battery names the variant (and sweep value)."""

    def __init__(self, variant: str, error: ValidationError, note: str = ""):
        super().__init__(variant)
        self.variant, self.error, self.note = variant, error, note


class ModelSpec(BaseModel):
    model_config = _FROZEN
    # A registered architecture (vgreport/architectures.py: rnn, lstm, gru, transformer).
    arch: str = "rnn"
    # Only a plain recurrence uses it (the RNN); gated cells have their fixed sigmoid/tanh gates.
    activation: Literal["tanh", "sigmoid", "relu", "identity"] = "tanh"
    # default = PyTorch's own; orthogonal and identity scale W_hh by `gain`;
    # forget_bias_1 and chrono are LSTM gate initialisations (Tallec & Ollivier 2018).
    init: Literal["default", "xavier", "orthogonal", "identity", "forget_bias_1", "chrono"] = "default"
    # W_hh = gain·Q multiplies a linear state by `gain` per step: at 10 a float32 state overflows
    # within 40 steps, so a larger gain measures nothing but overflow.
    gain: float = Field(1.0, gt=0, le=10)
    # 4096² recurrent weights (4 such blocks in an LSTM) is far past what these tasks need; the
    # cost check bounds the time and memory of what is below.
    hidden: int = Field(64, ge=1, le=4096)
    layers: int = Field(1, ge=1, le=8)  # transformer blocks; recurrent models have one layer
    heads: int = Field(2, ge=1, le=16)  # transformer attention heads

    @field_validator("arch")
    @classmethod
    def _registered(cls, arch: str) -> str:
        architecture(arch)  # ValueError naming the registered ones
        return arch

    @model_validator(mode="after")
    def _init_fits_arch(self) -> "ModelSpec":
        entry = architecture(self.arch)
        if self.init not in entry.inits:
            gates = ("forget_bias_1", "chrono")
            why = ("an LSTM gate initialisation" if self.init in gates else "needs a recurrent matrix"
                   if self.init in ("identity", "orthogonal", "xavier") else "not implemented for it")
            raise ValueError(f"init {self.init!r} ({why}) does not fit arch {self.arch!r}, which takes "
                             f"{', '.join(entry.inits)}")
        problem = entry.check(self)
        if problem:
            raise ValueError(problem)
        return self

    def describe(self) -> str:
        """Human-readable name with the initialisation stated, as the report must."""
        return architecture(self.arch).label(self)


class TaskSpec(BaseModel):
    model_config = _FROZEN
    # recall: predict the class of the first of `length` one-hot tokens (chance 1/classes);
    # adding: sum of the two marked numbers (Hochreiter & Schmidhuber 1997; baseline MSE 1/6).
    # copy: Arjovsky et al. 2016, `length` is the delay (the model reads length + 20 steps).
    name: Literal["recall", "adding", "copy"] = "recall"
    # The longest delays studied for this problem are a few thousand steps (copy task, T up to
    # 2000, Arjovsky et al. 2016); the cost check bounds what a given model can take.
    length: int = Field(30, ge=2, le=10_000)
    classes: int = Field(8, ge=2, le=256)  # one-hot inputs and outputs; 256 is a byte alphabet
    # recall only: answer with the token this many steps before the last (default: the first token).
    lag: Optional[int] = Field(None, ge=0, le=9_999)

    @model_validator(mode="after")
    def _lag_fits(self) -> "TaskSpec":
        if self.lag is not None and (self.name != "recall" or self.lag > self.length - 1):
            raise ValueError(f"lag {self.lag} needs the recall task and a lag of at most length - 1 = {self.length - 1}")
        return self


class TrainSpec(BaseModel):
    model_config = _FROZEN
    # 0 = probe at initialisation only. A million updates is hours on a GPU even for a tiny
    # model and over 100 times the largest budget here (full: 8,000).
    steps: int = Field(1500, ge=0, le=1_000_000)
    # Adam is the default; plain SGD shows exploding gradients as they hit the weights.
    optimizer: Literal["adam", "sgd"] = "adam"
    batch: int = Field(64, ge=1, le=4096)  # memory grows with it; these tasks use 20 to 256
    lr: float = Field(3e-3, gt=0, le=10)  # above 10 every optimiser here diverges on its first updates
    # Global-norm clipping threshold; null = none. Above 1e6 it would never act: write null.
    clip: Optional[float] = Field(1.0, gt=0, le=1e6)
    eval_every: int = Field(250, ge=1, le=1_000_000)
    log_every: int = Field(25, ge=1, le=1_000_000)
    # The held-out set is generated at once: sequences x steps x inputs floats (the memory check
    # bounds the product); 65,536 sequences give accuracies to about ±0.4 percentage points.
    eval_size: int = Field(1024, ge=1, le=65_536)

    @model_validator(mode="after")
    def _records_bounded(self) -> "TrainSpec":
        if self.steps // self.log_every > MAX_LOG_POINTS:
            raise ValueError(f"log_every {self.log_every} logs {self.steps // self.log_every:,} points over "
                             f"{self.steps:,} steps; at most {MAX_LOG_POINTS:,} (raise log_every)")
        if self.steps // self.eval_every > MAX_EVALUATIONS:
            raise ValueError(f"eval_every {self.eval_every} evaluates {self.steps // self.eval_every:,} times over "
                             f"{self.steps:,} steps; at most {MAX_EVALUATIONS:,} (raise eval_every)")
        return self


class ProbeSpec(BaseModel):
    model_config = _FROZEN
    # Sequences in the gradient probe: float64 on an unrolled graph, one backward pass per output.
    batch: int = Field(32, ge=1, le=1024)
    # Sequences whose Jacobians are formed explicitly: each a hidden x hidden product and its SVD per step.
    jacobian_samples: int = Field(4, ge=0, le=64)


# The sections of a spec, by their YAML key (also the SECTION of --set SECTION.FIELD=VALUE).
SECTIONS = {"model": ModelSpec, "task": TaskSpec, "train": TrainSpec, "probe": ProbeSpec}
# The fields a sweep may vary, and the record column that carries each (schema.cell_columns): a
# configuration is its experiment, variant and these values (configs.Config), so every sweep value
# stays apart in every table, figure and verdict. A field the records do not carry (train.lr,
# task.lag, model.heads, ...) is varied with variants, whose names the records carry.
SWEEPABLE = {"task.length": "length", "model.gain": "gain", "model.hidden": "hidden", "train.steps": "budget"}
# The fields in which the members of one training batch may differ (CellSpec.batch_key): each sets only
# a member's own initial weights (model.init, model.gain), its own data (the seed, task.lag: which token
# is the answer), its own clipping (train.clip, none included: the threshold is applied per member), what
# is probed of it (probe: per member, on its own plain model) or a label. Every other field fixes the
# tensors' shapes or the arithmetic of the training loop (the architecture and its activation, the width,
# the task and its length, the batch, the steps, the optimiser and its learning rate, the evaluation
# and logging schedule), which one batch shares.
MEMBER_FIELDS = ("experiment", "variant", "sweep_value", "seed", "model.init", "model.gain", "task.lag",
                 "train.clip", "probe")


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

    @property
    def configuration(self) -> tuple:
        """Its experiment, variant and the value of every SWEEPABLE field: configs.Config's fields."""
        return (self.experiment, self.variant,
                *(getattr(getattr(self, section), name) for section, name in (p.split(".") for p in SWEEPABLE)))

    @property
    def batch_key(self) -> tuple:
        """What the cells of one training batch share (training.run_group, runner.work_units): every
        field as (path, value) pairs, the MEMBER_FIELDS left out."""
        flat = {}
        for name, value in self.model_dump(mode="json").items():
            items = value.items() if isinstance(value, dict) else [(None, value)]
            flat.update({name if sub is None else f"{name}.{sub}": v for sub, v in items})
        return tuple((path, value) for path, value in flat.items()
                     if path not in MEMBER_FIELDS and path.split(".")[0] not in MEMBER_FIELDS)


class Experiment(BaseModel):
    """A resolved experiment (profile applied): a base configuration, named variants, one sweep."""
    model_config = _FROZEN
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    axis: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)  # the battery axis (file) it is on
    title: str
    description: str = ""
    model: ModelSpec = ModelSpec()
    task: TaskSpec = TaskSpec()
    train: TrainSpec = TrainSpec()
    probe: ProbeSpec = ProbeSpec()
    variants: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"base": {}}, min_length=1,
                                                max_length=MAX_VARIANTS)
    # {"task.length": (10, 30, 100)}: ints stay ints (an int field takes no 30.0).
    sweep: Optional[dict[str, tuple[Union[int, float], ...]]] = None
    seeds: int = Field(3, ge=1, le=MAX_SEEDS)
    # The sequential design's looks for an experiment that trains: cumulative seed counts, e.g.
    # (5, 10): 5 seeds first, then up to 10 for the configurations a finding still cannot decide.
    # Empty: `seeds` seeds, one look.
    seed_rounds: tuple[int, ...] = ()
    # `--seed-base N` from the command line: the seeds are N, N + 1, ... (seed indices 0, 1, ...
    # plus this). The seed enters each cell, so other seeds are other cells in the cache.
    seed_base: int = Field(0, ge=0, le=MAX_SEED_BASE)
    # `--set section.field=value` from the command line: applied after the variants.
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("sweep", "seed_rounds", mode="before")
    @classmethod
    def _lists_are_tuples(cls, value):
        if isinstance(value, list):
            return tuple(value)
        if isinstance(value, dict):
            return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
        return value

    @field_validator("sweep")
    @classmethod
    def _one_sweep_field(cls, sweep):
        if sweep is not None:
            if len(sweep) != 1:
                raise ValueError("sweep takes exactly one field, e.g. {task.length: [10, 30]}")
            (path, values), = sweep.items()
            if path.count(".") != 1 or path.split(".")[0] not in SECTIONS:
                raise ValueError(f"sweep field {path!r} must look like model.gain or task.length")
            if path not in SWEEPABLE:
                raise ValueError(f"sweep field {path!r}: the records carry no column for it, so its values' cells "
                                 f"could not be told apart; sweep one of {', '.join(SWEEPABLE)}, or give each value "
                                 "a variant")
            if not values:
                raise ValueError(f"sweep {path!r} has no values")
            if len(values) > MAX_SWEEP_VALUES:
                raise ValueError(f"sweep {path!r} has {len(values):,} values; at most {MAX_SWEEP_VALUES}")
        return sweep

    @field_validator("seed_rounds")
    @classmethod
    def _rounds_increase(cls, rounds):
        return _seed_rounds(rounds)

    @model_validator(mode="after")
    def _cells_bounded(self) -> "Experiment":
        if self.n_cells > MAX_CELLS:
            values = len(next(iter(self.sweep.values()))) if self.sweep else 1
            raise ValueError(f"{self.n_cells:,} cells ({len(self.variants)} variants x {values} sweep values x "
                             f"{self.most_seeds} seeds); at most {MAX_CELLS:,}")
        return self

    @property
    def most_seeds(self) -> int:
        """The seeds of the last look: what the experiment can grow to."""
        return max((self.seeds, *self.seed_rounds))

    @property
    def n_cells(self) -> int:
        """Variants x sweep values x seeds (the last look's), without building them."""
        values = len(next(iter(self.sweep.values()))) if self.sweep else 1
        return len(self.variants) * values * self.most_seeds

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
        return self._expand(range(self.seeds) if seeds is None else seeds)

    def check(self) -> None:
        """Validate every variant and sweep value now, not mid-build (seeds change no field's validity)."""
        self._expand(range(1))

    def _expand(self, seeds: range) -> list[CellSpec]:
        sweep_path, sweep_values = (None, (None,))
        if self.sweep:
            (sweep_path, sweep_values), = self.sweep.items()
            section, name = sweep_path.split(".")
            if name in self.overrides.get(section, {}):  # --set on the swept field: that one value
                sweep_values = (self.overrides[section][name],)
        out = []
        for (variant, overrides), value, seed in itertools.product(self.variants.items(), sweep_values, seeds):
            cfg = {k: getattr(self, k).model_dump() for k in SECTIONS}
            _deep_merge(cfg, overrides)
            _deep_merge(cfg, self.overrides)
            if sweep_path:
                section, field = sweep_path.split(".")
                if isinstance(cfg.get(section), dict):
                    cfg[section][field] = value
            try:
                out.append(CellSpec(experiment=self.name, variant=variant, sweep_value=value,
                                    seed=self.seed_base + seed, **cfg))
            except ValidationError as exc:
                note = "" if value is None else f" (at {sweep_path} = {_shown(value)})"
                raise _VariantError(variant, exc, note) from None
            except TypeError as exc:  # a variant key that is not a name
                raise SpecError(f"variants.{_key(variant)}: {exc}") from None
        return out


class Profile(BaseModel):
    model_config = _FROZEN
    description: str = ""
    seeds: Optional[int] = Field(None, ge=1, le=MAX_SEEDS)  # overrides every experiment's seed count
    # Experiments that train take their seeds in looks instead (see Experiment.seed_rounds):
    # cumulative counts, e.g. [5, 10]. Gradients at initialisation keep `seeds`.
    training_seeds: tuple[int, ...] = ()
    # Multiplies train.steps, eval_every and log_every. full uses 2; 100 times the standard budget
    # is days of a CPU, and the scaled steps must still be within train.steps' range.
    steps_scale: float = Field(1.0, gt=0, le=100)
    length_cap: Optional[int] = Field(None, ge=2, le=10_000)  # longer task lengths are cut to it (smoke)
    set: dict[str, Any] = Field(default_factory=dict)  # deep-merged into every experiment; checked field by field

    @field_validator("training_seeds", mode="before")
    @classmethod
    def _list_is_tuple(cls, value):
        return tuple(value) if isinstance(value, list) else value

    @field_validator("training_seeds")
    @classmethod
    def _increasing(cls, rounds):
        return _seed_rounds(rounds)

    @property
    def looks(self) -> int:
        return max(1, len(self.training_seeds))


class Battery(BaseModel):
    model_config = _FROZEN
    profile: str
    profile_spec: Profile
    experiments: tuple[Experiment, ...]
    seed_base: int = Field(0, ge=0, le=MAX_SEED_BASE)  # the first seed of every experiment (--seed-base)

    def cells(self, only_axes: tuple[str, ...] = (), only_experiments: tuple[str, ...] = ()) -> list[CellSpec]:
        return [c for e in self.select(only_axes, only_experiments) for c in e.cells()]

    def later_cells(self, configs, look: int) -> list[CellSpec]:
        """The cells look `look` adds for these configurations (configs.Config): their next round of
        seeds. Experiments without rounds add none."""
        wanted = {(c.experiment, c.variant, *(getattr(c, column) for column in SWEEPABLE.values())) for c in configs}
        names = {w[0] for w in wanted}
        return [c for exp in self.experiments if exp.name in names
                for c in exp.cells(exp.seeds_of_look(look)) if c.configuration in wanted]

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


def _scale_steps(exp: Experiment, scale: float) -> Experiment:
    """steps_scale on the base budget and on every variant's own (a variant cannot escape it)."""
    def scaled(train: dict) -> dict:
        out = dict(train)
        for key in ("steps", "eval_every", "log_every"):
            if isinstance(out.get(key), int) and not isinstance(out[key], bool):
                out[key] = int(round(out[key] * scale)) if key == "steps" else max(1, int(round(out[key] * scale)))
        return out
    train = exp.train.model_copy(update=scaled(exp.train.model_dump()))
    variants = {name: {**v, "train": scaled(v["train"])} if isinstance(v.get("train"), dict) else v
                for name, v in exp.variants.items()}
    return exp.model_copy(update={"train": train, "variants": variants})


def _cap_lengths(exp: Experiment, cap: int) -> Experiment:
    """length_cap on the base, the sweep and every variant (a variant's length cannot escape it)."""
    def capped(task: dict) -> dict:
        out = dict(task)
        if isinstance(out.get("length"), int):
            out["length"] = min(out["length"], cap)
        if isinstance(out.get("lag"), int):  # a lag must stay inside the shortened sequence
            out["lag"] = min(out["lag"], cap - 1)
        return out
    update: dict[str, Any] = {"task": exp.task.model_copy(update=capped(exp.task.model_dump(exclude_none=True)))}
    update["variants"] = {name: {**v, "task": capped(v["task"])} if isinstance(v.get("task"), dict) else v
                          for name, v in exp.variants.items()}
    if exp.sweep and "task.length" in exp.sweep:
        update["sweep"] = {"task.length": tuple(dict.fromkeys(min(v, cap) for v in exp.sweep["task.length"]))}
    return exp.model_copy(update=update)


def _deep_merge(base: dict, overrides: dict) -> dict:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _load_text(text: str) -> Any:
    return yaml.load(text, Loader=_SpecLoader)  # noqa: S506 - _SpecLoader is a SafeLoader


def _read_yaml(path: Path) -> Any:
    try:
        if not path.is_file():
            raise SpecError(f"{path}: not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # never more, whatever the file claims to be
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"{path}: larger than {MAX_FILE_BYTES >> 10} KiB; a spec file is a few kilobytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        looks = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise SpecError(f"{path}: not UTF-8 text{looks}: byte {exc.start} cannot be decoded; "
                        f"save the file as UTF-8") from None
    try:
        return _load_text(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}:{where} invalid YAML: {problem}") from None


def _one_line(exc: ValidationError, prefix: str) -> str:
    err = exc.errors()[0]
    # pydantic's own steps (a union member "int", a "function-after[...]") are not fields
    loc = ".".join(_key(p) for p in err["loc"] if p not in ("int", "float", "str", "bool")
                   and not (isinstance(p, str) and p.startswith("function-")))
    field = f"{prefix}.{loc}" if loc else prefix
    given = err.get("input")
    shown = "" if isinstance(given, (dict, list)) or err["type"] == "missing" else f" (got {_shown(given)})"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    msg = err["msg"].removeprefix("Value error, ")
    return f"{field}: {msg}{shown}{more}"


def _section_problem(section: Any, fields: Any) -> tuple[str, str] | None:
    """What is wrong with a partial section (a profile's `set`, an --set): (where, problem) or None.
    Each field is checked alone (type and range); combinations are checked on the resolved cells."""
    if section not in SECTIONS:
        return _key(section), f"unknown section (sections: {', '.join(SECTIONS)})"
    if not isinstance(fields, dict):
        return section, f"expected a mapping of fields to values, got {_shown(fields)}"
    known = SECTIONS[section].model_fields
    for name, value in fields.items():
        if name not in known:
            return f"{section}.{_key(name)}", f"unknown field ({section} has {', '.join(known)})"
        try:
            SECTIONS[section](**{name: value})
        except ValidationError as exc:
            mine = [e for e in exc.errors() if e["loc"] and e["loc"][0] == name]
            if mine:
                return f"{section}.{name}", (f"{mine[0]['msg'].removeprefix('Value error, ')} "
                                             f"(got {_shown(value)})")
    return None


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
            parsed = _load_text(value)
        except yaml.YAMLError:
            raise SpecError(f"--set {text!r}: cannot read the value {value!r}") from None
        problem = _section_problem(section, {field: parsed})
        if problem:
            raise SpecError(f"--set {text!r}: {problem[1]}")
        out.setdefault(section, {})[field] = parsed
    return out


def _read_profiles(path: Path) -> dict[str, Profile]:
    """Every profile of profiles.yaml, each checked (a typo under `full` fails a smoke build too)."""
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not raw:
        raise SpecError(f"{path}: expected a mapping of profile name to settings")
    profiles = {}
    for name, settings in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
            raise SpecError(f"{path}: {_shown(name)}: a profile name is a lower-case word")
        if not isinstance(settings, dict):
            raise SpecError(f"{path}: {name}: expected a mapping of settings (description, seeds, steps_scale, "
                            f"length_cap, set), got {_shown(settings)}")
        bad = [k for k in settings if not isinstance(k, str)]
        if bad:
            raise SpecError(f"{path}: {name}.{_key(bad[0])}: unknown setting")
        try:
            profile = Profile(**settings)
        except ValidationError as exc:
            raise SpecError(f"{path}: {_one_line(exc, name)}") from None
        for section, fields in profile.set.items():
            problem = _section_problem(section, fields)
            if problem:
                raise SpecError(f"{path}: {name}.set.{problem[0]}: {problem[1]}")
        profiles[name] = profile
    return profiles


def _experiment(path: Path, where: str, data: dict, profile: Profile | None = None, mine: dict | None = None,
                context: str = "") -> Experiment:
    """Experiment(**data), with the profile's steps_scale and length_cap when given, every variant
    and sweep value validated; any problem is one SpecError line naming file and field."""
    try:
        exp = Experiment(**data)
        if profile is not None and profile.steps_scale != 1.0 and not (mine or {}).get("train", {}).get("steps"):
            exp = _scale_steps(exp, profile.steps_scale)
        if profile is not None and profile.length_cap is not None:
            exp = _cap_lengths(exp, profile.length_cap)
        exp.check()
    except ValidationError as exc:
        raise SpecError(f"{path}: {_one_line(exc, where)}{context}") from None
    except _VariantError as exc:
        raise SpecError(f"{path}: {_one_line(exc.error, f'{where}.variants.{_key(exc.variant)}')}{exc.note}{context}") from None
    except SpecError as exc:
        raise SpecError(f"{path}: {where}.{exc}") from None
    return exp


def _resolve(path: Path, where: str, raw: Any, axis: str, profiles: dict[str, Profile], profile: str,
             overrides: dict | None, seed_base: int = 0) -> Experiment:
    """One experiment: checked as written, under each of its own profile overrides, then resolved."""
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: {where}: expected a mapping")
    bad = [k for k in raw if not isinstance(k, str)]
    if bad:
        raise SpecError(f"{path}: {where}.{_key(bad[0])}: unknown key")
    for key, option in (("overrides", "--set"), ("seed_base", "--seed-base")):  # command-line fields
        if key in raw:
            raise SpecError(f"{path}: {where}.{key}: unknown key (use {option} on the command line)")
    raw = dict(raw)
    per_profile = raw.pop("profiles", None) or {}
    if not isinstance(per_profile, dict) or set(per_profile) - set(profiles):
        unknown = sorted(map(str, set(per_profile) - set(profiles))) if isinstance(per_profile, dict) else per_profile
        raise SpecError(f"{path}: {where}.profiles: unknown profile {_shown(unknown)}")
    for name, value in per_profile.items():
        if value is not None and not isinstance(value, dict):
            raise SpecError(f"{path}: {where}.profiles.{_key(name)}: expected a mapping of fields to change, "
                            f"got {_shown(value)}")
    raw.setdefault("axis", axis)
    # As written: a profile's `set` must not hide an invalid base value (hidden: -1 under smoke).
    _experiment(path, where, raw)
    for name, extra in per_profile.items():
        _experiment(path, f"{where}.profiles.{name}", _deep_merge(copy.deepcopy(raw), extra or {}))
    # The profile applied: its `set` overrides the base (variants still win), then its own
    # overrides, seeds, steps_scale and length_cap, and --set.
    prof, mine = profiles[profile], per_profile.get(profile) or {}
    merged = _deep_merge(copy.deepcopy(raw), copy.deepcopy(prof.set))
    _deep_merge(merged, mine)
    if prof.seeds is not None and "seeds" not in mine:
        merged["seeds"] = prof.seeds
    trains = (merged.get("train") or {}).get("steps", TrainSpec.model_fields["steps"].default) != 0
    if prof.training_seeds and trains and "seeds" not in mine:
        merged["seeds"] = prof.training_seeds[0]
        merged["seed_rounds"] = tuple(prof.training_seeds)
    if overrides:
        merged["overrides"] = overrides
    if seed_base:
        merged["seed_base"] = seed_base
    context = f" (with the {profile} profile" + (" and --set)" if overrides else ")")
    return _experiment(path, where, merged, prof, mine, context)


def load_battery(folder: Path | str | None = None, profile: str = "standard",
                 overrides: dict[str, dict[str, Any]] | None = None,
                 overrides_for: Sequence[str] | None = None, seed_base: int = 0) -> Battery:
    """Read every experiments/*.yaml (one file per axis) and apply `profile` and `overrides`
    (to the experiments named in `overrides_for` only, when given: `run` changes the experiment it
    runs, so an override another experiment cannot take must not refuse it); seeds run from `seed_base`."""
    if isinstance(seed_base, bool) or not isinstance(seed_base, int) or not 0 <= seed_base <= MAX_SEED_BASE:
        raise SpecError(f"--seed-base {seed_base}: must be a whole number from 0 to {MAX_SEED_BASE:,}")
    folder = Path(folder) if folder is not None else default_experiments_dir()
    if not folder.is_dir():
        raise SpecError(f"{folder}: experiments folder not found")
    profiles_path = folder / "profiles.yaml"
    if not profiles_path.exists():
        raise SpecError(f"{profiles_path}: missing (it defines the profiles {', '.join(PROFILE_NAMES)})")
    profiles = _read_profiles(profiles_path)
    if profile not in profiles:
        raise SpecError(f"{profiles_path}: profile {profile!r} not defined (have: {', '.join(profiles)})")

    experiments, names, total = [], {}, 0
    files = sorted(p for p in folder.glob("*.yaml") if p.name != "profiles.yaml")
    if not files:
        raise SpecError(f"{folder}: no experiment files (*.yaml besides profiles.yaml)")
    for path in files:
        doc = _read_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("experiments"), list):
            raise SpecError(f"{path}: experiments: expected a list of experiments under the key 'experiments'")
        if not doc["experiments"]:  # an empty battery would build a report that measures nothing
            raise SpecError(f"{path}: experiments: an empty list (list at least one experiment, or remove the file)")
        unknown = [k for k in doc if k not in ("axis", "experiments")]
        if unknown:
            raise SpecError(f"{path}: {_key(unknown[0])}: unknown key (an experiment file has axis and experiments)")
        axis = doc.get("axis", path.stem)
        for i, raw in enumerate(doc["experiments"]):
            where = f"experiments[{i}]"
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                where = f"experiments[{i}] ({_shown(raw['name'])[1:-1]})"
            applies = overrides_for is None or (isinstance(raw, dict) and raw.get("name") in overrides_for)
            exp = _resolve(path, where, raw, axis, profiles, profile, overrides if applies else None, seed_base)
            if exp.name in names:
                raise SpecError(f"{path}: {where}.name: {exp.name!r} already defined in {names[exp.name]}")
            names[exp.name] = path.name
            total += exp.n_cells
            if total > MAX_CELLS:
                raise SpecError(f"{path}: {where}: the battery reaches {total:,} cells with the {profile} profile; "
                                f"at most {MAX_CELLS:,}")
            experiments.append(exp)
    return Battery(profile=profile, profile_spec=profiles[profile], experiments=tuple(experiments),
                   seed_base=seed_base)
