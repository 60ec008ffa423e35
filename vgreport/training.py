"""Stage 5: one cell = probe at init, train, evaluate, probe again. A pure function of the cell.

Cells of one shape and budget can train together (`run_group`): cells that differ only in the
fields a member may have of its own (specs.MEMBER_FIELDS: the seed, the initialisation and gain, the
recall lag, the clipping threshold, the probes, the labels) are one StackedModel of S members, one
backward pass and one optimiser step, while each member keeps its own initial weights, its own data
streams (its seed's generators, drawn from its own task exactly as a single cell draws them), its own
global-norm clipping and its own divergence. Each device takes its faster path: see
members_per_batch and each architecture's entry (vgreport/architectures.py: stackable, cpu_members).

Divergence is data: a NaN or inf loss ends the cell with diverged=1 and the step, not an exception.
In a batched group the member that diverges stops alone.
"""
from __future__ import annotations

import ctypes
import functools
import math
import platform
import time
from typing import Sequence

import torch

from .architectures import architecture, build_model
from .models import StackedModel
from .probes import cue_influence, probe_model
from .schema import RECORD_COLUMNS, cell_columns  # noqa: F401 (RECORD_COLUMNS: compatibility)
from .specs import CellSpec, TaskSpec, TrainSpec
from .tasks import (
    chance_level,
    input_size,
    loss_baseline,
    make_batch,
    output_size,
    per_step_output,
    score_name,
    sequence_length,
    task_loss,
    task_score,
)

__all__ = ["run_cell", "run_group", "initial_model", "members_per_batch", "RECORD_COLUMNS", "cell_columns"]

NAN = float("nan")

# Held-out sequences per forward pass, summed over the members of a batch: bounds eval memory
# (about 0.3 GB for an LSTM at T=100 on the CPU); an accelerator has memory to spare and launches to save.
_EVAL_SEQUENCES_CPU, _EVAL_SEQUENCES_ACCELERATOR = 1024, 16384


def members_per_batch(cell: CellSpec, device: str, cells: int) -> int:
    """How many of `cells` cells of `cell`'s batch key train as one batch of the batched engine at
    most, or 0 for one cell at a time (run_cell): on the CPU up to its architecture's `cpu_members`
    for sequences up to its `cpu_longest`; on an accelerator all of them (one small model leaves it
    idle), but a single cell keeps the fused kernels (cuDNN); 0 without training steps or for an
    architecture that cannot be stacked."""
    entry = architecture(cell.model.arch)
    if cell.train.steps == 0 or cells < 1 or not entry.stackable:
        return 0
    if torch.device(device).type != "cpu":
        return cells if cells > 1 else 0
    if entry.cpu_longest is not None and sequence_length(cell.task) > entry.cpu_longest:
        return 0
    return min(cells, entry.cpu_members)


def initial_model(cell: CellSpec):
    """The model a cell starts from: the global seed set to the cell's seed, then build_model."""
    torch.manual_seed(cell.seed)
    task = cell.task
    return build_model(cell.model, input_size(task), output_size(task), sequence_length(task),
                       per_step=per_step_output(task))


def _generators(seed: int) -> tuple[torch.Generator, torch.Generator, torch.Generator]:
    """Separate streams for training data, the held-out set and the probe batch."""
    return tuple(torch.Generator().manual_seed(seed * 1000 + offset) for offset in (1, 2, 3))


def _optimiser(train: TrainSpec, params):
    return (torch.optim.Adam if train.optimizer == "adam" else torch.optim.SGD)(params, lr=train.lr)


@torch.no_grad()
def _evaluate(model, task: TaskSpec, x_eval, y_eval, chunk: int = 256) -> tuple[float, float]:
    """(loss, score) of one plain model on its fixed held-out set, in chunks to bound memory."""
    loss, score = 0.0, 0.0
    for start in range(0, len(x_eval), chunk):
        out = model(x_eval[start:start + chunk])
        target = y_eval[start:start + chunk]
        loss += task_loss(task, out, target).item() * len(target)
        score += task_score(task, out, target)
    return loss / len(x_eval), score / len(x_eval)


