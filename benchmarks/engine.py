"""Training throughput in seed-steps per second: the batched engine, one cell at a time, a plain loop.

    python benchmarks/engine.py                      # shapes: S = 1, 8, 16, 32; every architecture
    python benchmarks/engine.py --quick              # S = 1, 8 and fewer steps (a minute or two)
    python benchmarks/engine.py --seeds 4,16 --archs "rnn tanh,lstm" --threads 1
    python benchmarks/engine.py --workloads          # the standard battery's training experiments, 8 seeds
    python benchmarks/engine.py --workloads init,gain_train --workload-seeds 4

Shapes: the recall task at T=100 (8 classes), hidden 64 (transformer 32), batch 64, Adam 3e-3,
clipping at 1.0, as in the battery. Each measurement times training steps only (data, forward,
backward, clipping, optimiser; no evaluation or probes):
  batched     S members as one StackedModel (training._StackedTrainer, what run_group uses)
  one-by-one  run_cell's training loop for one seed (training._FusedTrainer): fused kernels where they exist
  plain       a hand-written PyTorch loop of the same shape (nn.RNN/LSTM/GRU or nn.TransformerEncoder,
              a Python step for activations without a fused kernel, a linear head) on the task's own
              batches and loss (vgreport.tasks), clipped with clip_grad_norm_

Workloads: the cells of one experiment of the standard profile (every configuration, the first
--workload-seeds seeds), each timed the three ways: plain and one-by-one cell after cell, and the
engine as the runner and run_group group them (runner.work_units, then batches of at most
members_per_batch), seed-steps per second over the whole experiment; the last row weighs each
experiment by its training budget (cells x steps), and the CPU seconds of those steps follow. Run it
under an older checkout (PYTHONPATH=that/checkout) for the engine before a change: it uses only what
both provide (a checkout without training._keep_freed_memory runs with glibc's default allocator, as
a user's plain script does).

Rates are per CPU second of this process (user and system time: page faults count), which a
shared machine disturbs far less than wall time; the three run interleaved, round after round,
and the table shows each one's median.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
from torch import nn

from vgreport import training
from vgreport.runner import work_units
from vgreport.specs import CellSpec, ModelSpec, ProbeSpec, TaskSpec, TrainSpec, default_experiments_dir, load_battery
from vgreport.tasks import input_size, make_batch, output_size, per_step_output, task_loss
from vgreport.training import _FusedTrainer, _Member, _StackedTrainer, members_per_batch

ARCHS = {
    "rnn tanh": {"arch": "rnn", "activation": "tanh"},
    "rnn sigmoid": {"arch": "rnn", "activation": "sigmoid"},
    "rnn identity": {"arch": "rnn", "activation": "identity"},
    "lstm": {"arch": "lstm"},
    "gru": {"arch": "gru"},
    "transformer": {"arch": "transformer", "hidden": 32, "heads": 2},
}
LENGTH, HIDDEN, BATCH, CLASSES = 100, 64, 64, 8
# The standard battery's experiments that train (gain_sweep and gain_sweep_sigmoid only probe at initialisation).
WORKLOADS = ("activation", "architecture", "lstm_tuning", "clip_exploding", "clip_vanishing", "init", "gain_train",
             "recall_length", "recall_lag", "adding_length", "copy", "budget")


def _cell(model: dict, seed: int) -> CellSpec:
    return CellSpec(experiment="bench", variant="base", seed=seed, model=ModelSpec(**{"hidden": HIDDEN, **model}),
                    task=TaskSpec(name="recall", length=LENGTH, classes=CLASSES),
                    train=TrainSpec(steps=1000, batch=BATCH), probe=ProbeSpec())


def _cpu_seconds() -> float:
    return time.process_time()


def _rate(timed) -> float:
    """Seed-steps per second over several timed pieces (seed-steps, CPU seconds): their sums' ratio."""
    pieces = list(timed)
    return sum(n for n, _ in pieces) / sum(seconds for _, seconds in pieces)


def _train_time(cells: list[CellSpec], device: str, steps: int, batched: bool) -> tuple[int, float]:
    """(seed-steps, CPU seconds) of the project's own training step, `cells` as one batch or one cell,
    after one untimed step. As in training._run, a member stops at its first non-finite loss or
    gradient norm (the no_clip arm of clip_exploding does within a few steps); seed-steps count the
    members' finite steps."""
    members = [_Member(cell) for cell in cells]
    trainer = (_StackedTrainer if batched else _FusedTrainer)(members, device)
    alive = list(members)

    def step() -> int:
        nonlocal alive
        losses, norms = trainer.step([make_batch(m.cell.task, m.cell.train.batch, m.g_train) for m in alive])
        alive = [m for m, loss, norm in zip(alive, losses, norms) if math.isfinite(loss) and math.isfinite(norm)]
        return len(alive)

    step()  # warm-up: allocations, kernel selection
    done, started = 0, _cpu_seconds()
    for _ in range(steps):
        if not alive:
            break
        done += step()
    return done, _cpu_seconds() - started


