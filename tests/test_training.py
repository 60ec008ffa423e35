"""One cell end to end: records as documented in docs/ARCHITECTURE.md, determinism, divergence as data."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from vgreport.training import RECORD_COLUMNS, run_cell

from helpers import comparable

ARCHITECTURE_MD = Path(__file__).resolve().parent.parent / "docs" / "ARCHITECTURE.md"


def _documented_columns() -> list[str]:
    (columns,) = re.findall(r"^Columns: `([^`]+)`", ARCHITECTURE_MD.read_text(), flags=re.M)
    return [c.strip() for c in columns.split(",")]


def _documented_metrics() -> dict[str, dict]:
    """metric -> {stages, per_lag, rnn_only}, read from the Metrics table of ARCHITECTURE.md."""
    text = ARCHITECTURE_MD.read_text().split("Metrics:", 1)[1].split("\n\n", 2)[1]
    metrics = {}
    for row in text.splitlines()[2:]:  # skip the header and the |---| line
        name_cell, stage_cell, lag_cell = [c.strip() for c in row.strip("|").split("|")[:3]]
        names = re.sub(r"\([^)]*\)", "", name_cell).replace("/", ",").split(",")
        for name in (n.strip() for n in names):
            metrics[name] = {"stages": {s.strip() for s in stage_cell.split(",")},
                             "per_lag": lag_cell.startswith("yes"), "rnn_only": "rnn only" in lag_cell,
                             "recall_only": "recall only" in lag_cell}
    return metrics


def _expected(cell, trained: bool = True) -> set[tuple[str, str]]:
    """(stage, metric) pairs the documentation promises for this cell."""
    drop = "_mse" if cell.task.name in ("recall", "copy") else "_accuracy"
    pairs = set()
    for name, doc in _documented_metrics().items():
        if name.endswith(drop) or (doc["rnn_only"] and cell.model.arch != "rnn") \
                or (doc["recall_only"] and cell.task.name != "recall"):
            continue
        if name in ("jacobian_chain_norm", "grad_norm_state_sub", "jacobian_product_opnorm") \
                and cell.probe.jacobian_samples == 0:
            continue
        stages = doc["stages"] if trained else doc["stages"] - {"train"}
        pairs |= {(stage, name) for stage in stages}
    if not trained:  # no training: no probe after it, only the final scalars
        pairs = {(s, m) for s, m in pairs if s != "trained" or _documented_metrics()[m]["stages"] == {"trained"}}
    return pairs


def _one(records, metric: str) -> dict:
    (record,) = [r for r in records if r["metric"] == metric]
    return record


def test_records_have_exactly_the_documented_columns(tiny_cell):
    """Every record is a dict with the ARCHITECTURE.md columns, in that order."""
    records = run_cell(tiny_cell())
    assert RECORD_COLUMNS == _documented_columns()
    assert records and all(list(r) == RECORD_COLUMNS for r in records)
    assert all(isinstance(r["value"], float) for r in records)


@pytest.mark.parametrize("task", ["recall", "adding", "copy"])
def test_rnn_cell_emits_exactly_the_documented_metrics(tiny_cell, task):
    """A trained RNN cell emits each documented (stage, metric) and nothing undocumented."""
    cell = tiny_cell(task={"name": task})
    records = run_cell(cell)
    assert {(r["stage"], r["metric"]) for r in records} == _expected(cell)


@pytest.mark.parametrize("model", [{"arch": "lstm", "init": "chrono"}, {"arch": "gru"},
                                   {"arch": "transformer", "heads": 2}, {"activation": "sigmoid"}],
                         ids=["lstm_chrono", "gru", "transformer", "rnn_sigmoid"])
def test_every_architecture_runs_and_emits_its_documented_metrics(tiny_cell, model):
    """LSTM, GRU, transformer and the unfused RNN train a few steps; rnn-only metrics appear only for rnn."""
    cell = tiny_cell(model=model, train={"steps": 3, "eval_every": 3, "log_every": 3})
    records = run_cell(cell)
    assert {(r["stage"], r["metric"]) for r in records} == _expected(cell)
    assert _one(records, "diverged")["value"] == 0.0


def test_time_lag_and_step_follow_the_record_conventions(tiny_cell):
    """Per-lag metrics cover lags 0..T-1 (lag = T-1-k), scalars have NaN lag; steps are the training step."""
    cell = tiny_cell()
    records = run_cell(cell)
    documented = _documented_metrics()
    for stage in ("init", "trained"):
        for metric in ("grad_norm_state", "sensitivity_input"):
            lags = sorted(r["time_lag"] for r in records if (r["stage"], r["metric"]) == (stage, metric))
            assert lags == [float(lag) for lag in range(cell.task.length)], (stage, metric)
    for r in records:
        assert math.isnan(r["time_lag"]) != documented[r["metric"]]["per_lag"], r["metric"]
        assert r["step"] == {"init": 0, "trained": 20}.get(r["stage"], r["step"])
    train_steps = sorted({r["step"] for r in records if r["metric"] == "train_loss"})
    eval_steps = sorted({r["step"] for r in records if r["metric"] == "eval_accuracy"})
    assert (train_steps, eval_steps) == ([5, 10, 15, 20], [10, 20])
    assert _one(records, "final_accuracy")["value"] == [r["value"] for r in records
                                                        if r["metric"] == "eval_accuracy"][-1]


def test_records_carry_the_cell_configuration(tiny_cell):
    """Config columns repeat the cell: clip NaN when unclipped, budget = steps, activation blank for gated cells."""
    cell = tiny_cell(model={"arch": "lstm"}, train={"steps": 2, "clip": None}, seed=3,
                     experiment="exp", variant="var")
    record = run_cell(cell)[0]
    assert {k: record[k] for k in ("experiment", "variant", "arch", "activation", "init", "gain", "hidden",
                                   "task", "length", "budget", "seed")} == {
        "experiment": "exp", "variant": "var", "arch": "lstm", "activation": "", "init": "default",
        "gain": 1.0, "hidden": 8, "task": "recall", "length": 6, "budget": 2, "seed": 3}
    assert math.isnan(record["clip"])
    assert run_cell(tiny_cell(train={"steps": 0, "clip": 0.5}))[0]["clip"] == 0.5


def test_run_cell_is_deterministic(tiny_cell):
    """The same cell gives the same records, timing metrics aside; another seed gives other values."""
    cell = tiny_cell()
    first, second = run_cell(cell), run_cell(cell)
    assert comparable(first) == comparable(second)
    assert comparable(run_cell(tiny_cell(seed=1))) != comparable(first)


def test_divergence_is_a_record_not_an_exception(tiny_cell):
    """A linear RNN with gain 3 under SGD lr 10 without clipping ends as diverged=1 with its step."""
    cell = tiny_cell(model={"activation": "identity", "init": "orthogonal", "gain": 3.0},
                     task={"length": 20}, train={"optimizer": "sgd", "lr": 10.0, "clip": None})
    records = run_cell(cell)
    assert _one(records, "diverged")["value"] == 1.0
    step = _one(records, "diverged_step")["value"]
    assert step == int(step) and 1 <= step <= cell.train.steps
    assert math.isnan(_one(records, "final_accuracy")["value"])
    assert {r["step"] for r in records if r["stage"] == "trained"} == {step - 1}
    assert not [r for r in records if r["stage"] == "trained" and r["metric"] == "grad_norm_state"]
    assert all(list(r) == RECORD_COLUMNS for r in records)


def test_zero_steps_gives_a_probe_only_cell_with_a_final_score(tiny_cell):
    """steps=0 probes at initialisation and scores the untrained model; there are no train records."""
    cell = tiny_cell(train={"steps": 0})
    records = run_cell(cell)
    assert {(r["stage"], r["metric"]) for r in records} == _expected(cell, trained=False)
    final = _one(records, "final_accuracy")["value"]
    assert 0.0 <= final <= 1.0
    assert _one(records, "diverged")["value"] == 0.0 and math.isnan(_one(records, "diverged_step")["value"])
    assert math.isnan(_one(records, "steps_per_second")["value"])
    assert {r["step"] for r in records} == {0}


def test_chance_is_one_over_k_for_recall_and_one_sixth_for_adding(tiny_cell):
    """The chance record is the task's reference level."""
    assert _one(run_cell(tiny_cell(task={"classes": 4}, train={"steps": 0})), "chance")["value"] == 0.25
    adding = run_cell(tiny_cell(task={"name": "adding"}, train={"steps": 0}))
    assert _one(adding, "chance")["value"] == pytest.approx(1 / 6)