class _Member:
    """One cell through training: its model at init, data streams, held-out set, records, windows."""

    def __init__(self, cell: CellSpec):
        started = time.perf_counter()
        self.cell, task = cell, cell.task
        self.model = initial_model(cell)
        self.g_train, g_eval, g_probe = _generators(cell.seed)
        self.x_probe, self.y_probe = make_batch(task, cell.probe.batch, g_probe)
        self.x_eval, self.y_eval = make_batch(task, cell.train.eval_size, g_eval)
        self.base = cell_columns(cell)
        self.records: list[dict] = []
        self.losses, self.norms, self.clipped = [], [], 0  # the current logging window
        self.diverged_step: int | None = None
        self.score = NAN
        self.train_seconds = 0.0  # this member's share of the group's training time
        self.own_seconds = time.perf_counter() - started  # set-up and probes, not shared

    def probe_init(self) -> None:
        started = time.perf_counter()
        cell = self.cell
        for metric, lag, value in probe_model(self.model, cell.task, self.x_probe, self.y_probe,
                                              cell.probe.jacobian_samples, with_jacobians=True):
            self.add("init", metric, value, 0, lag)
        self.own_seconds += time.perf_counter() - started

    def add(self, stage: str, metric: str, value, step: int = 0, lag: float = NAN) -> None:
        self.records.append({**self.base, "stage": stage, "metric": metric, "step": step, "time_lag": lag,
                             "value": float(value)})

    def log_step(self, step: int, loss: float, norm: float) -> None:
        train = self.cell.train
        self.losses.append(loss)
        self.norms.append(norm)
        self.clipped += train.clip is not None and norm > train.clip
        if step % train.log_every == 0 or step == train.steps:
            self.add("train", "train_loss", sum(self.losses) / len(self.losses), step)
            self.add("train", "grad_norm_total", sum(self.norms) / len(self.norms), step)
            self.add("train", "grad_norm_total_max", max(self.norms), step)
            self.add("train", "clip_fraction", self.clipped / len(self.norms), step)
            self.losses, self.norms, self.clipped = [], [], 0


class _FusedTrainer:
    """One member as its plain model (PyTorch's fused kernels where they exist): one cell at a time."""

    def __init__(self, members: list[_Member], device: str):
        (member,) = members
        self.task, self.train, self.device = member.cell.task, member.cell.train, device
        self.model = member.model.to(device)
        self.optimiser = _optimiser(self.train, self.model.parameters())
        self.x_eval, self.y_eval = member.x_eval.to(device), member.y_eval.to(device)

    def step(self, batches) -> tuple[list[float], list[float]]:
        ((x, y),) = batches
        loss = task_loss(self.task, self.model(x.to(self.device)), y.to(self.device))
        if not torch.isfinite(loss):
            return [loss.item()], [NAN]
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        # Pascanu et al. 2013, Algorithm 1: rescale when the global norm exceeds the threshold.
        clip = self.train.clip if self.train.clip is not None else math.inf
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip).item()
        if math.isfinite(norm):
            self.optimiser.step()
        return [loss.item()], [norm]

    def evaluate(self) -> list[tuple[float, float]]:
        return [_evaluate(self.model, self.task, self.x_eval, self.y_eval)]

    def drop(self, positions: list[int]) -> None:
        """Nothing to do: the only member stopped."""

    def models(self) -> list:
        return [self.model.to("cpu")]


