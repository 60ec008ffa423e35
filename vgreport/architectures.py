"""The models vgreport can train: one entry per architecture, holding everything the pipeline needs to
know about it (what builds it, what a cell of it costs, how its seeds train together, what its
probes measure, how the report names and draws it). Adding a model is one entry here (`register`)
and the experiments that use it (experiments/*.yaml); ModelSpec accepts every registered name.

Torch-free: an entry's `build` imports its model class only when a model is built. This module is
code that determines a cell's records (the builders, batching): it is part of every cell's cache
key (sources.training_modules), so editing an entry recomputes the cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Architecture", "ARCHITECTURES", "register", "architecture", "build_model", "INIT_WORDS", "style_slot"]

# How the report names each initialisation (model.init); `gain` is filled in where it applies.
INIT_WORDS = {"default": "PyTorch default init", "xavier": "Xavier init", "orthogonal": "orthogonal init, gain {gain:g}",
              "identity": "identity init, gain {gain:g}", "forget_bias_1": "forget-gate bias 1", "chrono": "chrono init"}


@dataclass(frozen=True)
class Architecture:
    """One model family, as every stage sees it."""
    name: str                     # model.arch in a spec
    family: str                   # the group the overview figure draws it in ("plain RNN", "LSTM", ...)
    build: Callable[[], type]     # the SequenceModel class: cls(spec, input_size, output_size, length, per_step)
    label: Callable[[Any], str]   # the model's name with its initialisation stated (ModelSpec.describe)
    inits: tuple[str, ...] = ("default",)     # the model.init values it takes
    # Cost (runner.estimate_seconds, estimate_bytes): single-thread training steps per second at T = 100,
    # batch 64 and width `width`; float32 values per hidden unit and step that backpropagation keeps.
    steps_per_second: float = 40.0
    width: int = 64
    values_per_step: int = 16
    activation_cost: dict[str, float] = field(default_factory=dict)   # relative cost per step by activation
    attention: bool = False       # T x T attention matrices per head and layer (memory)
    # Batching (training.members_per_batch): whether cells of one batch key can train as one StackedModel,
    # the most members per batch on the CPU (0: one cell at a time, PyTorch's fused kernels) and the
    # longest sequence the CPU batches (longer: one cell at a time; None: any length).
    stackable: bool = False
    cpu_members: int = 0
    cpu_longest: int | None = None
    # Probes (probes.probe_model): a plain recurrence h = φ(W_hh h + ...): explicit per-step Jacobians,
    # W_hh's spectrum, the Pascanu bound and φ′ along the trajectories. model.activation is its φ.
    plain_recurrence: bool = False
    check: Callable[[Any], str | None] = lambda spec: None   # what else a spec of it must satisfy
    # Figures: the style slot (colour, dash pattern, marker) of each of its models, by "activation/init"
    # or "init"; `slot` otherwise (figures.style.PALETTE etc.).
    slot: int = 0
    slots: dict[str, int] = field(default_factory=dict)


ARCHITECTURES: dict[str, Architecture] = {}


def register(entry: Architecture) -> Architecture:
    """Add (or replace) an architecture under its name."""
    ARCHITECTURES[entry.name] = entry
    return entry


def architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown arch {name!r} (architectures: {', '.join(ARCHITECTURES)})") from None


def build_model(spec, input_size: int, output_size: int, length: int, per_step: bool = False):
    """The model of `spec`, built by its architecture's class; initialisation happens inside, from the
    spec. `length` is the number of steps the model reads; `per_step` puts the head on every step."""
    return architecture(spec.arch).build()(spec, input_size, output_size, length, per_step)


def style_slot(arch: str, activation: str, init: str) -> int:
    """The figures' style slot of a model: one model looks the same in every figure (records name
    the activation only for a plain recurrence)."""
    entry = ARCHITECTURES.get(arch)
    if entry is None:
        return 0
    return entry.slots.get(f"{activation}/{init}", entry.slots.get(init, entry.slot))


def _recurrent_net() -> type:
    from .models import RecurrentNet
    return RecurrentNet


def _causal_transformer() -> type:
    from .models import CausalTransformer
    return CausalTransformer


def _init(spec) -> str:
    return INIT_WORDS[spec.init].format(gain=spec.gain)


def _heads_divide(spec) -> str | None:
    return f"hidden {spec.hidden} is not divisible by heads {spec.heads}" if spec.hidden % spec.heads else None


# Steps per second: measured on a 2-core machine, recalibrated from the wall time per cell of a standard
# build from an empty cache on an idle machine (the seed-batched engine: the RNN and GRU train several
# seeds at once, the LSTM one at a time on PyTorch's fused kernel); benchmarks/budgets.py compares them
# with reality. Members per batch on the CPU: benchmarks/engine.py measured which is faster per seed
# (one thread, the battery's shapes; batched against one-by-one seed-steps per second on a 2-core EPYC VM
# shared with other work). Per seed a batch gains up to about 8 members and then stays level to 30 (it
# once fell past 10: those were page faults, see training._keep_freed_memory); 16 members bound a
# batch's memory (0.8-1.7 GB at 30 members and T=100), and larger groups train as several batches.
# Values per step: the measured peak memory of run_cell (RNN 5, LSTM 16 at batch 512, length 1000,
# width 256).
register(Architecture(
    name="rnn", family="plain RNN", build=_recurrent_net,
    label=lambda spec: f"RNN ({spec.activation}, {_init(spec)})",
    inits=("default", "xavier", "orthogonal", "identity"),
    steps_per_second=160.0, width=64, values_per_step=6,
    # batched, per step relative to tanh at T=30 (S=8): sigmoid 0.97, relu 0.94, identity 0.86
    activation_cost={"identity": 0.85},
    # tanh at T=50: 1.4x one by one at S=1, 2.3x at S=4, 2.6x at S=8-30; T=10: 3.1-3.7x at S=8-30
    stackable=True, cpu_members=16,
    plain_recurrence=True,
    slot=0, slots={"default": 0, "xavier": 4, "identity": 3, "tanh/orthogonal": 5, "sigmoid/orthogonal": 1,
                   "identity/orthogonal": 2, "relu/orthogonal": 3}))
register(Architecture(
    name="lstm", family="LSTM", build=_recurrent_net, label=lambda spec: f"LSTM ({_init(spec)})",
    inits=("default", "xavier", "orthogonal", "identity", "forget_bias_1", "chrono"),
    steps_per_second=40.0, width=64, values_per_step=16,
    # B=32, S=9 against PyTorch's CPU LSTM (oneDNN) one by one: 1.95x at T=10, 1.44x at T=20, 1.0x at
    # T=30 and 40, where the recurrent products outweigh the per-step overhead that batching shares
    stackable=True, cpu_members=16, cpu_longest=20,
    slot=1, slots={"chrono": 2, "forget_bias_1": 4}))
register(Architecture(
    name="gru", family="GRU", build=_recurrent_net, label=lambda spec: f"GRU ({_init(spec)})",
    inits=("default", "xavier", "orthogonal", "identity"),
    steps_per_second=40.0, width=64, values_per_step=12,
    stackable=True, cpu_members=16,  # T=40, B=32: 1.1x at S=1, 2.0x at S=4, 2.2-2.4x at S=8-30
    slot=3))
register(Architecture(
    name="transformer", family="attention", build=_causal_transformer,
    label=lambda spec: f"Transformer ({spec.layers} layer, {spec.heads} heads, causal)",
    inits=("default",),
    steps_per_second=68.0, width=32, values_per_step=12, attention=True,
    stackable=True, cpu_members=16,  # T=40, B=32: 1.0x at S=1, 1.4x at S=4, 1.5x at S=8-30
    check=_heads_divide,
    slot=6))
