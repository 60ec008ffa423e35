"""The seed-batched engine: hand-written BPTT against autograd, members bit-identical at init and
step for step equal to one cell at a time, each with its own clipping and its own divergence."""
from __future__ import annotations

import dataclasses
import platform
import subprocess
import sys
import textwrap

import pytest
import torch

from vgreport import architectures
from vgreport.architectures import build_model
from vgreport.models import StackedModel
from vgreport.recurrences import _tanh_, recurrent_layer
from vgreport.specs import MEMBER_FIELDS, ModelSpec
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


def test_the_cpu_tanh_is_tanh_to_float_rounding():
    """_tanh_ (2·sigmoid(2x) − 1 on the CPU) is within 2e-7 of tanh in float32, from 0 and the
    smallest floats to where tanh saturates and beyond, with no NaN; in float64 within 1e-15."""
    x = torch.cat([torch.linspace(-60, 60, 200_001), torch.logspace(-40, 1, 2_000), -torch.logspace(-40, 1, 2_000),
                   torch.tensor([0.0, -0.0, 88.0, -88.0, 1e4, -1e4])])
    exact = torch.tanh(x.double())
    assert (_tanh_(x.clone()).double() - exact).abs().max() < 2e-7
    assert (_tanh_(x.double()) - exact).abs().max() < 1e-15


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


# Cells of one shape and budget that differ in what a member may have of its own: initialisation and
# gain (initial weights), recall lag (data), clipping threshold (none included), probes, labels.
MIXED = {
    "inits": [{"model": {"init": init}, "variant": init} for init in ("default", "xavier", "orthogonal")],
    "lstm_inits": [{"model": {"arch": "lstm", "init": init}} for init in ("default", "forget_bias_1", "chrono")],
    "gains": [{"model": {"init": "orthogonal", "gain": gain}} for gain in (0.5, 1.0, 2.5)],
    "lags": [{"task": {"lag": lag}} for lag in (1, 3, None)],
    "clipping": [{"train": {"clip": clip}} for clip in (0.05, None, 1.0)],
    "everything": [{"model": {"init": "xavier"}}, {"model": {"init": "orthogonal", "gain": 1.6}},
                   {"task": {"lag": 2}, "train": {"clip": None}}, {"probe": {"batch": 6}, "experiment": "other"}],
}


def _mixed(tiny_cell, name, seeds=(0, 1), **common):
    """Each configuration of MIXED[name] at each seed, its sections laid over `common`'s."""
    cells = []
    for seed in seeds:
        for config in MIXED[name]:
            sections = {k: {**common.get(k, {}), **v} if isinstance(v, dict) else v for k, v in config.items()}
            cells.append(tiny_cell(seed=seed, **{**common, **sections}))
    return cells


def _same_start(records, alone):
    """The records of one cell trained in a batch against the cell alone: the same rows (stage,
    metric, step, lag) with the same labels, identical init probes, and the first 20 training
    losses and gradient norms to 1e-5 relative."""
    timing = {"steps_per_second", "wall_seconds"}
    assert [(r["stage"], r["metric"], r["step"], r["time_lag"]) for r in records] == \
           [(r["stage"], r["metric"], r["step"], r["time_lag"]) for r in alone]
    labels = lambda rs: [repr({k: v for k, v in r.items() if k not in ("value", "step", "time_lag")}) for r in rs]  # noqa: E731
    assert labels(records) == labels(alone)  # repr: a NaN clip equals a NaN clip
    assert [r["value"] for r in records if r["stage"] == "init"] == [r["value"] for r in alone if r["stage"] == "init"]
    for metric in ("train_loss", "grad_norm_total"):
        assert len(_series(records, metric)) == 20
        assert _series(records, metric) == pytest.approx(_series(alone, metric), rel=1e-5, abs=0), metric
    assert _series(records, "clip_fraction") == _series(alone, "clip_fraction")
    assert {r["metric"] for r in records} - timing == {r["metric"] for r in alone} - timing


@pytest.mark.parametrize("name", MIXED)
def test_cells_of_one_shape_train_in_one_batch_each_as_it_would_alone(tiny_cell, name):
    """Initialisations, gains, recall lags and clipping thresholds (none included) mixed in one
    batch: each cell starts from run_cell's weights, draws its own data, is clipped at its own
    threshold, and its first 20 losses match run_cell's to 1e-5 relative, with run_cell's schema."""
    cells = _mixed(tiny_cell, name, train={"log_every": 1})
    for cell, records in zip(cells, run_group(cells, batched=True)):
        _same_start(records, run_cell(cell))


