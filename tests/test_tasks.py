"""The long-range tasks: their batches, targets, chance levels and published baselines."""
from __future__ import annotations

import math

import pytest
import torch

from vgreport.specs import TaskSpec
from vgreport.tasks import (
    ADDING_BASELINE_MSE,
    COPY_SYMBOLS,
    chance_level,
    copy_baseline_nats,
    input_size,
    is_classification,
    loss_baseline,
    make_batch,
    output_size,
    sequence_length,
    task_loss,
    task_score,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_recall_inputs_are_one_hot_tokens():
    """Every recall input step is a one-hot vector over the K classes."""
    task = TaskSpec(name="recall", length=7, classes=5)
    x, _ = make_batch(task, 64, _gen())
    assert x.shape == (64, 7, 5) and x.dtype == torch.float32
    assert set(x.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(x.sum(dim=-1), torch.ones(64, 7))


def test_recall_target_is_the_class_of_the_first_token():
    """The recall target is the class of the token at position 0 (lag length-1), not a later one."""
    task = TaskSpec(name="recall", length=9, classes=6)
    x, y = make_batch(task, 256, _gen(1))
    assert y.shape == (256,) and y.dtype == torch.int64
    assert torch.equal(y, x[:, 0].argmax(dim=-1))
    assert not torch.equal(y, x[:, -1].argmax(dim=-1))


def test_adding_marks_exactly_one_position_in_each_half():
    """The adding task marks exactly two positions: one in the first half, one in the second."""
    for length in (2, 5, 10, 31):
        task = TaskSpec(name="adding", length=length)
        x, _ = make_batch(task, 512, _gen(length))
        marks = x[..., 1]
        assert set(marks.unique().tolist()) <= {0.0, 1.0}
        half = length // 2
        assert torch.equal(marks[:, :half].sum(dim=1), torch.ones(512))
        assert torch.equal(marks[:, half:].sum(dim=1), torch.ones(512))


def test_adding_target_is_the_sum_of_the_two_marked_values():
    """The adding target (batch, 1) is the sum of the two U[0,1] values under the marks."""
    task = TaskSpec(name="adding", length=12)
    x, y = make_batch(task, 128, _gen(2))
    values, marks = x[..., 0], x[..., 1]
    assert x.shape == (128, 12, 2) and y.shape == (128, 1)
    assert values.min() >= 0 and values.max() <= 1
    picked = torch.stack([row[m.bool()] for row, m in zip(values, marks)])  # (batch, 2)
    torch.testing.assert_close(y[:, 0], picked.sum(dim=1), rtol=0, atol=1e-6)


def test_predicting_one_on_the_adding_task_gives_mse_one_sixth():
    """Always answering 1 has MSE Var(U1+U2) = 1/6 (not 0.1767), within five standard errors."""
    batch = 100_000
    _, y = make_batch(TaskSpec(name="adding", length=4), batch, _gen(3), dtype=torch.float64)
    mse = ((y - 1.0) ** 2).mean().item()
    # (U1+U2-1) is triangular on [-1, 1]: E[u^4] = 1/15, so Var[u^2] = 1/15 - 1/36 = 7/180.
    standard_error = math.sqrt(7 / 180 / batch)
    assert ADDING_BASELINE_MSE == pytest.approx(1 / 6, rel=1e-15)
    assert abs(mse - 1 / 6) < 5 * standard_error


def test_chance_levels_are_one_over_k_and_the_adding_baseline():
    """Recall chance is 1/K; the adding task's reference is the predict-1 MSE of 1/6."""
    for classes in (2, 8, 10):
        assert chance_level(TaskSpec(name="recall", classes=classes)) == pytest.approx(1 / classes)
    assert chance_level(TaskSpec(name="adding")) == pytest.approx(1 / 6)


def test_copy_baseline_is_ten_log_eight_over_delay_plus_twenty():
    """The copy task's memoryless baseline is 10·log 8 / (T + 20) nats per step (Arjovsky et al. 2016)."""
    assert copy_baseline_nats(100) == pytest.approx(0.17328679513998632, rel=1e-12)
    assert copy_baseline_nats(1000) == pytest.approx(10 * math.log(8) / 1020, rel=1e-12)
    assert copy_baseline_nats(30, symbols=4) == pytest.approx(10 * math.log(4) / 50, rel=1e-12)


def test_task_sizes_match_their_batches():
    """input_size/output_size agree with make_batch; only recall is a classification task."""
    recall, adding, copy = TaskSpec(name="recall", classes=5), TaskSpec(name="adding"), TaskSpec(name="copy", classes=5)
    assert (input_size(recall), output_size(recall), is_classification(recall)) == (5, 5, True)
    assert (input_size(adding), output_size(adding), is_classification(adding)) == (2, 1, False)
    assert (input_size(copy), output_size(copy), is_classification(copy)) == (7, 7, True)
    for task in (recall, adding, copy):
        x, _ = make_batch(task, 4, _gen(0))
        assert x.shape == (4, sequence_length(task), input_size(task))


def test_batches_are_a_pure_function_of_the_generator_seed():
    """The same task and generator seed give the same batch; another seed gives another batch."""
    for task in (TaskSpec(name="recall", length=8), TaskSpec(name="adding", length=8), TaskSpec(name="copy", length=8)):
        x1, y1 = make_batch(task, 32, _gen(5))
        x2, y2 = make_batch(task, 32, _gen(5))
        x3, _ = make_batch(task, 32, _gen(6))
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
        assert not torch.equal(x1, x3)


def test_recall_at_a_lag_answers_with_the_token_that_many_steps_before_the_last():
    """With lag k the recall target is the token at position T-1-k; lag T-1 is the first token."""
    for lag in (0, 3, 8):
        task = TaskSpec(name="recall", length=9, classes=6, lag=lag)
        x, y = make_batch(task, 256, _gen(lag))
        assert torch.equal(y, x[:, 9 - 1 - lag].argmax(dim=-1))
    first = make_batch(TaskSpec(name="recall", length=9, classes=6, lag=8), 64, _gen(4))
    default = make_batch(TaskSpec(name="recall", length=9, classes=6), 64, _gen(4))
    assert torch.equal(first[1], default[1])


def test_a_lag_beyond_the_sequence_or_outside_recall_is_refused():
    """A lag must point inside the sequence and only the recall task has one."""
    with pytest.raises(ValueError, match="lag"):
        TaskSpec(name="recall", length=5, lag=5)
    with pytest.raises(ValueError, match="lag"):
        TaskSpec(name="adding", length=5, lag=1)


def test_copy_task_layout_follows_arjovsky_et_al():
    """Copy: 10 data symbols, T-1 blanks, the delimiter, 10 blanks; the target is blank until the
    last 10 steps, which repeat the data symbols."""
    task = TaskSpec(name="copy", length=7, classes=8)
    x, y = make_batch(task, 128, _gen(7))
    steps = sequence_length(task)
    assert steps == 7 + 20 and x.shape == (128, steps, 10) and y.shape == (128, steps)
    symbols = x.argmax(dim=-1)
    data = symbols[:, :COPY_SYMBOLS]
    assert data.min() >= 1 and data.max() <= 8
    assert (symbols[:, COPY_SYMBOLS:7 + COPY_SYMBOLS - 1] == 0).all()
    assert (symbols[:, 7 + COPY_SYMBOLS - 1] == 9).all()
    assert (symbols[:, -COPY_SYMBOLS:] == 0).all()
    assert (y[:, :-COPY_SYMBOLS] == 0).all() and torch.equal(y[:, -COPY_SYMBOLS:], data)


def test_the_memoryless_copy_strategy_scores_the_published_baseline_and_chance():
    """Predicting blanks exactly and the 8 data symbols uniformly at the last 10 steps costs
    10·log 8/(T+20) nats per step; its copied symbols are right 1 time in 8 (chance)."""
    task = TaskSpec(name="copy", length=30, classes=8)
    x, y = make_batch(task, 4096, _gen(8), dtype=torch.float64)
    logits = torch.full((4096, sequence_length(task), 10), -1e9, dtype=torch.float64)
    logits[:, :-COPY_SYMBOLS, 0] = 0.0
    logits[:, -COPY_SYMBOLS:, 1:9] = 0.0
    assert task_loss(task, logits, y).item() == pytest.approx(loss_baseline(task), rel=1e-9)
    assert loss_baseline(task) == pytest.approx(copy_baseline_nats(30), rel=1e-15)
    guess = torch.randint(1, 9, (4096, COPY_SYMBOLS), generator=_gen(9))
    answers = torch.zeros_like(logits)
    answers[:, -COPY_SYMBOLS:] = torch.nn.functional.one_hot(guess, 10).to(torch.float64)
    accuracy = task_score(task, answers, y) / 4096
    assert abs(accuracy - chance_level(task)) < 5 * math.sqrt(0.125 * 0.875 / (4096 * 10))


def test_task_loss_casts_the_target_to_the_output_dtype():
    """A float32 adding target meets float64 probe outputs: the loss is float64 and differentiable."""
    task = TaskSpec(name="adding", length=6)
    _, y = make_batch(task, 8, _gen(10))
    out = torch.zeros(8, 1, dtype=torch.float64, requires_grad=True)
    loss = task_loss(task, out, y)
    loss.backward()
    assert loss.dtype == torch.float64 and out.grad.dtype == torch.float64
    assert loss.item() == pytest.approx((y.double() ** 2).mean().item(), rel=1e-12)


def test_recall_score_counts_correct_answers_and_adding_score_sums_squared_errors():
    """task_score: recall counts argmax hits; adding sums squared errors (divide by the batch for the MSE)."""
    recall = TaskSpec(name="recall", classes=3)
    out = torch.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]])
    assert task_score(recall, out, torch.tensor([1, 2])) == 1.0
    adding = TaskSpec(name="adding")
    assert task_score(adding, torch.tensor([[1.0], [0.5]]), torch.tensor([[0.0], [0.5]])) == pytest.approx(1.0)
