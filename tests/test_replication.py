"""Replication: --seed-base runs the battery on other seeds (other cells), and leaving one seed out
marks the parts and verdicts that one seed decides (fragile)."""
from __future__ import annotations

import json
import types

import pytest
from click.testing import CliRunner

from vgreport import api
from vgreport.cli import main
from vgreport.configs import Config
from vgreport.findings import evaluate
from vgreport.findings import synthetic as syn
from vgreport.findings.base import Outcome, Part, Spec
from vgreport.manifest import seed_ranges
from vgreport.specs import SpecError, load_battery
from vgreport.store import cell_key

import helpers

# ---------------------------------------------------------------- leave one seed out

def _finding(decide):
    """A finding of its own (C99) that reads the activation experiment's records."""
    spec = Spec("C99", "finding", "a claim", "a claim", "its core part", {"activation": ("tanh",)})
    return types.SimpleNamespace(SPEC=spec, decide=decide)


def _with(monkeypatch, module):
    import vgreport.findings as registry
    monkeypatch.setattr(registry, "FINDINGS", registry.FINDINGS + (module,))
    monkeypatch.setattr(registry, "MODULES", registry.MODULES + (module,))


def _seeds(ctx) -> set[int]:
    return set(ctx.seeds("activation"))


def test_a_part_that_one_seed_decides_is_fragile_and_so_is_its_verdict(monkeypatch):
    """'seed 3 ran' holds only with seed 3: leaving seed 3 out refutes it, so it is fragile and the
    verdict resting on it too; 'at least five seeds' holds whichever one seed is left out: steady.
    A context part that one seed decides is fragile without making the verdict fragile."""
    _with(monkeypatch, _finding(lambda ctx: Outcome([
        Part("one_seed", "seed 3 ran", 3 in _seeds(ctx)),
        Part("steady", "at least five seeds ran", len(_seeds(ctx)) >= 5),
        Part("detail", "seed 0 ran", 0 in _seeds(ctx), core=False)], {}, "measured")))
    ev = evaluate(syn.world(), None, with_figures=False, ids=("C99",), leave_one_seed_out=True)
    (got,) = ev.findings
    fragile = {p.key: p.fragile for p in got.parts}
    assert fragile == {"one_seed": True, "steady": False, "detail": True}
    assert got.verdict == "supported" and got.fragile
    assert ev.left_out == [0, 1, 2, 3, 4, 5]
    payload = ev.to_json()
    parts = {p["key"]: p for p in payload["findings"][0]["parts"]}
    assert {k: (p["state"], p["core"], p["fragile"]) for k, p in parts.items()} == {
        "one_seed": (True, True, True), "steady": (True, True, False), "detail": (True, False, True)}
    assert payload["findings"][0]["fragile"] is True
    assert payload["leave_one_seed_out"] == {"seeds": [0, 1, 2, 3, 4, 5], "done": True}