class _PlainNet(nn.Module):
    """What a user would write: the fused module where PyTorch has one, else a Python loop over time;
    a linear head on the last step (or on every step, for the copy task)."""

    def __init__(self, model: ModelSpec, inputs: int, outputs: int, per_step: bool):
        super().__init__()
        self.arch, self.activation, self.per_step, hidden = model.arch, model.activation, per_step, model.hidden
        if self.arch == "transformer":
            self.embed = nn.Linear(inputs, hidden)
            layer = nn.TransformerEncoderLayer(hidden, model.heads, 2 * hidden, dropout=0.0, batch_first=True,
                                               norm_first=True)
            self.body = nn.TransformerEncoder(layer, model.layers, enable_nested_tensor=False)
        elif self.arch == "rnn" and self.activation in ("sigmoid", "identity"):
            self.cell = nn.Linear(inputs + hidden, hidden)
        else:
            kwargs = {"nonlinearity": self.activation} if self.arch == "rnn" else {}
            self.body = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[self.arch](inputs, hidden, batch_first=True,
                                                                                  **kwargs)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x):
        if self.arch == "transformer":
            mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device)
            states = self.body(self.embed(x), mask=mask, is_causal=True)
        elif hasattr(self, "cell"):
            f = torch.sigmoid if self.activation == "sigmoid" else (lambda a: a)
            h, states = x.new_zeros(x.shape[0], self.head.in_features), []
            for x_t in x.unbind(1):
                h = f(self.cell(torch.cat([x_t, h], dim=1)))
                states.append(h)
            states = torch.stack(states, dim=1)
        else:
            states = self.body(x)[0]
        return self.head(states if self.per_step else states[:, -1])


def _plain_time(cell: CellSpec, device: str, steps: int) -> tuple[int, float]:
    """(steps, CPU seconds) of a plain PyTorch loop training one cell of this shape, after one untimed
    step: the same task batches and loss (vgreport.tasks), a plain model (PyTorch's default
    initialisation), clip_grad_norm_, the optimiser; every step, as a plain loop does."""
    task, train = cell.task, cell.train
    torch.manual_seed(cell.seed)
    net = _PlainNet(cell.model, input_size(task), output_size(task), per_step_output(task)).to(device)
    optimiser = (torch.optim.Adam if train.optimizer == "adam" else torch.optim.SGD)(net.parameters(), lr=train.lr)
    generator = torch.Generator().manual_seed(cell.seed)

    def step():
        x, y = make_batch(task, train.batch, generator)
        loss = task_loss(task, net(x.to(device)), y.to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), math.inf if train.clip is None else train.clip)
        optimiser.step()
        loss.item()

    step()
    started = _cpu_seconds()
    for _ in range(steps):
        step()
    return steps, _cpu_seconds() - started