def test_training_learns_a_short_dependency(tiny_cell):
    """On recall at length 2 with 2 classes, 60 Adam steps lower the loss and beat chance clearly."""
    cell = tiny_cell(task={"length": 2, "classes": 2},
                     train={"steps": 60, "lr": 0.03, "eval_every": 60, "log_every": 10})
    records = run_cell(cell)
    losses = [r["value"] for r in records if r["metric"] == "train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert _one(records, "final_accuracy")["value"] > 0.9


def test_clipping_bounds_the_update_not_the_recorded_norm(tiny_cell):
    """grad_norm_total is the norm before clipping, so it can exceed the threshold; its max bounds its mean."""
    records = run_cell(tiny_cell(train={"clip": 1e-3}))
    means = [r["value"] for r in records if r["metric"] == "grad_norm_total"]
    maxima = [r["value"] for r in records if r["metric"] == "grad_norm_total_max"]
    assert all(mean > 1e-3 for mean in means)
    assert all(mx >= mean for mx, mean in zip(maxima, means))


@pytest.mark.parametrize("model", [{"arch": "rnn"}, {"arch": "lstm"}, {"arch": "transformer", "heads": 2}],
                         ids=["rnn", "lstm", "transformer"])
def test_copy_cell_reads_length_plus_20_steps_and_scores_the_copied_symbols(tiny_cell, model):
    """Copy: probes cover lags 0..length+19, the score is an accuracy in [0, 1], chance 1/K and the
    loss baseline 10·log K/(length+20) are recorded."""
    cell = tiny_cell(model=model, task={"name": "copy", "length": 5, "classes": 4}, train={"steps": 4, "eval_every": 2})
    records = run_cell(cell)
    lags = sorted(r["time_lag"] for r in records if (r["stage"], r["metric"]) == ("trained", "grad_norm_state"))
    assert lags == [float(lag) for lag in range(25)]
    assert all(0.0 <= r["value"] <= 1.0 for r in records if r["metric"] in ("eval_accuracy", "final_accuracy"))
    assert _one(records, "chance")["value"] == 0.25
    assert _one(records, "loss_baseline")["value"] == pytest.approx(10 * math.log(4) / 25)
    assert [r["step"] for r in records if r["metric"] == "eval_loss"] == [2, 4]


def test_clip_fraction_is_the_share_of_steps_above_the_threshold(tiny_cell):
    """clip_fraction is 1 when the threshold is below every norm, 0 when above every norm or unclipped."""
    def fractions(clip):
        return [r["value"] for r in run_cell(tiny_cell(train={"clip": clip})) if r["metric"] == "clip_fraction"]
    assert fractions(1e-6) == [1.0] * 4
    assert fractions(1e6) == fractions(None) == [0.0] * 4