@pytest.mark.parametrize("parts, fragile, thin", [
    # 'seed 3 ran' is refuted without seed 3: one seed reverses it (the dagger)
    ([("reverse", lambda ctx: 3 in _seeds(ctx))], {"reverse"}, set()),
    # 'six seeds ran' is undetermined (None) with one left out: the seeds only just decide it (thin, no dagger)
    ([("thin", lambda ctx: True if len(_seeds(ctx)) >= 6 else None)], set(), {"thin"}),
    # undetermined with every seed, decided with one left out: neither mark
    ([("open", lambda ctx: None if len(_seeds(ctx)) >= 6 else True)], set(), set()),
    # both a reversal and a thin part: each gets its own mark
    ([("thin", lambda ctx: True if len(_seeds(ctx)) >= 6 else None), ("reverse", lambda ctx: 3 in _seeds(ctx))],
     {"reverse"}, {"thin"}),
])
def test_the_dagger_marks_only_a_part_one_seed_reverses_and_thin_parts_apart(monkeypatch, parts, fragile, thin):
    """fragile_to records the states a part took with a seed left out; a part is fragile (†) only when one
    seed reverses it, thin when one seed fewer only leaves it undetermined, and the verdict line's dagger
    speaks only of a reversal."""
    from vgreport.report import environment
    macro = environment.make_environment().get_template("macros.html.j2").module.fragile_note
    _with(monkeypatch, _finding(lambda ctx: Outcome([Part(key, key, state(ctx)) for key, state in parts], {},
                                                    "measured")))
    ev = evaluate(syn.world(), None, with_figures=False, ids=("C99",), leave_one_seed_out=True)
    (got,) = ev.findings
    assert {p.key for p in got.parts if p.fragile} == fragile
    assert {p.key for p in got.parts if p.thin} == thin and {p.key for p in got.thin} == thin
    assert got.fragile == bool(fragile)
    to = {p.key: p.fragile_to for p in got.parts}
    assert to.get("reverse", ("refuted",)) == ("refuted",)
    assert to.get("thin", ("undetermined",)) == ("undetermined",)
    assert to.get("open", ("holds",)) == ("holds",)
    payload = ev.to_json()["findings"][0]
    assert {p["key"]: p["fragile_to"] for p in payload["parts"]} == {k: list(v) for k, v in to.items()}
    assert set(payload["thin"]) == thin
    short, full = str(macro(got, short=True)), str(macro(got))
    if fragile:
        assert "reverses a core part" in short and short.startswith("†") and len(short) < len(full)
    else:
        assert short.strip() == "" and full.strip() == ""


def test_unanimous_seeds_make_nothing_fragile(monkeypatch):
    """Every seed says the same: no left-out seed changes a state, so nothing is fragile."""
    _with(monkeypatch, _finding(lambda ctx: Outcome([
        Part("ran", "the activation experiment ran", not ctx.part("activation").empty),
        Part("context", "two seeds or more", len(_seeds(ctx)) >= 2, core=False)], {}, "measured")))
    ev = evaluate(syn.world(), None, with_figures=False, ids=("C99",), leave_one_seed_out=True)
    (got,) = ev.findings
    assert [p.state for p in got.parts] == [True, True]
    assert not any(p.fragile for p in got.parts) and not got.fragile


def test_two_seeds_make_every_decided_part_of_every_finding_thin():
    """With two seeds, leaving one out leaves one: no interval, every finding inconclusive. So every
    part the two seeds decided is thin (one seed fewer leaves it undetermined), none is reversed, and no
    verdict carries the dagger."""
    ev = evaluate(syn.world(**{name: {"seeds": 2} for name in syn.builders()}), None, with_figures=False,
                  leave_one_seed_out=True)
    decided = [p for r in ev.findings for p in r.parts if p.state is not None]
    assert decided, "two seeds decide some part of the synthetic world"
    assert all(p.thin and not p.fragile for p in decided)
    assert not any(p.fragile or p.thin for r in ev.findings for p in r.parts if p.state is None)
    assert not any(r.fragile for r in ev.findings)
    assert not any(getattr(p, "fragile") for c in ev.checks for p in c.parts)  # checks are not re-evaluated


