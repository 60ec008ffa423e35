"""Stage 5: one cell = probe at init, train, evaluate, probe again. A pure function of the cell.

Divergence is data: a NaN or inf loss ends the cell with diverged=1 and the step, not an exception.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import torch

from .models import build_model
from .probes import probe_model, task_loss
from .schema import RECORD_COLUMNS, cell_columns  # noqa: F401 (RECORD_COLUMNS: compatibility)
from .specs import CellSpec
from .tasks import chance_level, input_size, is_classification, make_batch, output_size

__all__ = ["run_cell", "run_group", "RECORD_COLUMNS", "cell_columns"]

NAN = float("nan")


def _generators(seed: int) -> tuple[torch.Generator, torch.Generator, torch.Generator]:
    """Separate streams for training data, the held-out set and the probe batch."""
    return tuple(torch.Generator().manual_seed(seed * 1000 + offset) for offset in (1, 2, 3))


@torch.no_grad()
def _evaluate(model, cell: CellSpec, x_eval, y_eval) -> tuple[float, float]:
    """(loss, accuracy or mse) on the fixed held-out set, in chunks to bound memory."""
    losses, hits = [], 0.0
    for start in range(0, len(x_eval), 256):
        out = model(x_eval[start:start + 256])
        target = y_eval[start:start + 256]
        losses.append(task_loss(cell.task, out, target).item() * len(target))
        if is_classification(cell.task):
            hits += (out.argmax(dim=1) == target).sum().item()
    loss = sum(losses) / len(x_eval)
    return loss, (hits / len(x_eval) if is_classification(cell.task) else loss)


def run_cell(cell: CellSpec, device: str = "cpu") -> list[dict]:
    """Run one (spec, axis value, seed) and return its records (see docs/ARCHITECTURE.md)."""
    started = time.perf_counter()
    torch.manual_seed(cell.seed)
    task, train = cell.task, cell.train
    model = build_model(cell.model, input_size(task), output_size(task), task.length)
    g_train, g_eval, g_probe = _generators(cell.seed)
    x_probe, y_probe = make_batch(task, cell.probe.batch, g_probe)
    x_eval, y_eval = make_batch(task, train.eval_size, g_eval)
    base = cell_columns(cell)
    records: list[dict] = []

    def add(stage, metric, value, step=0, lag=NAN):
        records.append({**base, "stage": stage, "metric": metric, "step": step, "time_lag": lag,
                        "value": float(value)})

    for metric, lag, value in probe_model(model, task, x_probe, y_probe, cell.probe.jacobian_samples,
                                          with_jacobians=True):
        add("init", metric, value, 0, lag)

    score_name = "accuracy" if is_classification(task) else "mse"
    model.to(device)
    x_eval, y_eval = x_eval.to(device), y_eval.to(device)
    optimiser = (torch.optim.Adam if train.optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=train.lr)
    clip = train.clip if train.clip is not None else math.inf
    window_loss, window_norm, window_max = [], [], 0.0
    diverged_step, step, score = None, 0, NAN
    train_started = time.perf_counter()
    for step in range(1, train.steps + 1):
        x, y = make_batch(task, train.batch, g_train)
        loss = task_loss(task, model(x.to(device)), y.to(device))
        if not torch.isfinite(loss):
            diverged_step = step
            break
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        # Pascanu et al. 2013, Algorithm 1: rescale when the global norm exceeds the threshold.
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item()
        if not math.isfinite(norm):
            diverged_step = step
            break
        optimiser.step()
        window_loss.append(loss.item())
        window_norm.append(norm)
        window_max = max(window_max, norm)
        if step % train.log_every == 0 or step == train.steps:
            add("train", "train_loss", sum(window_loss) / len(window_loss), step)
            add("train", "grad_norm_total", sum(window_norm) / len(window_norm), step)
            add("train", "grad_norm_total_max", window_max, step)
            window_loss, window_norm, window_max = [], [], 0.0
        if step % train.eval_every == 0 or step == train.steps:
            eval_loss, score = _evaluate(model, cell, x_eval, y_eval)
            if not math.isfinite(eval_loss):
                diverged_step = step
                break
            add("train", "eval_loss", eval_loss, step)
            add("train", f"eval_{score_name}", score, step)
    train_seconds = time.perf_counter() - train_started
    steps_done = (diverged_step - 1) if diverged_step else (step if train.steps else 0)

    model.to("cpu")
    if train.steps and diverged_step is None:
        for metric, lag, value in probe_model(model, task, x_probe, y_probe):
            add("trained", metric, value, steps_done, lag)
    if train.steps == 0:
        _, score = _evaluate(model, cell, x_eval.cpu(), y_eval.cpu())
    elif diverged_step is not None:
        score = NAN
    add("trained", f"final_{score_name}", score, steps_done)
    add("trained", "chance", chance_level(task), steps_done)
    add("trained", "diverged", 1.0 if diverged_step else 0.0, steps_done)
    add("trained", "diverged_step", diverged_step if diverged_step else NAN, steps_done)
    add("trained", "steps_per_second", steps_done / train_seconds if steps_done else NAN, steps_done)
    add("trained", "wall_seconds", time.perf_counter() - started, steps_done)
    return records


def run_group(cells: Sequence[CellSpec], device: str = "cpu") -> list[list[dict]]:
    """Cells that differ only in their seed: the records of each, in order (the runner's unit of work).

    Today one after the other; a seed-batched engine trains them together where that is faster."""
    return [run_cell(cell, device) for cell in cells]