class _StackedTrainer:
    """S members as one StackedModel: one backward pass and one optimiser step for all, with each
    member's own global norm, clipping threshold (none: infinite) and divergence. A member that
    diverges is dropped from the stack (weights and optimiser state alike) before the step, so it
    stops alone. The members share the batch key (CellSpec.batch_key): the loss, its shapes and the
    optimiser are the first member's (a recall lag changes the targets, not the loss)."""

    def __init__(self, members: list[_Member], device: str):
        self.task, self.train, self.device = members[0].cell.task, members[0].cell.train, device
        self.model = StackedModel([m.model for m in members]).to(device)
        self.optimiser = _optimiser(self.train, self.model.parameters())
        self.x_eval = torch.stack([m.x_eval for m in members]).to(device)
        self.y_eval = torch.stack([m.y_eval for m in members]).to(device)
        clips = [math.inf if m.cell.train.clip is None else m.cell.train.clip for m in members]
        self.clips = torch.tensor(clips, device=device)
        # task_loss of each member on its own batch, in one batched call.
        self.losses = torch.vmap(functools.partial(task_loss, self.task))

    def step(self, batches) -> tuple[list[float], list[float]]:
        x = torch.stack([b[0] for b in batches]).to(self.device)
        y = torch.stack([b[1] for b in batches]).to(self.device)
        params = self.model.parameters()
        for p in params:
            p.grad = None
        losses = self.losses(self.model(x), y)  # (S,)
        losses.sum().backward()  # members share no weights: each gets its own loss's gradient
        per_param = torch.stack([torch.linalg.vector_norm(p.grad.flatten(1), dim=1) for p in params], dim=1)
        norms = torch.linalg.vector_norm(per_param, dim=1)  # each member's global norm, as clip_grad_norm_
        loss_values, norm_values = torch.stack([losses.detach(), norms]).tolist()  # one sync per step
        bad = [s for s, (loss, norm) in enumerate(zip(loss_values, norm_values))
               if not (math.isfinite(loss) and math.isfinite(norm))]
        if bad:
            norms = norms[self.drop(bad)]
        if len(self.model) and self.clips.isfinite().any():
            # Pascanu et al. 2013, Algorithm 1, per member; the same coefficient as clip_grad_norm_
            # (an unclipped member's threshold is infinite: its coefficient is exactly 1, as there).
            coefficient = (self.clips / (norms + 1e-6)).clamp(max=1.0)
            for p in self.model.parameters():
                p.grad.mul_(coefficient.view(-1, *(1,) * (p.dim() - 1)))
        if len(self.model):
            self.optimiser.step()
        return loss_values, norm_values

    @torch.no_grad()
    def evaluate(self) -> list[tuple[float, float]]:
        S, N = self.x_eval.shape[:2]
        cpu = torch.device(self.device).type == "cpu"
        budget = _EVAL_SEQUENCES_CPU if cpu else _EVAL_SEQUENCES_ACCELERATOR
        chunk = max(1, min(N, budget // S))
        loss = torch.zeros(S, dtype=torch.float64)
        score = [0.0] * S
        for start in range(0, N, chunk):
            out = self.model(self.x_eval[:, start:start + chunk])
            target = self.y_eval[:, start:start + chunk]
            loss += self.losses(out, target).double().cpu() * target.shape[1]
            for s in range(S):
                score[s] += task_score(self.task, out[s], target[s])
        return [(value / N, hits / N) for value, hits in zip(loss.tolist(), score)]

    def drop(self, positions: list[int]) -> torch.Tensor:
        """Remove these members (weights, gradients, optimiser state, held-out sets); returns the kept index."""
        keep = torch.tensor([s for s in range(len(self.model)) if s not in positions], dtype=torch.long)
        old = self.model.parameters()
        self.model.select(keep.to(self.device))
        state = self.optimiser.state
        self.optimiser = _optimiser(self.train, self.model.parameters())
        for before, after in zip(old, self.model.parameters()):
            if before in state:  # Adam: exp_avg and exp_avg_sq per element, a step count per tensor
                self.optimiser.state[after] = {name: value[keep.to(value.device)].clone()
                                               if torch.is_tensor(value) and value.dim() else value
                                               for name, value in state[before].items()}
        keep = keep.to(self.device)
        self.x_eval, self.y_eval, self.clips = self.x_eval[keep], self.y_eval[keep], self.clips[keep]
        return keep

    def models(self) -> list:
        return [self.model.member(s) for s in range(len(self.model))]


@functools.cache
def _keep_freed_memory() -> None:
    """Have glibc keep freed memory for reuse. By default it returns every freed block over 128 KiB or
    so to the system (mmap, trim), so the large temporaries of each training step are fresh pages
    that the kernel zeroes one page fault at a time: a quarter of a batched step's time (measured:
    3,000 faults a step for 8 RNN members at T=50, 8,000 for 8 LSTMs). The peak stays what it was;
    the process keeps it until it exits. glibc only (Linux); elsewhere nothing changes."""
    if platform.libc_ver()[0] != "glibc":
        return
    mallopt = ctypes.CDLL(None).mallopt
    mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: blocks up to 1 GiB come from the heap, not fresh mappings
    mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap instead of returning it


def _run(cells: Sequence[CellSpec], device: str, batched: bool) -> list[list[dict]]:
    """Probe at init, train (all cells as one batched model, or the one cell alone), probe again."""
    _keep_freed_memory()
    members = [_Member(cell) for cell in cells]
    for member in members:
        member.probe_init()
    train = cells[0].train  # its steps and schedule: shared by the batch
    name = score_name(cells[0].task)
    alive = list(members)
    if train.steps:
        trainer = (_StackedTrainer if batched else _FusedTrainer)(members, device)
        for member in members:
            member.model = None  # the trainer holds the weights now
        for step in range(1, train.steps + 1):
            if not alive:
                break
            started = time.perf_counter()
            batches = [make_batch(m.cell.task, train.batch, m.g_train) for m in alive]
            losses, norms = trainer.step(batches)
            for member, loss, norm in zip(alive, losses, norms):
                if math.isfinite(loss) and math.isfinite(norm):
                    member.log_step(step, loss, norm)
                else:
                    member.diverged_step = step
            running = [m for m in alive if m.diverged_step is None]
            if running and (step % train.eval_every == 0 or step == train.steps):
                stopped = []
                for position, (member, (eval_loss, score)) in enumerate(zip(running, trainer.evaluate())):
                    if not math.isfinite(eval_loss):
                        member.diverged_step = step
                        stopped.append(position)
                        continue
                    member.add("train", "eval_loss", eval_loss, step)
                    member.add("train", f"eval_{name}", score, step)
                    member.score = score
                if stopped:
                    trainer.drop(stopped)
            share = (time.perf_counter() - started) / len(alive)
            for member in alive:
                member.train_seconds += share
            alive = [m for m in alive if m.diverged_step is None]
        for member, model in zip(alive, trainer.models()):
            member.model = model
    return [_finish(member) for member in members]


def _finish(member: _Member) -> list[dict]:
    """Probe the trained model and add the closing scalars."""
    started = time.perf_counter()
    task, train = member.cell.task, member.cell.train
    diverged = member.diverged_step
    steps_done = (diverged - 1) if diverged else train.steps
    if train.steps and diverged is None:
        for metric, lag, value in probe_model(member.model, task, member.x_probe, member.y_probe):
            member.add("trained", metric, value, steps_done, lag)
    if task.name == "recall" and diverged is None:  # on the held-out set: a share of its answers, not of 32
        member.add("trained", "cue_influence", cue_influence(member.model, task, member.x_eval), steps_done)
    score = member.score
    if train.steps == 0:
        _, score = _evaluate(member.model, task, member.x_eval, member.y_eval)
    elif diverged is not None:
        score = NAN
    add = member.add
    add("trained", f"final_{score_name(task)}", score, steps_done)
    add("trained", "chance", chance_level(task), steps_done)
    add("trained", "loss_baseline", loss_baseline(task), steps_done)
    add("trained", "diverged", 1.0 if diverged else 0.0, steps_done)
    add("trained", "diverged_step", diverged if diverged else NAN, steps_done)
    add("trained", "steps_per_second", steps_done / member.train_seconds if steps_done else NAN, steps_done)
    add("trained", "wall_seconds", member.own_seconds + member.train_seconds + time.perf_counter() - started,
        steps_done)
    return member.records


def run_cell(cell: CellSpec, device: str = "cpu") -> list[dict]:
    """Run one (spec, axis value, seed) and return its records (see docs/ARCHITECTURE.md)."""
    return _run([cell], device, batched=False)[0]


def run_group(cells: Sequence[CellSpec], device: str = "cpu", batched: bool | None = None) -> list[list[dict]]:
    """Cells of one batch key (CellSpec.batch_key: they may differ in seed, initialisation, gain,
    recall lag, clipping and probes): the records of each, in order, exactly as run_cell gives them
    (the runner's unit of work). They train in equal batches of at most members_per_batch cells
    (`batched` True: all as one batch; False: one after another with run_cell)."""
    cells = list(cells)
    if not cells:
        return []
    first = cells[0]
    shared = dict(first.batch_key)
    for cell in cells[1:]:
        differ = [path for path, value in cell.batch_key if shared.get(path, value) != value]
        if differ:
            raise ValueError(f"run_group: cell {cell.label!r} cannot train in one batch with {first.label!r}: "
                             f"they differ in {', '.join(differ)}")
    if batched is None:
        size = members_per_batch(first, device, len(cells))
    else:
        size = len(cells) if batched and first.train.steps else 0
    if not size:
        return [run_cell(cell, device) for cell in cells]
    batches = math.ceil(len(cells) / size)  # sizes differ by at most one cell
    records: list[list[dict]] = []
    for k in range(batches):
        records += _run(cells[k * len(cells) // batches:(k + 1) * len(cells) // batches], device, batched=True)
    return records
