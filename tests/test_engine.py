"""The seed-batched engine: hand-written BPTT against autograd, members bit-identical at init and
step for step equal to one cell at a time, each with its own clipping and its own divergence."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from vgreport import architectures
from vgreport.architectures import build_model
from vgreport.models import StackedModel
from vgreport.recurrences import recurrent_layer
from vgreport.specs import ModelSpec
from vgreport.training import RECORD_COLUMNS, initial_model, members_per_batch, run_cell, run_group

ARCHITECTURES = {
    "rnn_tanh": {"arch": "rnn", "activation": "tanh"},
    "rnn_relu": {"arch": "rnn", "activation": "relu"},
    "rnn_sigmoid": {"arch": "rnn", "activation": "sigmoid"},
    "rnn_identity": {"arch": "rnn", "activation": "identity"},
    "lstm": {"arch": "lstm"},
    "lstm_chrono": {"arch": "lstm", "init": "chrono"},
    "gru": {"arch": "gru"},
    "transformer": {"arch": "transformer", "heads": 2},
}
SEEDS = (0, 1, 2)


def _unrolled(arch, activation, x, w_ih, w_hh, b_ih, b_hh):
    """The recurrence written as plain autograd operations, member by member, (T, S, B, H)."""
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "identity": lambda a: a}[activation]
    out = []
    for s in range(x.shape[0]):
        h = c = x.new_zeros(x.shape[1], w_hh.shape[2])
        states = []
        for x_t in x[s].unbind(1):
            xp, hh = x_t @ w_ih[s].T + b_ih[s], h @ w_hh[s].T + b_hh[s]
            if arch == "rnn":
                h = f(xp + hh)
            elif arch == "lstm":
                i, fg, g, o = (xp + hh).chunk(4, dim=1)
                c = torch.sigmoid(fg) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
            else:
                (xr, xz, xn), (hr, hz, hn) = xp.chunk(3, dim=1), hh.chunk(3, dim=1)
                r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                h = (1 - z) * torch.tanh(xn + r * hn) + z * h
            states.append(h)
        out.append(torch.stack(states))
    return torch.stack(out, dim=1)


@pytest.mark.parametrize("arch, activation", [("rnn", "tanh"), ("rnn", "relu"), ("rnn", "sigmoid"),
                                              ("rnn", "identity"), ("lstm", ""), ("gru", "")])
def test_hand_written_bptt_passes_gradcheck_and_matches_autograd(arch, activation):
    """Each recurrence's explicit backward passes gradcheck (float64) and equals autograd over the unrolled step."""
    torch.manual_seed(0)
    S, B, T, I, H = 2, 3, 5, 4, 3  # noqa: E741 (the shapes' names in recurrences.py)
    G = {"rnn": 1, "lstm": 4, "gru": 3}[arch]
    inputs = [torch.randn(S, B, T, I), torch.randn(S, G * H, I), torch.randn(S, G * H, H) * 0.7,
              torch.randn(S, G * H), torch.randn(S, G * H)]
    inputs = [t.to(torch.float64).requires_grad_() for t in inputs]
    for every_step in (True, False):
        layer = lambda *args: recurrent_layer(arch, activation or "tanh", *args, every_step=every_step)  # noqa: E731
        assert torch.autograd.gradcheck(layer, inputs)
        states = _unrolled(arch, activation or "tanh", *inputs)  # (T, S, B, H)
        weights = torch.randn(states.shape if every_step else states.shape[1:], dtype=torch.float64)
        ours = torch.autograd.grad((layer(*inputs) * weights).sum(), inputs)
        theirs = torch.autograd.grad(((states if every_step else states[-1]) * weights).sum(), inputs)
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize("per_step", [False, True], ids=["last_step", "every_step"])
def test_stacked_members_start_bit_identical_and_compute_what_each_model_computes(name, per_step):
    """Member s of a StackedModel holds exactly model s's weights, gives its output, and rebuilds into it."""
    models = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        models.append(build_model(_spec(name), 5, 4, 7, per_step=per_step))
    stacked = StackedModel(models)
    for s, model in enumerate(models):
        for param_name, value in model.named_parameters():
            assert torch.equal(stacked.params[param_name][s], value.detach()), param_name
        rebuilt = stacked.member(s)
        assert all(torch.equal(a, b) for a, b in zip(rebuilt.state_dict().values(), model.state_dict().values()))
    x = torch.randn(len(SEEDS), 3, 7, 5)
    expected = torch.stack([model(x[s]) for s, model in enumerate(models)])
    torch.testing.assert_close(stacked(x), expected, rtol=1e-5, atol=1e-6)


