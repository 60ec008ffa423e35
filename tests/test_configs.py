"""A configuration is one key (configs.Config): a sweep over any field the specs accept keeps its
values apart in every table, the looks and the findings, and a sweep over a field the records do
not carry is refused on one line."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from vgreport import api
from vgreport.aggregate import cell_table, decay_rates, final_scores, records_frame
from vgreport.cli import _run_table
from vgreport.configs import KEY, Config, config_of
from vgreport.findings import evaluate
from vgreport.findings import synthetic as syn
from vgreport.findings.base import Context
from vgreport.findings.tables import config_outcomes, rates
from vgreport.specs import SWEEPABLE, SpecError, load_battery

import helpers

HIDDEN = helpers.experiments(helpers.experiment(extra="    sweep: {model.hidden: [4, 6]}\n"))


def test_the_key_is_the_experiment_the_variant_and_every_sweepable_field():
    assert KEY == ["experiment", "variant"] + list(SWEEPABLE.values())


def test_a_sweep_over_model_hidden_reaches_every_table(tmp_path):
    """Two variants x hidden 4 and 6 x 2 seeds: eight cells, four configurations, and every table
    built from the records keeps them apart (before, final_scores kept the first of each pair)."""
    folder = helpers.write(tmp_path / "battery", HIDDEN, helpers.profiles(smoke=2))
    result = api.run_experiment("tiny", profile="smoke", experiments_dir=folder, out=tmp_path / "out", jobs=1,
                                progress=False)
    frame = records_frame(result.records.to_dict("records"))
    cells = {(r["variant"], int(r["hidden"]), int(r["seed"])) for _, r in frame.iterrows()}
    assert len(cells) == 8
    assert len(final_scores(frame, "tiny")) == 8
    assert len(decay_rates(frame, "tiny")) == 8
    assert len(cell_table(frame)) == 8
    ctx = Context(frame)
    outcomes = config_outcomes(ctx, "tiny")
    assert sorted((c.variant, c.hidden) for c in outcomes) == [("lstm", 4), ("lstm", 6), ("tanh", 4), ("tanh", 6)]
    assert all(o.n == 2 for o in outcomes.values())
    assert sorted((c.variant, c.hidden) for c in rates(ctx, "tiny")) == sorted((c.variant, c.hidden) for c in outcomes)
    table = _run_table(frame).splitlines()
    assert "hidden" in table[0] + table[1] and len(table) == 2 + 4, table  # a header of two lines, one row each


def test_later_looks_add_seeds_to_exactly_the_configuration_named(tmp_path):
    """The sequential design names configurations; the next look's cells are those of that
    configuration only, not of every hidden size that shares its variant and length."""
    profiles = helpers.profiles(standard="{seeds: 2, training_seeds: [2, 3]}")
    battery = load_battery(helpers.write(tmp_path / "battery", HIDDEN, profiles), "standard")
    first = [c for c in battery.cells() if c.variant == "tanh" and c.model.hidden == 6]
    later = battery.later_cells([config_of(first[0])], 1)
    assert [(c.variant, c.model.hidden, c.seed) for c in later] == [("tanh", 6, 2)]


@pytest.mark.parametrize("field", ["train.lr", "task.lag", "model.heads", "probe.batch"])
def test_a_sweep_the_records_cannot_tell_apart_is_refused_on_one_line(tmp_path, field):
    value = "[1, 2]" if field != "train.lr" else "[0.001, 0.01]"
    text = helpers.experiments(helpers.experiment(extra=f"    sweep: {{{field}: {value}}}\n"))
    with pytest.raises(SpecError) as caught:
        load_battery(helpers.write(tmp_path / "battery", text), "standard")
    message = str(caught.value)
    assert "\n" not in message and field in message and "model.hidden" in message, message


def test_a_finding_never_pools_configurations_it_does_not_tell_apart():
    """'activation' with every cell also at another width: C8 reads one configuration per activation,
    so it says it cannot decide and names the field, instead of pooling the two widths."""
    frame = syn.world()
    wider = frame[frame["experiment"] == "activation"].assign(hidden=32)
    both = pd.concat([frame, wider], ignore_index=True)
    (result,) = evaluate(both, None, with_figures=False, ids=("C8",)).findings
    assert result.verdict == "inconclusive"
    assert "hidden" in result.reason and "activation" in result.reason, result.reason
    (alone,) = evaluate(frame, None, with_figures=False, ids=("C8",)).findings
    assert alone.verdict == "supported"


def test_a_configuration_sorts_by_experiment_variant_then_length():
    a = Config("e", "v", 5, 1.0, 64, 100)
    b = Config("e", "v", 10, 0.5, 8, 50)
    assert sorted([b, a]) == [a, b] and a.label == "e/v T=5"
    assert Config.of({**a.to_json(), "gain": 1}) == a and not math.isnan(a.gain)