def _batches(cells: list[CellSpec], device: str) -> list[tuple[list[CellSpec], bool]]:
    """The batches the runner and run_group train these cells in: (cells, batched) per batch."""
    out = []
    for unit in work_units(cells, workers=1):
        group = [cells[i] for i in unit]
        size = members_per_batch(group[0], device, len(group))
        if not size:
            out += [([cell], False) for cell in group]
            continue
        pieces = math.ceil(len(group) / size)
        out += [(group[k * len(group) // pieces:(k + 1) * len(group) // pieces], True) for k in range(pieces)]
    return out


def workloads(names: list[str], seeds: int, device: str, steps: int, rounds: int) -> None:
    battery = load_battery(default_experiments_dir(), "standard")
    experiments = {e.name: e for e in battery.experiments}
    print(f"workloads: the standard profile's experiments at {seeds} seeds; seed-steps/s over the whole "
          f"experiment (median of {rounds} interleaved rounds)")
    print(f"{'device':<6} {'experiment':<18} {'cells':>5} {'batches':>16} {'engine':>8} {'one-by-one':>10} "
          f"{'plain':>7} {'engine/one':>10} {'engine/plain':>12}")
    budget, seconds = 0, {"engine": 0.0, "one": 0.0, "plain": 0.0}  # over all: seed-steps, CPU seconds
    for name in names:
        cells = [c for c in experiments[name].cells(range(seeds)) if c.train.steps]
        batches = _batches(cells, device)
        sizes = sorted((len(b) for b, batched in batches if batched), reverse=True)
        alone = sum(1 for _, batched in batches if not batched)
        shown = "+".join(map(str, sizes)) + (f" +{alone}x1" if alone else "")
        rates = {"engine": [], "one": [], "plain": []}
        for _ in range(rounds):
            rates["engine"].append(_rate(_train_time(b, device, steps, batched) for b, batched in batches))
            rates["one"].append(_rate(_train_time([c], device, steps, False) for c in cells))
            rates["plain"].append(_rate(_plain_time(c, device, steps) for c in cells))
        medians = {way: statistics.median(v) for way, v in rates.items()}
        e, o, p = medians.values()
        print(f"{device:<6} {name:<18} {len(cells):>5} {shown:>16} {e:>8.1f} {o:>10.1f} {p:>7.1f} {e / o:>10.2f} "
              f"{e / p:>12.2f}", flush=True)
        # The experiment's whole training budget at these rates (its cells' steps: 500 to 4000).
        steps_here = sum(c.train.steps for c in cells)
        budget += steps_here
        for way, rate in medians.items():
            seconds[way] += steps_here / rate
    if len(names) > 1:
        e, o, p = (budget / seconds[way] for way in ("engine", "one", "plain"))
        print(f"{device:<6} {'all, by budget':<18} {'':>5} {'':>16} {e:>8.1f} {o:>10.1f} {p:>7.1f} {e / o:>10.2f} "
              f"{e / p:>12.2f}")
        print(f"training steps of these cells at these rates, CPU seconds: engine {seconds['engine']:.0f}, "
              f"one-by-one {seconds['one']:.0f}, plain {seconds['plain']:.0f}", flush=True)


def shapes(sizes: list[int], archs: list[str], devices: list[str], quick: bool, rounds: int) -> None:
    print(f"shapes: T={LENGTH}, H={HIDDEN} (transformer 32), B={BATCH}; seed-steps/s (median of {rounds} "
          f"interleaved rounds)")
    print(f"{'device':<6} {'architecture':<13} {'S':>4} {'batched':>9} {'one-by-one':>10} {'plain':>8}"
          f" {'batched/one':>11} {'batched/plain':>13} {'one/plain':>9}")
    for device in devices:
        for S in sizes:
            for name in archs:
                model = ARCHS[name]
                steps = max(2, (4 if quick else 10) // max(1, S // 10)) if device == "cpu" else 20
                cells = [_cell(model, seed) for seed in range(S)]
                rates = {"batched": [], "one": [], "plain": []}
                for _ in range(rounds):
                    rates["batched"].append(_rate([_train_time(cells, device, steps, batched=True)]))
                    rates["one"].append(_rate([_train_time(cells[:1], device, max(steps, 4), batched=False)]))
                    rates["plain"].append(_rate([_plain_time(cells[0], device, max(steps, 4))]))
                b, o, p = (statistics.median(v) for v in rates.values())
                print(f"{device:<6} {name:<13} {S:>4} {b:>9.1f} {o:>10.1f} {p:>8.1f} {b / o:>11.2f} {b / p:>13.2f}"
                      f" {o / p:>9.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="S = 1, 8 only and fewer steps")
    parser.add_argument("--seeds", help="comma-separated group sizes S (default 1,8,16,32; quick 1,8)")
    parser.add_argument("--archs", help=f"comma-separated subset of: {', '.join(ARCHS)}")
    parser.add_argument("--workloads", nargs="?", const=",".join(WORKLOADS), default=None,
                        help=f"time experiments of the standard profile instead (default: {', '.join(WORKLOADS)})")
    parser.add_argument("--workload-seeds", type=int, default=8, help="seeds per configuration (default 8)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per measurement (default 3; quick 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as one runner worker)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    getattr(training, "_keep_freed_memory", lambda: None)()  # what every run of the engine does (where it does)
    rounds = args.rounds or (2 if args.quick else 3)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    if args.workloads is not None:
        names = [n.strip() for n in args.workloads.split(",")]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload {unknown[0]!r}; expected some of {', '.join(WORKLOADS)}")
        for device in devices:
            workloads(names, args.workload_seeds, device, 4 if args.quick else 10, rounds)
        return
    sizes = [int(s) for s in (args.seeds or ("1,8" if args.quick else "1,8,16,32")).split(",")]
    archs = [a.strip() for a in args.archs.split(",")] if args.archs else list(ARCHS)
    unknown = [a for a in archs if a not in ARCHS]
    if unknown:
        parser.error(f"unknown architecture {unknown[0]!r}; expected one of {', '.join(ARCHS)}")
    shapes(sizes, archs, devices, args.quick, rounds)


if __name__ == "__main__":
    main()
