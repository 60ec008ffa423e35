"""The sequential design: later looks add seeds only where a finding is still undecided."""
from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest

from vgreport import api
from vgreport.findings import Config

PROFILES = textwrap.dedent("""\
    smoke: {seeds: 1}
    quick: {seeds: 2}
    standard: {seeds: 2, training_seeds: [2, 3, 4]}
    full: {seeds: 2}
""")
EXPERIMENTS = textwrap.dedent("""\
    experiments:
      - name: tiny
        title: "A tiny RNN"
        model: {arch: rnn, activation: tanh, hidden: 4}
        task: {name: recall, length: 5, classes: 3}
        train: {steps: 4, eval_every: 2, log_every: 2, eval_size: 16}
        probe: {batch: 4, jacobian_samples: 1}
        variants:
          tanh: {}
          relu: {model: {activation: relu}}
      - name: at_init
        title: "Gradients at initialisation"
        model: {arch: rnn, activation: tanh, hidden: 4}
        task: {name: recall, length: 5, classes: 3}
        train: {steps: 0}
        probe: {batch: 4, jacobian_samples: 1}
""")


@pytest.fixture
def battery(tmp_path):
    folder = tmp_path / "battery"
    folder.mkdir()
    (folder / "profiles.yaml").write_text(PROFILES)
    (folder / "axis.yaml").write_text(EXPERIMENTS)
    return folder


class _Pending:
    def __init__(self, configs):
        self.configs = configs

    def undetermined(self):
        return self.configs


def test_later_looks_add_seeds_only_to_undecided_configurations(battery, tmp_path, monkeypatch):
    """After the first look (2 seeds each) the undecided configuration gets seed 2, then seed 3; the
    decided one and the experiment measured at initialisation keep their first seeds."""
    import vgreport.findings as findings
    real = findings.evaluate
    looks = iter([{Config("tiny", "relu", 5, 1.0)}, {Config("tiny", "relu", 5, 1.0)}])

    def fake(frame, battery=None, with_figures=True, ids=None):
        if with_figures:  # the final evaluation for the report
            return real(frame, battery, with_figures, ids)
        return _Pending(next(looks))

    monkeypatch.setattr(findings, "evaluate", fake)
    result = api.build(profile="standard", out=tmp_path / "out", experiments_dir=battery, jobs=1, progress=False,
                       formats=("html",))
    assert result.summary["looks"] == 3
    frame = pd.read_csv(tmp_path / "out" / "metrics.csv")
    seeds = {key: set(group["seed"]) for key, group in frame.groupby(["experiment", "variant"])}
    assert seeds[("tiny", "relu")] == {0, 1, 2, 3}
    assert seeds[("tiny", "tanh")] == {0, 1}
    assert seeds[("at_init", "base")] == {0, 1}
    assert json.loads((tmp_path / "out" / "findings.json").read_text())["looks"] == 3


def test_render_replays_the_looks_from_the_cache(battery, tmp_path, monkeypatch):
    """`render` reaches the same cells as the build from the cache alone (the looks are deterministic)."""
    import vgreport.findings as findings
    real = findings.evaluate

    def fake(frame, battery=None, with_figures=True, ids=None):
        if with_figures:
            return real(frame, battery, with_figures, ids)
        return _Pending({Config("tiny", "tanh", 5, 1.0)} if frame["seed"].max() < 2 else set())

    monkeypatch.setattr(findings, "evaluate", fake)
    built = api.build(profile="standard", out=tmp_path / "out", experiments_dir=battery, jobs=1, progress=False,
                      formats=("html",))
    rendered = api.render(profile="standard", out=tmp_path / "out", experiments_dir=battery, formats=("html",),
                          force_render=True)
    assert rendered.summary["computed"] == 0 and rendered.summary["cells"] == built.summary["cells"] == 7