def _spec(name):
    return ModelSpec(**{"hidden": 8, **ARCHITECTURES[name]})


def _series(records, metric):
    return [r["value"] for r in sorted((r for r in records if r["metric"] == metric), key=lambda r: r["step"])]


def _group(tiny_cell, seeds=SEEDS, **sections):
    return [tiny_cell(seed=seed, **sections) for seed in seeds]


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_batched_members_match_one_cell_at_a_time(tiny_cell, name):
    """Batched, each seed starts from run_cell's weights, its first 20 losses match run_cell's to 1e-5
    relative, and its records have run_cell's schema: the same metrics, steps, stages and init probes."""
    cells = _group(tiny_cell, model=ARCHITECTURES[name], train={"log_every": 1})
    batched = run_group(cells, batched=True)
    assert len(batched) == len(cells)
    for cell, records in zip(cells, batched):
        alone = run_cell(cell)
        losses, expected = _series(records, "train_loss"), _series(alone, "train_loss")
        assert len(losses) == len(expected) == 20
        assert losses == pytest.approx(expected, rel=1e-5, abs=0), cell.seed
        assert [(r["stage"], r["metric"], r["step"], r["time_lag"]) for r in records] == \
               [(r["stage"], r["metric"], r["step"], r["time_lag"]) for r in alone]
        assert all(list(r) == RECORD_COLUMNS and r["seed"] == cell.seed for r in records)
        init = [r["value"] for r in records if r["stage"] == "init"]
        assert init == [r["value"] for r in alone if r["stage"] == "init"]


@pytest.mark.parametrize("task", [{"name": "copy", "length": 4}, {"name": "adding"}], ids=["copy", "adding"])
def test_batched_members_match_one_cell_at_a_time_on_every_task(tiny_cell, task):
    """The copy task (an answer at every step) and the adding task (MSE) batch like recall does."""
    cells = _group(tiny_cell, task=task, train={"log_every": 1})
    for cell, records in zip(cells, run_group(cells, batched=True)):
        alone = run_cell(cell)
        assert _series(records, "train_loss") == pytest.approx(_series(alone, "train_loss"), rel=1e-5, abs=0)
        assert {r["metric"] for r in records} == {r["metric"] for r in alone}


def test_each_member_is_clipped_by_its_own_global_norm(tiny_cell):
    """Under SGD (which, unlike Adam, feels the rescaling) with a threshold below every norm, each member's
    losses and clip fractions match its own one-by-one run: the norm is per member, not over the group."""
    cells = _group(tiny_cell, train={"optimizer": "sgd", "lr": 0.5, "clip": 0.05, "log_every": 1})
    for cell, records in zip(cells, run_group(cells, batched=True)):
        alone = run_cell(cell)
        assert _series(records, "grad_norm_total") == pytest.approx(_series(alone, "grad_norm_total"), rel=1e-5)
        assert _series(records, "train_loss") == pytest.approx(_series(alone, "train_loss"), rel=1e-5)
        assert _series(records, "clip_fraction") == _series(alone, "clip_fraction") == [1.0] * 20
    # Clipping by the group's norm would have given other losses: the members' norms differ.
    norms = [_series(run_cell(cell), "grad_norm_total")[0] for cell in cells]
    assert max(norms) > 1.05 * min(norms)


