"""A model is one entry (vgreport/architectures.py): registering a toy architecture is all it takes for
specs to accept it, the runner to cost and batch it, training to build and probe it and a build to
report it; the shipped entries keep the numbers the code used before the registry."""
from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from vgreport import api
from vgreport.architectures import ARCHITECTURES, Architecture, build_model, style_slot
from vgreport.models import CausalTransformer, RecurrentNet, SequenceModel
from vgreport.runner import estimate_bytes, estimate_seconds
from vgreport.specs import ModelSpec, SpecError, load_battery
from vgreport.training import members_per_batch

import helpers


class ToyNet(SequenceModel):
    """A leaky tanh state with one learned decay: no W_hh, so none of the plain RNN's probes."""

    def __init__(self, spec, input_size, output_size, length, per_step=False):
        super().__init__()
        self.spec, self.per_step = spec, per_step
        self.inputs = nn.Linear(input_size, spec.hidden)
        self.decay = nn.Parameter(torch.tensor(0.5))
        self.head = nn.Linear(spec.hidden, output_size)

    def unroll(self, x, retain=True):
        h, states = x.new_zeros(x.shape[0], self.spec.hidden), []
        for x_t in self.inputs(x).unbind(1):
            h = torch.tanh(self.decay * h + x_t)
            if retain and h.requires_grad:
                h.retain_grad()
            states.append(h)
        return self.head(torch.stack(states, dim=1) if self.per_step else h), states, []

    def forward(self, x):
        return self.unroll(x, retain=False)[0]


TOY = Architecture(name="toy", family="toy models", build=lambda: ToyNet, label=lambda spec: f"Toy ({spec.hidden} units)",
                   steps_per_second=300.0, width=8, values_per_step=4, slot=5)
EXPERIMENT = helpers.experiments(helpers.experiment(variants={"toy": "{model: {arch: toy}}", "tanh": "{}"}))


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(ARCHITECTURES, "toy", TOY)
    return TOY


def test_an_unregistered_architecture_is_refused_on_one_line(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_battery(helpers.write(tmp_path / "b", EXPERIMENT), "standard")
    assert "unknown arch 'toy'" in str(caught.value) and "\n" not in str(caught.value)


def test_a_registered_toy_model_goes_through_the_whole_pipeline(toy, tmp_path):
    """One entry, one experiment: the spec accepts it, the runner costs it and trains it (one cell at
    a time: it cannot be stacked), its probes run, and a build reports it by its entry's name."""
    folder = helpers.write(tmp_path / "battery", EXPERIMENT, helpers.profiles(standard=2))
    cells = [c for c in load_battery(folder, "standard").cells() if c.model.arch == "toy"]
    assert len(cells) == 2 and math.isfinite(estimate_seconds(cells[0])) and estimate_bytes(cells[0]) > 0
    assert members_per_batch(cells[0], "cpu", 2) == 0
    result = api.build(out=tmp_path / "out", experiments_dir=folder, formats=("html",), jobs=1, progress=False)
    assert result.summary.computed == 4 and not result.summary.failed
    metrics = (tmp_path / "out" / "metrics.csv").read_text().splitlines()
    toy_rows = [line for line in metrics if ",toy," in line]
    assert any(",grad_norm_state," in r for r in toy_rows) and any(",final_accuracy," in r for r in toy_rows)
    assert not any(",jacobian_chain_norm," in r or ",bound_gamma," in r for r in toy_rows)  # a plain RNN's only
    assert "Toy (4 units)" in (tmp_path / "out" / "report.html").read_text()
    cells_csv = (tmp_path / "out" / "cells.csv").read_text()
    assert cells_csv.count(",toy,") == 2, cells_csv


def test_build_model_builds_each_shipped_architecture_from_its_entry():
    for arch, kind in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        model = build_model(ModelSpec(arch=arch, hidden=8), 4, 3, 5)
        assert isinstance(model, RecurrentNet) and isinstance(model.rnn, kind)
    assert isinstance(build_model(ModelSpec(arch="transformer", hidden=8), 4, 3, 5), CausalTransformer)


def test_the_shipped_entries_keep_the_numbers_used_before_the_registry():
    """Costs, batching and styles as they were written out in runner, training and findings."""
    rates = {a: ARCHITECTURES[a].steps_per_second for a in ("rnn", "lstm", "gru", "transformer")}
    assert rates == {"rnn": 160.0, "lstm": 40.0, "gru": 40.0, "transformer": 68.0}
    # members per batch on the CPU: measured again once batches stopped page-faulting (docs/engine.md)
    assert {a: ARCHITECTURES[a].cpu_members for a in rates} == {"rnn": 16, "gru": 16, "lstm": 16, "transformer": 16}
    assert {a: ARCHITECTURES[a].cpu_longest for a in rates} == {"rnn": None, "gru": None, "lstm": 20, "transformer": None}
    assert {a: ARCHITECTURES[a].values_per_step for a in rates} == {"rnn": 6, "gru": 12, "lstm": 16, "transformer": 12}
    assert [a for a in rates if ARCHITECTURES[a].plain_recurrence] == ["rnn"]
    # one model, one style, whatever its variant is called: the orthogonal tanh RNN of 'init' and of 'activation'
    assert style_slot("rnn", "tanh", "orthogonal") == 5 and style_slot("rnn", "tanh", "default") == 0
    assert style_slot("lstm", "", "chrono") == 2 and style_slot("transformer", "", "default") == 6
    json.dumps({a: ARCHITECTURES[a].family for a in rates})