def test_clipped_and_unclipped_members_of_one_batch_are_each_clipped_as_alone(tiny_cell):
    """Under SGD (which feels the rescaling), clip 0.05 beside no clipping and clip 1.0: each
    member's norms, losses and clip fractions are its own run's; the clipped arm is clipped at every
    step and the unclipped never, so the coefficient really is per member."""
    cells = _mixed(tiny_cell, "clipping", seeds=(0,), train={"optimizer": "sgd", "lr": 0.5, "log_every": 1})
    for cell, records in zip(cells, run_group(cells, batched=True)):
        _same_start(records, run_cell(cell))
    fractions = [_series(records, "clip_fraction") for records in run_group(cells, batched=True)]
    assert fractions[0] == [1.0] * 20 and fractions[1] == [0.0] * 20


def test_recall_lags_in_one_batch_learn_their_own_targets(tiny_cell):
    """Each lag's member is evaluated on its own held-out targets: a batch of lags gives each the
    scores it gets alone (every evaluation), not the first member's."""
    cells = _mixed(tiny_cell, "lags", seeds=(3,), train={"steps": 40, "eval_every": 10})
    for cell, records in zip(cells, run_group(cells, batched=True)):
        alone = run_cell(cell)
        assert _series(records, "eval_accuracy") == pytest.approx(_series(alone, "eval_accuracy"), abs=1e-9)


def test_a_cells_records_do_not_depend_on_its_batch_companions(tiny_cell):
    """The same cell trained beside other initialisations, beside other lags and gains, and alone:
    identical init probes and schema, the first 20 losses equal to 1e-5 relative, and every other
    number (evaluations, trained probes) equal to float rounding over 20 steps."""
    cell = tiny_cell(seed=1, model={"init": "orthogonal", "gain": 1.6}, train={"log_every": 1})
    companions = [
        [tiny_cell(seed=0), tiny_cell(seed=2, model={"init": "xavier"})],
        [tiny_cell(seed=5, task={"lag": 2}), tiny_cell(seed=1, model={"init": "orthogonal", "gain": 0.5}),
         tiny_cell(seed=3, train={"clip": None}), tiny_cell(seed=4, model={"init": "xavier"})],
    ]
    timing = {"steps_per_second", "wall_seconds"}
    alone = run_cell(cell)
    for others in companions:
        batch = [other.model_copy(update={"train": other.train.model_copy(update={"log_every": 1})})
                 for other in others]
        records = run_group([batch[0], cell, *batch[1:]], batched=True)[1]
        _same_start(records, alone)
        values = [r["value"] for r in records if r["metric"] not in timing]
        assert values == pytest.approx([r["value"] for r in alone if r["metric"] not in timing], rel=1e-4, abs=1e-6,
                                       nan_ok=True)


def test_a_member_rebuilt_from_the_stack_carries_its_own_spec(tiny_cell):
    """The probes after training read a member's spec: it is the member's (its init and gain), not the first's."""
    models = [initial_model(tiny_cell(seed=s, model={"init": "orthogonal", "gain": g})) for s, g in ((0, 0.5), (1, 2.0))]
    stacked = StackedModel(models)
    assert [stacked.member(s).spec for s in range(2)] == [m.spec for m in models]
    stacked.select(torch.tensor([1]))
    assert stacked.member(0).spec == models[1].spec


@pytest.mark.parametrize("change, field", [({"model": {"hidden": 16}}, "model.hidden"),
                                           ({"model": {"activation": "relu"}}, "model.activation"),
                                           ({"train": {"lr": 0.01}}, "train.lr"),
                                           ({"train": {"steps": 10}}, "train.steps"),
                                           ({"task": {"length": 7}}, "task.length")])
def test_run_group_refuses_cells_of_another_shape_or_budget(tiny_cell, change, field):
    """What fixes the tensors or the training arithmetic cannot differ within a batch: a ValueError
    naming both cells and the field."""
    with pytest.raises(ValueError, match=f"'tiny/base seed 1' cannot train in one batch with 'tiny/base seed 0': "
                                         f"they differ in {field}$"):
        run_group([tiny_cell(seed=0), tiny_cell(seed=1, **change)])
    assert run_group([]) == []


def test_the_batch_key_leaves_out_exactly_the_member_fields(tiny_cell):
    """Cells that differ in a MEMBER_FIELDS field share a batch key; any other field changes it."""
    cell = tiny_cell()
    same = [tiny_cell(seed=9, experiment="x", variant="y", model={"init": "orthogonal", "gain": 2.0},
                      task={"lag": 1}, train={"clip": None}, probe={"batch": 7, "jacobian_samples": 0}),
            cell.model_copy(update={"sweep_value": 3.0})]
    assert all(other.batch_key == cell.batch_key for other in same)
    paths = [path for path, _ in cell.batch_key]
    assert not any(path in MEMBER_FIELDS or path.split(".")[0] in MEMBER_FIELDS for path in paths)
    assert {"model.arch", "model.activation", "model.hidden", "task.name", "task.length", "task.classes", "train.steps",
            "train.batch", "train.lr", "train.optimizer", "train.eval_every", "train.eval_size"} <= set(paths)


