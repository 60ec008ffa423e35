"""Stage 11: the command line. Thin: parse options, call vgreport.api, print one-line errors.

Conventions (those of dvc, quarto, sqlite-utils): every option can come from an environment
variable VGREPORT_<COMMAND>_<OPTION> (e.g. VGREPORT_BUILD_PROFILE=quick); -q/--quiet and
-v/--verbose on every command; results on stdout, progress and summaries on stderr; exit 130
with one line on Ctrl-C (143 on SIGTERM); shell completion of profiles, axes and experiment names.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from . import __version__, api, interrupts
from .diff import FAIL_ON, failed, to_markdown, to_text, unreadable_markdown
from .runner import MissingResults, default_jobs
from .specs import MAX_SEED_BASE, SECTIONS, SpecError, default_experiments_dir

ENV_PREFIX = "VGREPORT"


class SpecUsageError(click.ClickException):
    """A bad spec or option value: one line on stderr, exit status 2."""
    exit_code = 2


def _errors(func):
    """Every failure the user can meet is one line on stderr and a non-zero exit, no traceback:
    a spec or option mistake exits 2; other user errors, a file system that refuses a write, a
    lack of memory, or a bug in vgreport (named, with a pointer to --debug) exit 1. With
    `vgreport --debug` the exception propagates with its traceback instead. KeyboardInterrupt is
    never caught here: it is not an error, and it must stop the build."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (click.ClickException, BrokenPipeError):  # a closed pipe: VgreportGroup ends quietly
            raise
        except Exception as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            error = _one_line(exc)
            error.message = " ".join(error.message.splitlines())  # one line, whatever a message quotes
            raise error from None
    return wrapper


def _one_line(exc: Exception) -> click.ClickException:
    if isinstance(exc, (SpecError, api.UnsafePathError)):  # bad input, or a link where vgreport writes
        return SpecUsageError(str(exc))
    if isinstance(exc, (api.UserError, MissingResults)):
        return click.ClickException(str(exc))
    if isinstance(exc, OSError):  # a copy or rename names its destination second: that is the one to name
        target = exc.filename2 or exc.filename
        where = f"{target}: " if target else ""
        return click.ClickException(f"{where}{exc.strerror or exc}")
    if isinstance(exc, MemoryError):
        return click.ClickException("out of memory; make the battery smaller (--profile, --only, --set) or "
                                    "run fewer --jobs")
    text = str(exc).splitlines()[0] if str(exc) else ""
    return click.ClickException(f"internal error: {type(exc).__name__}: {text} "
                                f"(run `vgreport --debug ...` for the traceback, and please report it)")



class VgreportGroup(click.Group):
    """The command group: Ctrl-C anywhere ends the command with one line, `interrupted`, and exit
    status 130 (128 + SIGINT, the shell convention), not click's "Aborted!" and status 1; SIGTERM
    (CI runners, systemd, Slurm, `timeout`) the same way, through the same clean-up, with
    `terminated` and 143 (see vgreport.interrupts). A reader that closes the pipe early
    (`vgreport list | head -1`) ends it quietly: the reader had what it wanted, so the exit status
    is the command's own (0, or diff's verdict under --fail-on)."""

    def main(self, *args, **kwargs):
        with interrupts.installed():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        except KeyboardInterrupt as exc:
            line, status = interrupts.message(exc)
            click.echo(line, err=True)
            raise click.exceptions.Exit(status) from None
        except BrokenPipeError:
            # Python would report the pipe again when it flushes stdout at exit: point it at nothing.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(ctx.meta.get(_EXIT_STATUS, 0)) from None


_EXIT_STATUS = "vgreport.exit_status"  # the status a command has decided on before it prints


# ------------------------------------------------------------------ shell completion
# Completion runs on every <TAB>: it reads the YAML files directly and never raises.

def _battery_folder(ctx: click.Context) -> Path:
    folder = ctx.params.get("experiments")
    return Path(folder) if folder else default_experiments_dir()


def _yaml_files(ctx: click.Context):
    import yaml
    for path in sorted(_battery_folder(ctx).glob("*.yaml")):
        try:
            yield path, yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError):
            continue


def _complete(values, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(v) for v in dict.fromkeys(values) if str(v).startswith(incomplete)]


