"""Stage 2: the long-range tasks. Each batch is a pure function of the task spec and a generator.

recall  a sequence of `length` one-hot tokens from `classes` classes; the target is the class of
        the token `lag` steps before the last one (by default the first token, lag = length - 1).
adding  two U[0,1] numbers are marked, one in each half; the target is their sum. This is Le et
        al.'s (2015) variant of Hochreiter & Schmidhuber's (1997) adding problem.
copy    Arjovsky, Shah & Bengio (2016): 10 data symbols, `length` - 1 blanks, a delimiter, then 10
        blanks during which the model must reproduce the data symbols. The model answers at every
        step (sequence length `length` + 20); the delay between a symbol and its copy is length + 10.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .specs import TaskSpec

if TYPE_CHECKING:
    import torch  # imported where batches and losses are made: the constants and chance levels are torch-free

__all__ = ["make_batch", "input_size", "output_size", "sequence_length", "per_step_output", "is_classification",
           "task_loss", "task_score", "score_name", "chance_level", "loss_baseline", "ADDING_BASELINE_MSE",
           "COPY_SYMBOLS", "copy_baseline_nats"]

# Always predicting 1 for the sum of two U[0,1] numbers: Var(U1 + U2) = 2/12 = 1/6.
ADDING_BASELINE_MSE = 1.0 / 6.0
COPY_SYMBOLS = 10  # data symbols the copy task shows and asks back
# Copy task alphabet: 0 = blank, 1..classes = data symbols, classes + 1 = the delimiter.


def is_classification(task: TaskSpec) -> bool:
    return task.name in ("recall", "copy")


def per_step_output(task: TaskSpec) -> bool:
    """The model answers at every step (copy) instead of once after the last step."""
    return task.name == "copy"


def sequence_length(task: TaskSpec) -> int:
    """Steps the model reads: `length`, or length + 20 for the copy task."""
    return task.length + 2 * COPY_SYMBOLS if task.name == "copy" else task.length


def input_size(task: TaskSpec) -> int:
    return {"recall": task.classes, "adding": 2, "copy": task.classes + 2}[task.name]


def output_size(task: TaskSpec) -> int:
    return {"recall": task.classes, "adding": 1, "copy": task.classes + 2}[task.name]


def score_name(task: TaskSpec) -> str:
    """The name of the task's score: accuracy (recall, copy: of the copied symbols) or mse (adding)."""
    return "mse" if task.name == "adding" else "accuracy"


def chance_level(task: TaskSpec) -> float:
    """The score of a model that learned nothing about the cue: recall and copy 1/K (guessing);
    adding: the MSE of always predicting 1."""
    return ADDING_BASELINE_MSE if task.name == "adding" else 1.0 / task.classes


def copy_baseline_nats(delay: int, symbols: int = 8) -> float:
    """Memoryless baseline of the copy task (Arjovsky et al. 2016), nats per step: blanks are
    predicted exactly, the 10 copied symbols uniformly, over delay + 20 steps."""
    return COPY_SYMBOLS * math.log(symbols) / (delay + 2 * COPY_SYMBOLS)


def loss_baseline(task: TaskSpec) -> float:
    """The task loss of the best model that ignores the cue: cross-entropy log K (recall),
    MSE 1/6 (adding), 10·log K/(T + 20) nats per step (copy)."""
    if task.name == "recall":
        return math.log(task.classes)
    if task.name == "adding":
        return ADDING_BASELINE_MSE
    return copy_baseline_nats(task.length, task.classes)


def task_loss(task: TaskSpec, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (recall; copy averaged over every step) or mean squared error (adding).
    The target is cast to the output's dtype: float64 probes meet float32 targets."""
    import torch
    if task.name == "recall":
        return torch.nn.functional.cross_entropy(output, target)
    if task.name == "copy":
        return torch.nn.functional.cross_entropy(output.reshape(-1, output.shape[-1]), target.reshape(-1))
    return torch.nn.functional.mse_loss(output, target.to(output.dtype))


def task_score(task: TaskSpec, output: torch.Tensor, target: torch.Tensor) -> float:
    """Sum over the batch of the score: correct answers (recall), correct copied symbols divided
    by 10 (copy), squared errors (adding). Divide by the batch size for the mean."""
    import torch
    if task.name == "recall":
        return float((output.argmax(dim=-1) == target).sum().item())
    if task.name == "copy":
        asked = slice(-COPY_SYMBOLS, None)
        hits = (output[:, asked].argmax(dim=-1) == target[:, asked]).to(torch.float64)
        return float(hits.mean(dim=1).sum().item())
    return float(((output - target.to(output.dtype)) ** 2).sum().item())


def make_batch(task: TaskSpec, batch: int, generator: torch.Generator,
               dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return inputs (batch, sequence_length, input_size) and targets: (batch,) classes (recall),
    (batch, 1) sums (adding), (batch, sequence_length) symbols (copy); dtype default float32."""
    import torch
    dtype = torch.float32 if dtype is None else dtype
    T = task.length
    if task.name == "recall":
        tokens = torch.randint(0, task.classes, (batch, T), generator=generator)
        x = torch.nn.functional.one_hot(tokens, task.classes).to(dtype)
        lag = T - 1 if task.lag is None else task.lag
        return x, tokens[:, T - 1 - lag]
    if task.name == "copy":
        K, n = task.classes, COPY_SYMBOLS
        data = torch.randint(1, K + 1, (batch, n), generator=generator)
        symbols = torch.zeros(batch, T + 2 * n, dtype=torch.long)
        symbols[:, :n] = data
        symbols[:, T + n - 1] = K + 1  # the delimiter: answer now
        target = torch.zeros_like(symbols)
        target[:, -n:] = data
        return torch.nn.functional.one_hot(symbols, K + 2).to(dtype), target
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