def test_a_context_leaving_a_seed_out_decides_as_one_built_without_it():
    """The leave-one-out context reuses the full build's per-cell tables (fits, outcomes, scalars)
    filtered by seed: every part of every finding gets the state a context built from the records
    without that seed gives, in a world of mixed outcomes."""
    import vgreport.findings as registry
    from vgreport.findings.base import PER_CELL, Context
    from vgreport.findings.replicate import part_states
    mixed = [syn.SOLVE, syn.SOLVE, syn.SOLVE, syn.FAIL, syn.SOLVE, syn.SOLVE]  # seed 3 alone fails
    frame = syn.world(budget={"best": mixed}, recall_length={"accs": {20: mixed}},
                      architecture={"accs": {"gru": mixed}}, init={"accs": {"xavier": mixed}})
    full = Context(frame, None, with_figures=False)
    built = part_states([registry._run(m, full) for m in registry.FINDINGS])
    assert {key[0] for key in full._memo} & set(PER_CELL) == set(PER_CELL)  # the tables exist to reuse
    reused = full.leaving_out(3)
    fresh = Context(frame[frame["seed"] != 3], None, with_figures=False)
    again = part_states([registry._run(m, reused) for m in registry.FINDINGS])
    assert again == part_states([registry._run(m, fresh) for m in registry.FINDINGS])
    assert again != built  # leaving seed 3 out changes something here: the comparison is not vacuous
    assert any(reused._memo[k] is not full._memo[k] and len(reused._memo[k]) < len(full._memo[k])
               for k in reused._memo if k[0] in PER_CELL)


def test_without_leaving_seeds_out_nothing_is_marked():
    """The default evaluation (tests, the looks' decision) does not re-evaluate: fragile stays False."""
    ev = evaluate(syn.world(**{name: {"seeds": 2} for name in syn.builders()}), None, with_figures=False)
    assert ev.left_out == [] and not any(p.fragile for r in ev.findings for p in r.parts)
    assert ev.to_json()["leave_one_seed_out"] == {"seeds": [], "done": False}


# ---------------------------------------------------------------- --seed-base

def test_seed_base_moves_every_seed_and_every_cell_key(tmp_path):
    """Seeds run from the base (the later looks' seeds too); the seed is in the cell key, so the
    same configuration on other seeds is another cell; the battery records its base."""
    folder = helpers.write(tmp_path / "exp", profiles_file=helpers.profiles(standard="{seeds: 2, training_seeds: [2, 3]}"))
    zero, thousand = load_battery(folder, "standard"), load_battery(folder, "standard", seed_base=1000)
    assert sorted({c.seed for c in zero.cells()}) == [0, 1]
    assert sorted({c.seed for c in thousand.cells()}) == [1000, 1001]
    assert thousand.seed_base == 1000 and zero.seed_base == 0
    assert {c.seed for c in thousand.later_cells([Config("tiny", "tanh", 5, 1.0, 4, 4)], 1)} == {1002}
    keys_zero = {cell_key(c, "cpu") for c in zero.cells()}
    keys_thousand = {cell_key(c, "cpu") for c in thousand.cells()}
    assert not keys_zero & keys_thousand
    same = load_battery(folder, "standard", seed_base=1000)
    assert {cell_key(c, "cpu") for c in same.cells()} == keys_thousand


@pytest.mark.parametrize("value", [-1, 10**9 + 1, 1.5, True])
def test_a_bad_seed_base_is_refused(tmp_path, value):
    """A negative, too large or non-integer base is a SpecError naming --seed-base."""
    folder = helpers.write(tmp_path / "exp")
    with pytest.raises(SpecError, match="--seed-base"):
        load_battery(folder, "standard", seed_base=value)


def test_seed_base_cannot_be_written_in_an_experiment_file(tmp_path):
    """Like --set, the seed base comes from the command line only."""
    folder = helpers.write(tmp_path / "exp", helpers.experiments(helpers.experiment(extra="    seed_base: 5\n")))
    with pytest.raises(SpecError, match=r"seed_base: unknown key \(use --seed-base"):
        load_battery(folder, "standard")


def test_seed_ranges_for_the_cover_and_appendix():
    """Consecutive seeds print as a range, others one by one."""
    assert seed_ranges(range(1000, 1010)) == "1000–1009"
    assert seed_ranges([0, 1, 2, 5, 7, 8]) == "0–2, 5, 7, 8"
    assert seed_ranges([]) == "none"