def test_a_diverging_member_stops_alone(tiny_cell):
    """A linear RNN at the edge of stability under SGD: the seeds that diverge alone diverge in the group
    at the same step, and the others train on exactly as they do alone."""
    cells = _group(tiny_cell, seeds=range(5), model={"activation": "identity", "init": "orthogonal", "gain": 1.0},
                   task={"length": 20}, train={"optimizer": "sgd", "lr": 0.3, "clip": None, "log_every": 1})
    alone = [run_cell(cell) for cell in cells]
    diverged = [_series(records, "diverged")[0] for records in alone]
    assert 0 < sum(diverged) < len(cells)  # the configuration gives both kinds of seed
    for records, single in zip(run_group(cells, batched=True), alone):
        assert _series(records, "diverged") == _series(single, "diverged")
        assert _series(records, "diverged_step") == pytest.approx(_series(single, "diverged_step"), nan_ok=True)
        assert _series(records, "train_loss") == pytest.approx(_series(single, "train_loss"), rel=1e-5)
        assert [(r["stage"], r["metric"], r["step"]) for r in records] == \
               [(r["stage"], r["metric"], r["step"]) for r in single]


def test_initial_model_is_the_seeds_model_whatever_the_global_generator_did(tiny_cell):
    """initial_model seeds the global generator itself, so a member built after others starts from its own weights."""
    cell = tiny_cell(seed=2, model={"arch": "lstm", "init": "chrono"})
    first = initial_model(cell)
    torch.rand(100)
    second = initial_model(cell)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def test_run_group_refuses_cells_that_differ_in_more_than_the_seed(tiny_cell):
    """A group is one configuration over seeds; anything else is a ValueError naming the cell."""
    with pytest.raises(ValueError, match="differs from .* in more than its seed"):
        run_group([tiny_cell(seed=0), tiny_cell(seed=1, model={"hidden": 16})])
    assert run_group([]) == []


def test_run_group_one_by_one_is_run_cell(tiny_cell):
    """Where the policy says one by one (or forced), run_group returns exactly run_cell's records."""
    cells = _group(tiny_cell, model={"arch": "lstm"}, train={"steps": 5})
    timing = {"steps_per_second", "wall_seconds"}
    strip = lambda rs: [r for r in rs if r["metric"] not in timing]  # noqa: E731
    for records, cell in zip(run_group(cells, batched=False), cells):
        assert strip(records) == strip(run_cell(cell))


def test_policy_batches_whole_groups_on_accelerators_and_measured_sizes_on_the_cpu(tiny_cell):
    """An accelerator trains a whole group of several seeds as one batch; the CPU at most its
    architecture's cpu_members (0: one cell at a time); no training steps, no batch."""
    for arch, size in ((name, entry.cpu_members) for name, entry in architectures.ARCHITECTURES.items()):
        cell = tiny_cell(model={"arch": arch, **({"heads": 2} if arch == "transformer" else {})})
        assert members_per_batch(cell, "cpu", 30) == size
        assert members_per_batch(cell, "cpu", 1) == min(1, size)
        assert members_per_batch(cell, "cuda", 30) == members_per_batch(cell, "cuda:1", 30) == 30
        assert members_per_batch(cell, "cuda", 1) == 0
    assert members_per_batch(tiny_cell(train={"steps": 0}), "cuda", 30) == 0


def test_a_group_larger_than_the_cpu_batch_trains_in_batches_in_order(tiny_cell, monkeypatch):
    """With batches of 2, a group of 5 seeds returns 5 record lists in the cells' order, each as run_cell's."""
    monkeypatch.setitem(architectures.ARCHITECTURES, "rnn", dataclasses.replace(architectures.ARCHITECTURES["rnn"], cpu_members=2))
    cells = _group(tiny_cell, seeds=(4, 0, 3, 1, 2), train={"steps": 6, "log_every": 1, "eval_every": 3})
    for cell, records in zip(cells, run_group(cells)):
        assert {r["seed"] for r in records} == {cell.seed}
        assert _series(records, "train_loss") == pytest.approx(_series(run_cell(cell), "train_loss"), rel=1e-5)


def test_gpu_profile_gives_every_configuration_at_least_30_seeds():
    """The gpu profile is the standard battery with at least 30 seeds per configuration."""
    from vgreport.specs import default_experiments_dir, load_battery
    gpu, standard = (load_battery(default_experiments_dir(), p) for p in ("gpu", "standard"))
    assert all(experiment.seeds >= 30 for experiment in gpu.experiments)
    assert [e.name for e in gpu.experiments] == [e.name for e in standard.experiments]