def test_run_group_one_by_one_is_run_cell(tiny_cell):
    """Where the policy says one by one (an LSTM past its cpu_longest) or forced, run_group returns
    exactly run_cell's records."""
    timing = {"steps_per_second", "wall_seconds"}
    strip = lambda rs: [r for r in rs if r["metric"] not in timing]  # noqa: E731
    long_lstm = _group(tiny_cell, model={"arch": "lstm"}, task={"length": 24}, train={"steps": 5})
    assert members_per_batch(long_lstm[0], "cpu", len(long_lstm)) == 0
    for cells, batched in ((long_lstm, None), (_group(tiny_cell, model={"arch": "gru"}, train={"steps": 5}), False)):
        for records, cell in zip(run_group(cells, batched=batched), cells):
            assert strip(records) == strip(run_cell(cell))


def test_policy_batches_whole_groups_on_accelerators_and_measured_sizes_on_the_cpu(tiny_cell):
    """An accelerator trains a whole group of several seeds as one batch; the CPU at most its
    architecture's cpu_members (0: one cell at a time), and one at a time past its cpu_longest
    (the LSTM: the battery's T=10 in batches, T=40 on the fused kernel); no training steps, no batch."""
    for arch, entry in architectures.ARCHITECTURES.items():
        for length in (8, 40):
            cell = tiny_cell(model={"arch": arch, **({"heads": 2} if arch == "transformer" else {})},
                             task={"length": length})
            size = entry.cpu_members if entry.cpu_longest is None or length <= entry.cpu_longest else 0
            assert members_per_batch(cell, "cpu", 30) == size
            assert members_per_batch(cell, "cpu", 1) == min(1, size)
            assert members_per_batch(cell, "cuda", 30) == members_per_batch(cell, "cuda:1", 30) == 30
            assert members_per_batch(cell, "cuda", 1) == 0
    lstm = tiny_cell(model={"arch": "lstm"}, task={"length": 10})
    assert members_per_batch(lstm, "cpu", 30) == 16
    assert members_per_batch(lstm.model_copy(update={"task": lstm.task.model_copy(update={"length": 40})}), "cpu", 30) == 0
    assert members_per_batch(tiny_cell(train={"steps": 0}), "cuda", 30) == 0


def test_a_group_larger_than_the_cpu_batch_trains_in_batches_in_order(tiny_cell, monkeypatch):
    """With batches of 2, a group of 5 seeds returns 5 record lists in the cells' order, each as run_cell's."""
    monkeypatch.setitem(architectures.ARCHITECTURES, "rnn", dataclasses.replace(architectures.ARCHITECTURES["rnn"], cpu_members=2))
    cells = _group(tiny_cell, seeds=(4, 0, 3, 1, 2), train={"steps": 6, "log_every": 1, "eval_every": 3})
    for cell, records in zip(cells, run_group(cells)):
        assert {r["seed"] for r in records} == {cell.seed}
        assert _series(records, "train_loss") == pytest.approx(_series(run_cell(cell), "train_loss"), rel=1e-5)


_FAULTS = textwrap.dedent("""\
    import resource, torch
    from vgreport import training
    from vgreport.specs import CellSpec, ModelSpec, ProbeSpec, TaskSpec, TrainSpec
    from vgreport.tasks import make_batch
    torch.set_num_threads(1)
    cells = [CellSpec(experiment="e", variant="v", seed=s, model=ModelSpec(hidden=64), task=TaskSpec(length=50),
                      train=TrainSpec(batch=64), probe=ProbeSpec()) for s in range(8)]
    members = [training._Member(c) for c in cells]
    trainer = training._StackedTrainer(members, "cpu")
    def faults():  # the median of a step's page faults, after three steps to settle
        counts = []
        for _ in range(10):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            trainer.step([make_batch(m.cell.task, 64, m.g_train) for m in members])
            counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        return sorted(counts[3:])[3]
    default = faults()
    training._keep_freed_memory()
    print(default, faults())
""")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")
def test_a_batched_step_reuses_the_memory_the_last_step_freed():
    """glibc by default hands freed blocks over about 128 KiB back to the system, so each step's
    megabyte temporaries come back as fresh pages, one page fault at a time (measured 1,700-3,600 a
    step for 8 members at T=50); once the engine has set glibc to keep them (as every run does), a
    step makes almost none."""
    done = subprocess.run([sys.executable, "-c", _FAULTS], capture_output=True, text=True, check=True)
    default, kept = map(float, done.stdout.split())
    assert default > 200 and kept * 10 < default, (default, kept)


def test_gpu_profile_gives_every_configuration_at_least_30_seeds():
    """The gpu profile is the standard battery with at least 30 seeds per configuration."""
    from vgreport.specs import default_experiments_dir, load_battery
    gpu, standard = (load_battery(default_experiments_dir(), p) for p in ("gpu", "standard"))
    assert all(experiment.seeds >= 30 for experiment in gpu.experiments)
    assert [e.name for e in gpu.experiments] == [e.name for e in standard.experiments]
