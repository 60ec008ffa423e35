"""Stage 2: the long-range tasks. Each batch is a pure function of the task spec and a generator."""
from __future__ import annotations

import math

import torch

from .specs import TaskSpec

__all__ = ["make_batch", "input_size", "output_size", "chance_level", "is_classification",
           "ADDING_BASELINE_MSE", "copy_baseline_nats"]

# Always predicting 1 for the sum of two U[0,1] numbers: Var(U1 + U2) = 2/12 = 1/6.
ADDING_BASELINE_MSE = 1.0 / 6.0


def is_classification(task: TaskSpec) -> bool:
    return task.name == "recall"


def input_size(task: TaskSpec) -> int:
    return task.classes if task.name == "recall" else 2


def output_size(task: TaskSpec) -> int:
    return task.classes if task.name == "recall" else 1


def chance_level(task: TaskSpec) -> float:
    """Recall: accuracy of guessing, 1/K. Adding: MSE of always predicting 1."""
    return 1.0 / task.classes if task.name == "recall" else ADDING_BASELINE_MSE


def copy_baseline_nats(delay: int, symbols: int = 8) -> float:
    """Memoryless baseline of the copy task (Arjovsky et al. 2016), nats per step."""
    return 10 * math.log(symbols) / (delay + 20)


def make_batch(task: TaskSpec, batch: int, generator: torch.Generator,
               dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Return inputs (batch, length, input_size) and targets.

    recall: one-hot tokens; the target is the class of the first token (lag length-1).
    adding: channel 0 holds U[0,1] numbers, channel 1 marks one position in each half;
    the target (batch, 1) is the sum of the two marked numbers.
    """
    T = task.length
    if task.name == "recall":
        tokens = torch.randint(0, task.classes, (batch, T), generator=generator)
        x = torch.nn.functional.one_hot(tokens, task.classes).to(dtype)
        return x, tokens[:, 0]
    values = torch.rand(batch, T, generator=generator, dtype=dtype)
    half = T // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, T, (batch,), generator=generator)
    marks = torch.zeros(batch, T, dtype=dtype)
    rows = torch.arange(batch)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    target = (values * marks).sum(dim=1, keepdim=True)
    return torch.stack([values, marks], dim=-1), target
