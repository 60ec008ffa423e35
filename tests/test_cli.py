"""The command line: thin over the API, one-line errors, help everywhere, README documents it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from vgreport import __version__
from vgreport.cli import main

import helpers

ROOT = Path(__file__).resolve().parent.parent

TINY_PROFILES, TINY_EXPERIMENT = helpers.TINY_PROFILES, helpers.TINY_EXPERIMENT


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def tiny_battery(tmp_path: Path) -> Path:
    return helpers.write(tmp_path / "battery", TINY_EXPERIMENT, TINY_PROFILES)


def _commands():
    return sorted(main.commands.items())


@pytest.mark.parametrize("name,command", _commands())
def test_every_command_and_option_has_help(runner, name, command):
    """Each command answers --help with exit 0, and each of its options carries help text."""
    result = runner.invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts} has no help text"


def test_docs_document_every_command_and_option():
    """docs/commands.md has a section per command naming each of its long options (sqlite-utils' test_docs habit)."""
    docs = (ROOT / "docs" / "commands.md").read_text()
    common = docs.split("\n## `vgreport ")[0]  # options every command has (--quiet, --verbose)
    sections = dict(re.findall(r"^## `vgreport (\w+)[^`]*`\n(.*?)(?=^## |\Z)", docs, flags=re.M | re.S))
    for name, command in _commands():
        assert name in sections, f"docs/commands.md has no section `vgreport {name}`"
        for param in command.params:
            if isinstance(param, click.Option):
                long = [o for o in param.opts if o.startswith("--")][0]
                assert long in sections[name] or long in common, f"docs/commands.md does not document {name} {long}"


def test_bad_spec_is_one_line_naming_file_and_field_exit_2(runner, tiny_battery):
    """An invalid field gives exit status 2 and one line with the file and the field path."""
    (tiny_battery / "length.yaml").write_text(TINY_EXPERIMENT.replace("arch: rnn", "arch: rnnn"))
    result = runner.invoke(main, ["list", "--experiments", str(tiny_battery)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "length.yaml" in lines[0] and "model.arch" in lines[0] and "rnnn" in lines[0]
    assert "Traceback" not in result.output


def test_bad_set_option_is_one_line_exit_2(runner, tiny_battery):
    """--set with an unknown field is rejected on one line with exit status 2."""
    result = runner.invoke(main, ["run", "tiny", "--experiments", str(tiny_battery), "--set", "model.hiden=3"])
    assert result.exit_code == 2
    assert "hiden" in result.output and len(result.output.strip().splitlines()) == 1


def test_unknown_axis_and_experiment_are_rejected(runner, tiny_battery, tmp_path):
    """--only with an axis that does not exist, and run with an unknown experiment, exit 2."""
    result = runner.invoke(main, ["build", "--experiments", str(tiny_battery), "--only", "colour",
                                  "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "colour" in result.output
    result = runner.invoke(main, ["run", "nosuch", "--experiments", str(tiny_battery)])
    assert result.exit_code == 2 and "nosuch" in result.output
    assert not (tmp_path / "o").exists()


def test_list_shows_cells_and_cost(runner, tiny_battery):
    """list names each experiment with its cells (variants x sweep x seeds) and an estimate."""
    result = runner.invoke(main, ["list", "--experiments", str(tiny_battery), "--profile", "standard"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("tiny"))
    assert re.search(r"\btiny\s+length\s+4\s+0\b", row), row  # 2 variants x 2 seeds, none cached
    assert "total: 4 cells" in result.output


def test_list_shipped_battery_covers_five_axes(runner):
    """The shipped battery has all five axes in every profile."""
    for profile in ("smoke", "quick", "standard", "full"):
        result = runner.invoke(main, ["list", "--profile", profile])
        assert result.exit_code == 0, result.output
        for axis in ("length", "activation", "initialisation", "clipping", "architecture"):
            assert f" {axis} " in result.output, (profile, axis)


def test_run_fills_cache_then_hits(runner, tiny_battery, tmp_path):
    """run computes the cells once; a second run takes all of them from the cache."""
    args = ["run", "tiny", "--experiments", str(tiny_battery), "--out", str(tmp_path / "b"),
            "--profile", "smoke", "--jobs", "1"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "2 cells: 2 computed, 0 shared with an identical cell, 0 from the cache, 0 failed" in first.output
    second = runner.invoke(main, args)
    assert "2 cells: 0 computed, 0 shared with an identical cell, 2 from the cache" in second.output
    changed = runner.invoke(main, args + ["--set", "train.lr=0.01"])
    assert "2 cells: 2 computed, 0 shared with an identical cell, 0 from the cache" in changed.output


def test_render_without_cache_fails_cleanly(runner, tiny_battery, tmp_path):
    """render refuses to train: with an empty cache it exits 1 with one line and writes nothing."""
    out = tmp_path / "empty"
    result = runner.invoke(main, ["render", "--experiments", str(tiny_battery), "--out", str(out)])
    assert result.exit_code == 1
    assert "not in the cache" in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists() or not any(out.rglob("report.*"))


def test_cuda_request_without_cuda_is_a_clear_error(runner, tiny_battery, tmp_path):
    """--device cuda on a machine without CUDA is refused on one line, not a traceback."""
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = runner.invoke(main, ["run", "tiny", "--experiments", str(tiny_battery), "--device", "cuda",
                                  "--out", str(tmp_path / "c")])
    assert result.exit_code == 1 and "CUDA" in result.output


def test_clean_removes_outputs_and_cache(runner, tiny_battery, tmp_path):
    """clean removes the cache (and keeps it with --keep-cache)."""
    out = tmp_path / "b"
    runner.invoke(main, ["run", "tiny", "--experiments", str(tiny_battery), "--out", str(out), "--jobs", "1"])
    assert (out / "cache").is_dir()
    kept = runner.invoke(main, ["clean", "--out", str(out), "--keep-cache"])
    assert kept.exit_code == 0 and (out / "cache").is_dir()
    result = runner.invoke(main, ["clean", "--out", str(out)])
    assert result.exit_code == 0 and not out.exists()


def test_clean_never_deletes_files_it_did_not_write(runner, tiny_battery, tmp_path):
    """clean --cache on a folder that also holds a user's files removes only the cached cells."""
    folder = tmp_path / "mine"
    (folder / "keep").mkdir(parents=True)
    (folder / "keep" / "important.txt").write_text("do not delete")
    (folder / "ab").mkdir()
    (folder / "ab" / "notes.txt").write_text("two hex letters, but not a cache shard")
    run = runner.invoke(main, ["run", "tiny", "--experiments", str(tiny_battery), "--cache", str(folder),
                               "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert run.exit_code == 0, run.output
    result = runner.invoke(main, ["clean", "--out", str(tmp_path / "o"), "--cache", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "keep" / "important.txt").read_text() == "do not delete"
    assert (folder / "ab" / "notes.txt").is_file()
    assert not list(folder.rglob("*.json")), "cached cells were left behind"


def _build_tiny(runner, tiny_battery, out, *extra):
    return runner.invoke(main, ["build", "--experiments", str(tiny_battery), "--out", str(out), "--profile",
                                "smoke", "--jobs", "1", "--format", "html", *extra])


def test_a_broken_user_template_is_one_line_naming_it(runner, tiny_battery, tmp_path):
    """A syntax error in a --templates file: one line with the file and line, exit 1, outputs untouched."""
    assert _build_tiny(runner, tiny_battery, tmp_path / "b").exit_code == 0
    before = (tmp_path / "b" / "report.html").read_bytes()
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "summary.html.j2").write_text("<p>\n{% if %}</p>\n")
    result = _build_tiny(runner, tiny_battery, tmp_path / "b", "--templates", str(templates))
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.strip().splitlines() if not line.endswith(" ...")]  # not the stages
    assert len(lines) == 1 and "summary.html.j2" in lines[0] and "line 2" in lines[0], result.output
    assert (tmp_path / "b" / "report.html").read_bytes() == before
    assert not list((tmp_path / "b").glob(".staging-*"))


def test_a_profile_override_that_is_not_a_mapping_is_one_line(runner, tiny_battery):
    """profiles: {standard: 3} inside an experiment: one line naming file and field, exit 2."""
    path = tiny_battery / "length.yaml"
    path.write_text(path.read_text().replace("    title:", "    profiles: {standard: 3}\n    title:", 1))
    result = runner.invoke(main, ["list", "--experiments", str(tiny_battery)])
    assert result.exit_code == 2
    assert "length.yaml" in result.output and "profiles.standard" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_interrupted_render_keeps_the_previous_outputs(runner, tiny_battery, tmp_path, monkeypatch):
    """If rendering stops halfway, the outputs of the previous build stay as they were, together."""
    from vgreport.report import document
    out = tmp_path / "b"
    assert _build_tiny(runner, tiny_battery, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(document, "render_html", interrupted)
    result = _build_tiny(runner, tiny_battery, out, "--set", "train.lr=0.02", "--force-render")
    assert result.exit_code != 0
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not list(out.glob(".staging-*"))


def test_run_prints_one_row_per_swept_value(runner, tiny_battery, tmp_path):
    """A battery sweeping a field without a fixed column (hidden) shows each value, not their mean."""
    path = tiny_battery / "length.yaml"
    path.write_text(path.read_text().replace("    variants:", "    sweep: {model.hidden: [4, 6]}\n    variants:", 1))
    result = runner.invoke(main, ["run", "tiny", "--experiments", str(tiny_battery), "--out", str(tmp_path / "r"),
                                  "--profile", "smoke", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\bhidden\b", result.output), result.output


def test_list_applies_set_to_steps_cost_and_cached_count(runner, tiny_battery, tmp_path):
    """list --set shows the cells a build with that --set would run: their steps, cost and cache hits."""
    out = str(tmp_path / "b")
    base = ["list", "--experiments", str(tiny_battery), "--out", out, "--profile", "smoke"]
    assert runner.invoke(main, ["run", "tiny", "--experiments", str(tiny_battery), "--out", out,
                                "--profile", "smoke", "--jobs", "1", "--set", "train.steps=8"]).exit_code == 0
    plain, changed = runner.invoke(main, base), runner.invoke(main, base + ["--set", "train.steps=8"])
    assert plain.exit_code == 0 and changed.exit_code == 0, changed.output
    def row(text: str) -> str:
        return next(line for line in text.splitlines() if line.startswith("tiny"))
    assert "8 steps" in row(changed.output) and "8 steps" not in row(plain.output)
    assert row(changed.output).split()[3] == "2" and row(plain.output).split()[3] == "0"  # cached column


# ------------------------------------------------------------------ conventions (issue 11)

def test_list_json_is_the_table_as_data(runner, tiny_battery):
    """list --json prints one JSON object: each row of the table, and totals that are their sums."""
    result = runner.invoke(main, ["list", "--experiments", str(tiny_battery), "--profile", "standard", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    (row,) = payload["experiments"]
    assert (row["experiment"], row["axis"], row["cells"], row["cached"]) == ("tiny", "length", 4, 0)
    assert payload["cells"] == 4 and payload["profile"] == "standard"
    assert payload["estimated_seconds"] == pytest.approx(row["estimated_seconds"], abs=0.1)


def test_any_profile_of_profiles_yaml_is_accepted_and_an_unknown_one_is_one_line(runner, tiny_battery):
    """A `course:` profile defined in --experiments' profiles.yaml works; a name it lacks exits 2 naming the file."""
    (tiny_battery / "profiles.yaml").write_text(TINY_PROFILES + "course: {seeds: 3}\n")
    result = runner.invoke(main, ["list", "--experiments", str(tiny_battery), "--profile", "course", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["experiments"][0]["cells"] == 6  # 2 variants x 3 seeds
    result = runner.invoke(main, ["list", "--experiments", str(tiny_battery), "--profile", "seminar"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "profiles.yaml" in lines[0] and "seminar" in lines[0] and "course" in lines[0]


def test_options_come_from_vgreport_environment_variables(tiny_battery):
    """VGREPORT_<COMMAND>_<OPTION> sets an option (long option names, flags included); the command line wins."""
    (tiny_battery / "profiles.yaml").write_text(TINY_PROFILES + "course: {seeds: 3}\n")
    env = {"VGREPORT_LIST_EXPERIMENTS": str(tiny_battery), "VGREPORT_LIST_PROFILE": "course",
           "VGREPORT_LIST_JSON": "1"}
    result = CliRunner(env=env).invoke(main, ["list"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["profile"] == "course"
    overridden = CliRunner(env=env).invoke(main, ["list", "--profile", "smoke"])
    assert json.loads(overridden.output)["profile"] == "smoke"


def test_ctrl_c_exits_130_with_one_line(runner, tiny_battery, monkeypatch):
    """An interrupt anywhere in a command ends it with status 130 and the single line 'interrupted'."""
    from vgreport import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(api, "list_experiments", interrupted)
    result = runner.invoke(main, ["list", "--experiments", str(tiny_battery)])
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted"


def test_python_dash_m_vgreport_is_the_cli():
    """`python -m vgreport` runs the same command line."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "vgreport", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"vgreport, version {__version__}"


def _completions(args: list[str], incomplete: str) -> list[str]:
    from click.shell_completion import ShellComplete
    return [c.value for c in ShellComplete(main, {}, "vgreport", "_VGREPORT_COMPLETE").get_completions(args, incomplete)]


def test_shell_completion_offers_experiments_axes_and_profiles(tiny_battery):
    """<TAB> completes experiment names, axes and profiles from the battery (--experiments' when given)."""
    assert "recall_length" in _completions(["run"], "rec")
    assert set(_completions(["build", "--only"], "")) == {"length", "activation", "initialisation", "clipping",
                                                          "architecture"}
    assert _completions(["build", "--profile"], "q") == ["quick"]
    (tiny_battery / "profiles.yaml").write_text(TINY_PROFILES + "course: {seeds: 3}\n")
    assert _completions(["list", "--experiments", str(tiny_battery), "--profile"], "c") == ["course"]
    assert _completions(["run", "--experiments", str(tiny_battery)], "") == ["tiny"]
    assert "model.hidden=" in _completions(["run", "tiny", "--set"], "model.h")


def test_docs_document_completion_and_environment_variables():
    """docs/commands.md shows how to turn on completion and how options map to VGREPORT_* variables."""
    readme = (ROOT / "docs" / "commands.md").read_text()
    assert "_VGREPORT_COMPLETE=bash_source" in readme and "_VGREPORT_COMPLETE=zsh_source" in readme
    assert "VGREPORT_BUILD_PROFILE" in readme


def test_out_help_says_what_each_command_writes(runner):
    """build and render name the report files under --out; run and list say they write none."""
    def out_help(command):
        return next(p.help for p in main.commands[command].params if p.name == "out")
    for command in ("build", "render"):
        assert "report.html" in out_help(command) and "manifest.json" in out_help(command)
    for command in ("run", "list"):
        assert "report" not in out_help(command).replace("no report files", "") and "cache" in out_help(command)
    assert "writes no report files" in out_help("run") and "writes nothing" in out_help("list")


def test_cell_counts_add_up_with_shared_cells(runner, tiny_battery, tmp_path):
    """Two variants with the same configuration: the summary counts one computed and one shared, summing to the cells."""
    path = tiny_battery / "length.yaml"
    path.write_text(path.read_text().replace("lstm: {model: {arch: lstm}}", "same: {}"))
    result = runner.invoke(main, ["run", "tiny", "--experiments", str(tiny_battery), "--out", str(tmp_path / "b"),
                                  "--profile", "smoke", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    line = next(text for text in result.output.splitlines() if " cells: " in text)
    numbers = [int(n) for n in re.findall(r"\d+(?= |$| \()", line.split(" (")[0])]
    assert line.startswith("2 cells: 1 computed, 1 shared with an identical cell, 0 from the cache, 0 failed"), line
    assert numbers[0] == sum(numbers[1:]), line


def test_quiet_prints_only_results_and_verbose_adds_the_stages(runner, tiny_battery, tmp_path):
    """build -q prints only the output paths; build -v adds each report stage and the manifest line."""
    quiet = _build_tiny(runner, tiny_battery, tmp_path / "q", "-q")
    assert quiet.exit_code == 0, quiet.output
    assert all(re.fullmatch(r"\w+: .+", line) for line in quiet.output.splitlines()), quiet.output
    assert "cells:" not in quiet.output
    verbose = _build_tiny(runner, tiny_battery, tmp_path / "v", "-v")
    assert verbose.exit_code == 0, verbose.output
    for stage in ("evaluating the findings", "drawing the figures and writing HTML"):
        assert re.search(r"\[\s*\d+\.\d s\] " + stage, verbose.output), verbose.output
    assert "code " in verbose.output and "device cpu" in verbose.output
    assert runner.invoke(main, ["list", "-q", "-v"]).exit_code == 2


def test_help_names_each_option_environment_variable(runner):
    """Every option's --help line names the VGREPORT_<COMMAND>_<OPTION> variable it reads."""
    for name, command in _commands():
        result = runner.invoke(main, [name, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        for param in command.params:
            if isinstance(param, click.Option):
                assert f"env var: {param.envvar}" in text, (name, param.opts, param.envvar)
    assert "env var: VGREPORT_BUILD_PROFILE" in " ".join(runner.invoke(main, ["build", "--help"]).output.split())


def test_list_shows_cells_and_time_from_the_first_look_to_all_looks(runner, tiny_battery):
    """A profile with looks (6 seeds, then 10): list shows the first look's cells and cost and what every
    look would make them, per experiment and in total (standard used to say 315 cells while it ran 343)."""
    (tiny_battery / "profiles.yaml").write_text(TINY_PROFILES + "looks: {training_seeds: [6, 10]}\n")
    args = ["list", "--experiments", str(tiny_battery), "--profile", "looks"]
    payload = json.loads(runner.invoke(main, args + ["--json"]).output)
    (row,) = payload["experiments"]
    assert (row["cells"], row["cells_all_looks"]) == (12, 20)  # 2 variants x 6 seeds, then x 10
    assert row["estimated_seconds_all_looks"] == pytest.approx(row["estimated_seconds"] * 10 / 6, rel=0.01)
    assert (payload["cells"], payload["cells_all_looks"]) == (12, 20)
    table = runner.invoke(main, args).output
    assert re.search(r"\btiny\s+length\s+12-20\s+0\s+\d+-\d+\s", table), table
    assert "total: 12-20 cells (the first look to all looks)" in table
    plain = runner.invoke(main, ["list", "--experiments", str(tiny_battery), "--profile", "standard"]).output
    assert "total: 4 cells," in plain and "all looks" not in plain