def _complete_profiles(ctx, param, incomplete):
    try:
        return _complete([name for path, data in _yaml_files(ctx) if path.name == "profiles.yaml"
                          and isinstance(data, dict) for name in data], incomplete)
    except Exception:  # completion must never print a traceback into the shell
        return []


def _experiment_entries(ctx):
    for path, data in _yaml_files(ctx):
        if path.name != "profiles.yaml" and isinstance(data, dict):
            for exp in data.get("experiments") or []:
                if isinstance(exp, dict):
                    yield data.get("axis", path.stem), exp.get("name")


def _complete_axes(ctx, param, incomplete):
    try:
        return _complete([axis for axis, _ in _experiment_entries(ctx) if axis], incomplete)
    except Exception:
        return []


def _complete_experiments(ctx, param, incomplete):
    try:
        return _complete([name for _, name in _experiment_entries(ctx) if name], incomplete)
    except Exception:
        return []


def _complete_sets(ctx, param, incomplete):
    fields = [f"{section}.{name}=" for section, model in SECTIONS.items() for name in model.model_fields]
    return _complete(fields, incomplete)


# ------------------------------------------------------------------ options

class FolderPath(click.Path):
    """A path option that refuses an empty value: Path("") is the current folder, so `--out ''`
    (an unset shell variable) would write a build, or clean, right where the user stands."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            raise SpecUsageError(f"{param.opts[0]} '{value}': an empty path (name one; '.' is this folder)")
        return super().convert(value, param, ctx)


class DecimalRange(click.IntRange):
    """A whole number written in ASCII decimal digits only, within [min, max]: Python's int() (and
    so click.IntRange) also accepts '+5', '1_000', ' 5 ' and other scripts' digits ('٥'), which the
    docs do not promise and a typo should not pass as."""

    name = "decimal"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            self.fail(f"{value!r} is not a whole number written in the digits 0-9", param, ctx)
        return super().convert(value, param, ctx)


def _out_option(help_text: str):
    return click.option("--out", type=FolderPath(file_okay=False, path_type=Path), default=Path("build"),
                        show_default=True, help=help_text)


OUT_REPORT = ("Folder for report.html, report.pdf, metrics.csv, findings.json and manifest.json "
              "(the cell cache is OUT/cache unless --cache).")
profile_option = click.option("--profile", default="standard", show_default=True, metavar="PROFILE",
                              shell_complete=_complete_profiles,
                              help="A profile of profiles.yaml in --experiments: how big a battery "
                                   "(shipped: smoke, quick, standard, full, gpu).")
cache_option = click.option("--cache", "cache", type=FolderPath(file_okay=False, path_type=Path),
                            default=None, help="Cell cache folder (default: OUT/cache).")
experiments_option = click.option("--experiments", "experiments", type=FolderPath(path_type=Path), default=None,
                                  is_eager=True,  # read before --profile and the completions that use it
                                  help="Build from this folder of experiment YAML files (with its profiles.yaml) "
                                       "instead of the shipped battery.")
jobs_option = click.option("--jobs", type=DecimalRange(1, 512), default=None,
                           help="Worker processes (default: one per core this process may use); with "
                                "--scheduler, how many workers to plan for while the cluster has none yet.")
device_option = click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu",
                             show_default=True, help="Where cells train; auto picks cuda when available.")
force_render_option = click.option("--force-render", is_flag=True, default=False,
                                   help="Render the report even when an identical one is cached "
                                        "(e.g. after installing other fonts).")
executor_option = click.option("--executor", type=click.Choice(api.EXECUTORS), default=None,
                                help="Where cells run: local (a process pool) or dask (a LocalCluster of "
                                     "--jobs workers, or the scheduler at --scheduler). Default: local, "
                                     "dask when --scheduler is given.")
scheduler_option = click.option("--scheduler", metavar="ADDRESS", default=None,
                                 help="Address of a running Dask scheduler, e.g. tcp://head:8786 "
                                      "(implies --executor dask).")
set_option = click.option("--set", "sets", multiple=True, metavar="SECTION.FIELD=VALUE",
                          shell_complete=_complete_sets,
                          help="Override a spec field in every selected experiment, e.g. --set model.hidden=128.")
seed_base_option = click.option("--seed-base", type=DecimalRange(0, MAX_SEED_BASE), default=0, show_default=True,
                                metavar="N", help="Run seeds N, N+1, ... instead of 0, 1, ...: a replication on "
                                                  "other seeds (other cells in the cache).")
baseline_option = click.option("--baseline", type=FolderPath(path_type=Path), default=None,
                               help="An earlier edition (build folder or findings.json): adds a section "
                                    "'Changed since the last edition' to the report.")


def _verbosity(func):
    """-q/--quiet and -v/--verbose, folded into one `verbosity` argument: 0, 1 (default) or 2."""
    @click.option("-q", "--quiet", is_flag=True, help="Print only results and errors: no progress, no summary.")
    @click.option("-v", "--verbose", is_flag=True, help="Also print each stage with its time, and the manifest.")
    @functools.wraps(func)
    def wrapper(*args, quiet: bool, verbose: bool, **kwargs):
        if quiet and verbose:
            raise click.UsageError("--quiet and --verbose exclude each other")
        return func(*args, verbosity=0 if quiet else 2 if verbose else 1, **kwargs)
    return wrapper

allow_large_option = click.option("--allow-large", is_flag=True, default=False,
                                  help="Run cells beyond the time and memory limits (docs/commands.md, Errors).")


def _split_formats(ctx, param, value: str) -> tuple[str, ...]:
    formats = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [f for f in formats if f not in api.FORMATS]
    if bad or not formats:
        raise click.BadParameter(f"{value!r}: choose from {', '.join(api.FORMATS)}, comma-separated")
    return formats


@click.group(cls=VgreportGroup, name="vgreport",
             context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": ENV_PREFIX})
@click.version_option(__version__, prog_name="vgreport")
@click.option("--debug", is_flag=True, default=False, help="Show an error's full traceback instead of one line.")
def main(debug):
    """Measure the vanishing-gradient problem of recurrent networks and report it.

    Every option can also be set by an environment variable VGREPORT_<COMMAND>_<OPTION>,
    e.g. VGREPORT_BUILD_PROFILE=quick or VGREPORT_DIFF_FAIL_ON=never."""


def _report_options(func):
    for option in reversed([
        profile_option, _out_option(OUT_REPORT),
        click.option("--only", multiple=True, metavar="AXIS", shell_complete=_complete_axes,
                     help="Only this axis (repeatable): length, activation, initialisation, clipping, architecture."),
        click.option("--format", "formats", default="html,pdf", show_default=True, callback=_split_formats,
                     help="Outputs to write, comma-separated: html, pdf."),
        click.option("--paper", type=click.Choice(api.PAPERS), default="a4", show_default=True,
                     help="PDF page size."),
        click.option("--edition", type=click.Choice(api.EDITIONS), default="student", show_default=True,
                     help="student: questions without answers; instructor: an answer, from this build's data, "
                          "under every question."),
        click.option("--templates", "templates", type=FolderPath(path_type=Path), default=None,
                     help="Folder of templates that override the shipped ones (same file names)."),
        experiments_option, cache_option, baseline_option, seed_base_option]):
        func = option(func)
    return func


# ------------------------------------------------------------------ what the user sees

class _Stages:
    """What a build does after training (findings, figures, HTML, PDF take seconds each). On a
    terminal, a spinner line as wide as the terminal (less one column, so it never wraps), cleared
    at the end; without one (a CI log), one line per stage; with -v, one time-stamped line per stage."""

    FRAMES = "|/-\\"

    def __init__(self, verbosity: int):
        self.verbosity = verbosity
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()
        self.text = ""
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def __call__(self, text: str) -> None:
        self.text = text
        if self.verbosity >= 2:
            click.echo(f"[{time.perf_counter() - self.started:6.1f} s] {text}", err=True)
        elif self.verbosity == 1 and not self.tty:
            click.echo(f"{text} ...", err=True)
        elif self.verbosity == 1 and self.thread is None:
            self.thread = threading.Thread(target=self._spin, daemon=True)
            self.thread.start()

    @staticmethod
    def _width() -> int:
        return max(1, shutil.get_terminal_size((80, 24)).columns - 1)

    def _spin(self) -> None:
        n = 0
        while not self.stop.wait(0.125):
            n += 1
            line = f"{self.FRAMES[n % 4]} {self.text} ({time.perf_counter() - self.started:.0f} s)"
            width = self._width()  # read each time: the window may be resized
            sys.stderr.write("\r" + line[:width].ljust(width))
            sys.stderr.flush()

    def close(self) -> None:
        if self.thread is not None:
            self.stop.set()
            self.thread.join()
            sys.stderr.write("\r" + " " * self._width() + "\r")
            sys.stderr.flush()


def _cells_line(s: api.Summary) -> str:
    """The cell counts, which add up: cells = computed + shared + cached + failed."""
    return (f"{s.cells} cells: {s.computed} computed, {s.shared} shared with an identical cell, "
            f"{s.cached} from the cache, {s.failed} failed")


def _fail_if_incomplete(s: api.Summary) -> None:
    """Cells that failed: list them and exit 1, after the (incomplete) outputs were written."""
    for failure in s.failures:
        click.echo(f"failed: {failure['cell']}: {failure['error']}", err=True)
    if s.failed:
        raise click.ClickException(f"{s.failed} of {s.cells} cells failed; the outputs are "
                                   f"incomplete and say so (build again to retry them)")


def _print_result(result: api.BuildResult, verbosity: int) -> None:
    s = result.summary
    if verbosity:
        click.echo(f"{_cells_line(s)} ({s.seconds:.1f} s)", err=True)
        for warning in s.warnings:
            click.echo(f"warning: {warning}", err=True)
        if s.report == "reused":
            click.echo("report: inputs unchanged, copied from the cache (--force-render to render again)", err=True)
        for finding_id, verdict in result.verdicts.items():
            click.echo(f"  {finding_id:<4} {verdict}", err=True)
    if verbosity >= 2 and "manifest" in result.files:
        m = json.loads(result.files["manifest"].read_text())
        click.echo(f"code {m['vgreport']['code']}, device {m['device']['name']}, {m['threads']['jobs']} worker(s) "
                   f"x {m['threads']['torch_threads_per_worker']} torch thread(s), "
                   f"{m['started']} to {m['finished']}", err=True)
    for kind, path in result.files.items():
        click.echo(f"{kind}: {path}")


def _run_report(function, verbosity: int, **kwargs) -> None:
    stages = _Stages(verbosity)
    try:
        result = function(on_stage=stages, **kwargs)
    finally:
        stages.close()
    _print_result(result, verbosity)
    _fail_if_incomplete(result.summary)


# ------------------------------------------------------------------ commands

@main.command()
@_report_options
@jobs_option
@device_option
@executor_option
@scheduler_option
@set_option
@force_render_option
@allow_large_option
@_verbosity
@_errors
def build(profile, out, only, formats, paper, edition, templates, experiments, cache, baseline, seed_base, jobs, device,
          executor, scheduler, sets, force_render, allow_large, verbosity):
    """Run the battery (reusing cached cells) and write the report."""
    _run_report(api.build, verbosity, profile=profile, out=out, only=only, formats=formats, jobs=jobs,
                device=device, experiments_dir=experiments, templates_dir=templates, cache_dir=cache, paper=paper,
                sets=sets, progress=verbosity >= 1, force_render=force_render,
                baseline=baseline, allow_large=allow_large, executor=executor, scheduler=scheduler,
                edition=edition, seed_base=seed_base)


@main.command()
@_report_options
@set_option
@force_render_option
@_verbosity
@_errors
def render(profile, out, only, formats, paper, edition, templates, experiments, cache, baseline, seed_base, sets,
           force_render, verbosity):
    """Write the report from cached results only (no training)."""
    _run_report(api.render, verbosity, profile=profile, out=out, only=only, formats=formats,
                experiments_dir=experiments, templates_dir=templates, cache_dir=cache, paper=paper, sets=sets,
                progress=False, force_render=force_render, baseline=baseline, edition=edition, seed_base=seed_base)


def _run_table(frame) -> str:
    """One row per configuration (seeds averaged), labelled by every configuration column that varies
    (configs.Config's fields among them, so no two configurations share a row): the final scores,
    divergence and the decay rate of the gradient at initialisation (what the exercises ask about),
    from the cell summary the build attaches as cells.csv."""
    from .aggregate import CONFIG_COLUMNS, cell_table

    cells = cell_table(frame)
    if cells.empty:
        return ""
    labels = [c for c in CONFIG_COLUMNS if c not in ("experiment", "seed")]
    index = [c for c in labels if cells[c].nunique(dropna=False) > 1] or ["variant"]
    values = [c for c in ("final_accuracy", "final_mse", "diverged", "decay_rate_init") if cells[c].notna().any()]
    table = cells.groupby(index, dropna=False, sort=False)[values].mean()
    return table.to_string(float_format=lambda v: f"{v:.3f}")


@main.command("run")
@click.argument("experiment", shell_complete=_complete_experiments)
@profile_option
@_out_option("Build folder whose cell cache (OUT/cache, unless --cache) receives the cells; "
             "run writes no report files.")
@experiments_option
@cache_option
@jobs_option
@device_option
@executor_option
@scheduler_option
@set_option
@seed_base_option
@allow_large_option
@_verbosity
@_errors
def run_command(experiment, profile, out, experiments, cache, jobs, device, executor, scheduler, sets, seed_base,
                allow_large, verbosity):
    """Run one EXPERIMENT into the cache and print its final scores."""
    result = api.run_experiment(experiment, profile=profile, jobs=jobs, device=device,
                                 experiments_dir=experiments, cache_dir=cache, out=out,
                                 sets=sets, progress=verbosity >= 1, allow_large=allow_large,
                                 executor=executor, scheduler=scheduler, seed_base=seed_base)
    frame, summary = result.records, result.summary
    if verbosity:
        click.echo(f"{_cells_line(summary)} ({summary.seconds:.1f} s)", err=True)
        for warning in summary.warnings:
            click.echo(f"warning: {warning}", err=True)
    table = _run_table(frame) if len(frame) else ""  # every cell failed: the failures are listed below
    if table:
        click.echo(table)
    _fail_if_incomplete(summary)


@main.command("list")
@profile_option
@experiments_option
@_out_option("Build folder whose cell cache (OUT/cache, unless --cache) is checked for cached cells; "
             "list writes nothing.")
@cache_option
@jobs_option
@device_option
@set_option
@seed_base_option
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (the rows and the totals) instead of the table.")
@_verbosity
@_errors
def list_command(profile, experiments, out, cache, jobs, device, sets, seed_base, as_json, verbosity):
    """List experiments, axes, values, cells and estimated cost."""
    rows = api.list_experiments(profile, experiments, cache_dir=cache, out=out, sets=sets, device=device,
                                seed_base=seed_base)
    workers = jobs or default_jobs()

    def totals(cells: str, seconds: str) -> tuple[int, float, float]:
        # wall time left: what is not cached yet (as a share of each experiment's first-look cells)
        todo = sum(r[seconds] * (1 - r["cached"] / r[cells]) for r in rows if r[cells])
        return sum(r[cells] for r in rows), sum(r[seconds] for r in rows), todo / workers

    first, every = totals("cells", "estimated_seconds"), totals("cells_all_looks", "estimated_seconds_all_looks")
    if as_json:
        rows = [{**r, "estimated_seconds": round(r["estimated_seconds"], 3),
                 "estimated_seconds_all_looks": round(r["estimated_seconds_all_looks"], 3)} for r in rows]
        click.echo(json.dumps({"profile": profile, "seed_base": seed_base, "experiments": rows,
                               "cells": first[0], "cells_all_looks": every[0], "cached": sum(r["cached"] for r in rows),
                               "estimated_seconds": round(first[1], 1), "estimated_seconds_all_looks": round(every[1], 1),
                               "jobs": workers, "estimated_seconds_left": round(first[2], 1),
                               "estimated_seconds_left_all_looks": round(every[2], 1)}, indent=2))
        return

    def span(low: float, high: float, fmt: str = "{:.0f}") -> str:
        # the first look's figure, and what every look would make it ("6-10")
        return fmt.format(low) if fmt.format(low) == fmt.format(high) else f"{fmt.format(low)}-{fmt.format(high)}"

    click.echo(f"{'experiment':<16} {'axis':<15} {'cells':>7} {'cached':>6} {'est. s':>9}  variants / sweep")
    for r in rows:
        click.echo(f"{r['experiment']:<16} {r['axis']:<15} {span(r['cells'], r['cells_all_looks']):>7} "
                   f"{r['cached']:>6} {span(r['estimated_seconds'], r['estimated_seconds_all_looks']):>9}  "
                   f"{r['variants']}" + (f" / {r['sweep']}" if r['sweep'] else "")
                   + f" / {r['seeds']} seeds" + (f" from {r['first_seed']}" if r["first_seed"] else "")
                   + f", {r['steps']} steps")
    if verbosity:
        looks = " (the first look to all looks)" if every[0] != first[0] else ""
        click.echo(f"total: {span(first[0], every[0])} cells{looks}, about {span(first[1], every[1])} s of one core; "
                   f"about {span(first[2] / 60, every[2] / 60, '{:.1f}')} min left to run on {workers} workers")


@main.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path), default=Path("build"), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as one JSON object.")
@click.option("--md", "as_md", is_flag=True, help="Print the changes as markdown (for a CI job summary).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="flip", show_default=True,
              help="Exit with status 1 on a flipped verdict (flip), also on a number that moved beyond "
                   "its interval (drift), or never.")
@click.option("--all", "show_all", is_flag=True,
              help="Also show the unchanged verdicts and the numbers within their intervals.")
@click.option("--pool", is_flag=True,
              help="Also evaluate both builds' records together (build folders with metrics.csv, on disjoint "
                   "seeds, e.g. one built with --seed-base) and print each finding's pooled verdict beside each "
                   "edition's.")
@_verbosity
@click.pass_context
def diff(ctx, old, new, as_json, as_md, fail_on, show_all, pool, verbosity):
    """Compare two editions, OLD and NEW (build folders or findings.json files; NEW defaults to build).

    Lists the verdicts that flipped, the numbers whose new estimate lies outside the old 95%
    interval (or the old outside the new), and the findings or checks added or removed.
    Exit status: 0, or 1 when --fail-on says the changes fail; 2 when an edition cannot be read."""
    if as_json and as_md:
        raise click.UsageError("--json and --md exclude each other")
    try:
        changes = api.diff(old, new, pool=pool)
    except api.UserError as exc:
        if as_md:  # for a CI job summary or issue: say why there is no comparison
            click.echo(unreadable_markdown(str(exc)))
        raise SpecUsageError(str(exc)) from None
    ctx.find_root().meta[_EXIT_STATUS] = status = int(failed(changes, fail_on))
    if as_json:
        shown = {k: v for k, v in changes.items() if show_all or k not in ("kept", "within")}
        click.echo(json.dumps({**shown, "fail_on": fail_on, "failed": bool(status)}, indent=2))
    elif as_md:
        click.echo(to_markdown(changes, show_all))
    elif verbosity:
        click.echo(to_text(changes, show_all))
    else:  # -q: the results only, one line per change (flipped, changed part, moved number, added, removed)
        for line in to_text(changes, show_all).splitlines():
            if line.startswith("  "):
                click.echo(line[2:])
    ctx.exit(status)


@main.command()
@_out_option("Build folder to clean: its report files, metrics.csv, findings.json and manifest.json, "
             "and (unless --keep-cache) OUT/cache.")
@cache_option
@click.option("--keep-cache", is_flag=True, help="Keep the cell cache; remove only the report files.")
@_verbosity
@_errors
def clean(out, cache, keep_cache, verbosity):
    """Remove the build outputs and (unless --keep-cache) the cell cache."""
    removed = api.clean(out, cache, keep_cache)
    if verbosity:
        click.echo("\n".join(f"removed {p}" for p in removed) or "nothing to remove")


@main.command()
@profile_option
@_out_option("Build folder whose cell cache (OUT/cache, unless --cache) is pruned.")
@cache_option
@experiments_option
@device_option
@set_option
@seed_base_option
@_verbosity
@_errors
def prune(profile, out, cache, experiments, device, sets, seed_base, verbosity):
    """Remove the cached cells that a build of PROFILE would not read (older code or libraries)."""
    removed = api.prune(profile, out, cache, experiments_dir=experiments, sets=sets, device=device,
                        seed_base=seed_base)
    if verbosity:
        click.echo(f"removed {len(removed)} file(s) of cells that profile {profile} does not use", err=True)


# Every option reads VGREPORT_<COMMAND>_<OPTION> (the long option's name: VGREPORT_BUILD_CACHE,
# VGREPORT_LIST_JSON), rather than click's default built from the Python parameter name.
for _name, _command in main.commands.items():
    for _param in _command.params:
        if isinstance(_param, click.Option) and _param.envvar is None:
            _long = next(o for o in _param.opts if o.startswith("--"))
            _param.envvar = f"{ENV_PREFIX}_{_name.upper()}_{_long[2:].replace('-', '_').upper()}"
        if isinstance(_param, click.Option):
            _param.show_envvar = True  # --help names each option's variable


if __name__ == "__main__":  # pragma: no cover
    main()