def test_cli_list_takes_seed_base_from_the_option_or_its_environment_variable(tmp_path):
    """`list --seed-base N` and VGREPORT_LIST_SEED_BASE=N (the convention of every option); a
    negative base is a one-line usage error, exit 2."""
    folder = helpers.write(tmp_path / "exp")
    runner = CliRunner()
    shown = runner.invoke(main, ["list", "--experiments", str(folder), "--out", str(tmp_path / "b"), "--json",
                                 "--seed-base", "1000"])
    assert shown.exit_code == 0, shown.output
    payload = json.loads(shown.output)
    assert payload["seed_base"] == 1000 and [r["first_seed"] for r in payload["experiments"]] == [1000]
    env = runner.invoke(main, ["list", "--experiments", str(folder), "--out", str(tmp_path / "b"), "--json"],
                        env={"VGREPORT_LIST_SEED_BASE": "7"})
    assert json.loads(env.output)["seed_base"] == 7
    bad = runner.invoke(main, ["list", "--experiments", str(folder), "--seed-base", "-3"])
    assert bad.exit_code == 2 and "--seed-base" in bad.output


@pytest.mark.parametrize("value", ["+5", "1_000", "\u0665", " 5", "5 ", "0x10", "5.0", "-0", ""])
def test_seed_base_and_jobs_take_ascii_decimal_digits_only(tmp_path, value):
    """Python's int() takes '+5', '1_000' and Arabic-Indic digits ('\u0665' is 5); the docs promise a
    non-negative decimal, so --seed-base (and --jobs) refuse anything but the digits 0-9: one
    usage error naming the option, exit 2, from the option and from its environment variable."""
    folder = helpers.write(tmp_path / "exp")
    runner = CliRunner()
    for args, env in (([f"--seed-base={value}"], {}), ([], {"VGREPORT_LIST_SEED_BASE": value}),
                      ([f"--jobs={value}"], {})):
        result = runner.invoke(main, ["list", "--experiments", str(folder), "--json", *args], env=env)
        if env and not value:  # an empty variable is an unset one (click's rule): the default applies
            assert result.exit_code == 0, result.output
            continue
        assert result.exit_code == 2 and ("--seed-base" in result.output or "--jobs" in result.output), result.output
    assert json.loads(runner.invoke(main, ["list", "--experiments", str(folder), "--json",
                                           "--seed-base", "0005"]).output)["seed_base"] == 5


def test_a_build_on_seed_base_1000_records_its_seeds(tmp_path):
    """build --seed-base 1000 trains seeds 1000-1002 and says so in manifest.json, findings.json,
    on the cover and in the appendix; the same build on seed base 0 computes its own cells."""
    folder = helpers.write(tmp_path / "exp", profiles_file=helpers.profiles(standard=3))
    out, cache = tmp_path / "b1000", tmp_path / "cache"
    result = CliRunner().invoke(main, ["build", "--experiments", str(folder), "--out", str(out), "--cache", str(cache),
                                       "--format", "html", "--jobs", "1", "--seed-base", "1000", "-q"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == [1000, 1001, 1002] and manifest["options"]["seed_base"] == 1000
    findings = json.loads((out / "findings.json").read_text())
    assert findings["seed_base"] == 1000 and findings["leave_one_seed_out"]["seeds"] == [1000, 1001, 1002]
    assert all({"key", "state", "core", "fragile"} <= set(p) for f in findings["findings"] for p in f["parts"])
    page = " ".join((out / "report.html").read_text().split())  # as a reader sees it: spaces collapsed
    assert "seeds 1000–1002" in page and "1000–1002</td>" in page
    other = api.build(profile="standard", out=tmp_path / "b0", cache_dir=cache, experiments_dir=folder,
                      formats=("html",), jobs=1, progress=False)
    assert other.summary.computed == manifest["summary"]["cells"] > 0  # none of seed base 1000's cells reused
    assert json.loads((tmp_path / "b0" / "manifest.json").read_text())["seeds"] == [0, 1, 2]
