"""The sequential design: later looks add seeds only where a finding is still undecided."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from vgreport import api
from vgreport.findings import Config

import helpers

PROFILES, EXPERIMENTS = helpers.LOOKS_PROFILES, helpers.LOOKS_EXPERIMENTS


@pytest.fixture
def battery(tmp_path):
    return helpers.write(tmp_path / "battery", EXPERIMENTS, PROFILES, file="axis.yaml")


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
    looks = iter([{Config("tiny", "relu", 5, 1.0, 4, 4)}, {Config("tiny", "relu", 5, 1.0, 4, 4)}])

    def fake(frame, battery=None, with_figures=True, ids=None, **options):
        if with_figures:  # the final evaluation for the report
            return real(frame, battery, with_figures, ids, **options)
        return helpers.Pending(next(looks))

    monkeypatch.setattr(findings, "evaluate", fake)
    result = api.build(profile="standard", out=tmp_path / "out", experiments_dir=battery, jobs=1, progress=False,
                       formats=("html",))
    assert result.summary.looks == 3
    frame = pd.read_csv(tmp_path / "out" / "metrics.csv")
    seeds = {key: set(group["seed"]) for key, group in frame.groupby(["experiment", "variant"])}
    assert seeds[("tiny", "relu")] == {0, 1, 2, 3}
    assert seeds[("tiny", "tanh")] == {0, 1}
    assert seeds[("at_init", "base")] == {0, 1}
    assert json.loads((tmp_path / "out" / "findings.json").read_text())["looks"] == 3


def test_a_look_leaves_each_seed_out_to_find_thin_parts(battery, tmp_path, monkeypatch):
    """Deciding what a later look tops up evaluates the findings with each seed left out once, so that a
    thin core part (decided by one seed) gets seeds as an undetermined one does."""
    import vgreport.findings as findings
    real = findings.evaluate
    options_seen = []

    def spy(frame, battery=None, with_figures=True, ids=None, **options):
        if not with_figures:
            options_seen.append(options)
            return helpers.Pending(set())
        return real(frame, battery, with_figures, ids, **options)

    monkeypatch.setattr(findings, "evaluate", spy)
    api.build(profile="standard", out=tmp_path / "out", experiments_dir=battery, jobs=1, progress=False,
              formats=("html",))
    assert options_seen and all(o.get("leave_one_seed_out") is True for o in options_seen)


def test_render_replays_the_looks_from_the_cache(battery, tmp_path, monkeypatch):
    """`render` reaches the same cells as the build from the cache alone (the looks are deterministic)."""
    import vgreport.findings as findings
    real = findings.evaluate

    def fake(frame, battery=None, with_figures=True, ids=None, **options):
        if with_figures:
            return real(frame, battery, with_figures, ids, **options)
        return helpers.Pending({Config("tiny", "tanh", 5, 1.0, 4, 4)} if frame["seed"].max() < 2 else set())

    monkeypatch.setattr(findings, "evaluate", fake)
    built = api.build(profile="standard", out=tmp_path / "out", experiments_dir=battery, jobs=1, progress=False,
                      formats=("html",))
    rendered = api.render(profile="standard", out=tmp_path / "out", experiments_dir=battery, formats=("html",),
                          force_render=True)
    assert rendered.summary.computed == 0 and rendered.summary.cells == built.summary.cells == 7


def test_an_unchanged_rebuild_reads_the_looks_from_the_cache_and_a_damaged_memo_is_recomputed(
        battery, tmp_path, monkeypatch):
    """Deciding which configurations get more seeds evaluates every finding (seconds on a standard
    build). The decision is kept in the cache under the records' digests and the code: a rebuild
    of unchanged cells reads it, never evaluates for it, and reaches the same cells; a damaged
    memo is evaluated again; `clean` removes the memo with the rest of the cache."""
    import vgreport.findings as findings
    real = findings.evaluate
    calls = []

    def fake(frame, battery=None, with_figures=True, ids=None, **options):
        if with_figures:
            return real(frame, battery, with_figures, ids, **options)
        calls.append(int(frame["seed"].max()))
        return helpers.Pending({Config("tiny", "tanh", 5, 1.0, 4, 4)} if frame["seed"].max() < 3 else set())

    monkeypatch.setattr(findings, "evaluate", fake)
    kwargs = dict(profile="standard", out=tmp_path / "out", cache_dir=tmp_path / "cache", experiments_dir=battery,
                  jobs=1, progress=False, formats=("html",))
    first = api.build(**kwargs)
    assert calls == [1, 2] and first.summary.looks == 3  # decided after looks 1 and 2
    memos = sorted((tmp_path / "cache" / "looks").glob("*.json"))
    assert len(memos) == 2
    again = api.build(**kwargs)
    assert calls == [1, 2] and again.summary.cells == first.summary.cells and again.summary.computed == 0
    for memo in memos:
        memo.write_text("{not json")
    damaged = api.build(**kwargs, force_render=True)
    assert calls == [1, 2, 1, 2] and damaged.summary.cells == first.summary.cells
    api.clean(out=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "looks").exists()


_REBUILD_AND_LIST_IMPORTS = """
import sys
from vgreport import api
result = api.build(profile="standard", out=sys.argv[1], cache_dir=sys.argv[2], experiments_dir=sys.argv[3],
                   jobs=1, progress=False, formats=("html",))
assert result.summary.computed == 0 and result.summary.report == "reused", result.summary
print(sorted(m for m in ("pandas", "scipy", "matplotlib", "torch", "weasyprint") if m in sys.modules))
"""


def test_an_unchanged_rebuild_with_looks_loads_no_numerical_or_rendering_library(battery, tmp_path):
    """An unchanged rebuild only reads the cache and copies the report: neither the looks' decision
    (read from its memo) nor the report digest (the template listing) loads pandas, scipy,
    matplotlib, torch or WeasyPrint, which take seconds to import."""
    import subprocess
    import sys
    args = [str(tmp_path / "out"), str(tmp_path / "cache"), str(battery)]
    api.build(profile="standard", out=args[0], cache_dir=args[1], experiments_dir=battery, jobs=1, progress=False,
              formats=("html",))
    result = subprocess.run([sys.executable, "-c", _REBUILD_AND_LIST_IMPORTS, *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
