"""Stage 11: the command line. Thin: parse options, call vgreport.api, print one-line errors."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from . import __version__, api
from .runner import MissingResults, default_jobs
from .specs import PROFILE_NAMES, SpecError


class SpecUsageError(click.ClickException):
    """A bad spec or option value: one line on stderr, exit status 2."""
    exit_code = 2


def _errors(func):
    """Turn the library's user errors into one-line click errors (no traceback)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SpecError as exc:
            raise SpecUsageError(str(exc)) from None
        except (api.UserError, MissingResults) as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


profile_option = click.option("--profile", type=click.Choice(PROFILE_NAMES), default="standard",
                              show_default=True, help="How big a battery: smoke (tests), quick, standard, full, gpu (30 seeds).")
out_option = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build"),
                          show_default=True, help="Folder for report.html, report.pdf, metrics.csv, findings.json.")
cache_option = click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
                            default=None, help="Cell cache folder (default: OUT/cache).")
experiments_option = click.option("--experiments", "experiments_dir",
                                  type=click.Path(path_type=Path), default=None,
                                  help="Build from this folder of experiment YAML files instead of the shipped battery.")
jobs_option = click.option("--jobs", type=click.IntRange(1, 512), default=None,
                           help="Worker processes (default: one per CPU core).")
device_option = click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu",
                             show_default=True, help="Where cells train; auto picks cuda when available.")
force_render_option = click.option("--force-render", is_flag=True, default=False,
                                   help="Render the report even when an identical one is cached "
                                        "(e.g. after installing other fonts).")
set_option = click.option("--set", "sets", multiple=True, metavar="SECTION.FIELD=VALUE",
                          help="Override a spec field in every selected experiment, e.g. --set model.hidden=128.")


def _split_formats(ctx, param, value: str) -> tuple[str, ...]:
    formats = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [f for f in formats if f not in api.FORMATS]
    if bad or not formats:
        raise click.BadParameter(f"{value!r}: choose from {', '.join(api.FORMATS)}, comma-separated")
    return formats


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vgreport")
def main():
    """Measure the vanishing-gradient problem of recurrent networks and report it."""


def _report_options(func):
    for option in reversed([
        profile_option, out_option,
        click.option("--only", multiple=True, metavar="AXIS",
                     help="Only this axis (repeatable): length, activation, initialisation, clipping, architecture."),
        click.option("--format", "formats", default="html,pdf", show_default=True, callback=_split_formats,
                     help="Outputs to write, comma-separated: html, pdf."),
        click.option("--paper", type=click.Choice(api.PAPERS), default="a4", show_default=True,
                     help="PDF page size."),
        click.option("--templates", "templates_dir", type=click.Path(path_type=Path), default=None,
                     help="Folder of templates that override the shipped ones (same file names)."),
        experiments_option, cache_option]):
        func = option(func)
    return func


def _print_result(result: api.BuildResult) -> None:
    s = result.summary
    click.echo(f"{s['cells']} cells: {s['computed']} computed, {s['cached']} from the cache "
               f"({s['seconds']:.1f} s)", err=True)
    if s.get("report") == "reused":
        click.echo("report: inputs unchanged, copied from the cache (--force-render to render again)", err=True)
    for finding_id, verdict in result.verdicts.items():
        click.echo(f"  {finding_id:<4} {verdict}", err=True)
    for kind, path in result.files.items():
        click.echo(f"{kind}: {path}")


@main.command()
@_report_options
@jobs_option
@device_option
@set_option
@force_render_option
@_errors
def build(profile, out, only, formats, paper, templates_dir, experiments_dir, cache_dir, jobs, device, sets,
          force_render):
    """Run the battery (reusing cached cells) and write the report."""
    result = api.build(profile=profile, out=out, only=only, formats=formats, jobs=jobs, device=device,
                       experiments_dir=experiments_dir, templates_dir=templates_dir, cache_dir=cache_dir,
                       paper=paper, sets=sets, progress=sys.stderr.isatty(), force_render=force_render)
    _print_result(result)


@main.command()
@_report_options
@set_option
@force_render_option
@_errors
def render(profile, out, only, formats, paper, templates_dir, experiments_dir, cache_dir, sets, force_render):
    """Write the report from cached results only (no training)."""
    result = api.render(profile=profile, out=out, only=only, formats=formats,
                        experiments_dir=experiments_dir, templates_dir=templates_dir,
                        cache_dir=cache_dir, paper=paper, sets=sets, progress=False,
                        force_render=force_render)
    _print_result(result)


@main.command("run")
@click.argument("experiment")
@profile_option
@out_option
@experiments_option
@cache_option
@jobs_option
@device_option
@set_option
@_errors
def run_command(experiment, profile, out, experiments_dir, cache_dir, jobs, device, sets):
    """Run one EXPERIMENT into the cache and print its final scores."""
    summary = api.run_experiment(experiment, profile=profile, jobs=jobs, device=device,
                                 experiments_dir=experiments_dir, cache_dir=cache_dir, out=out,
                                 sets=sets, progress=sys.stderr.isatty())
    frame = summary.pop("records")
    click.echo(f"{summary['cells']} cells: {summary['computed']} computed, {summary['cached']} from the cache")
    final = frame[frame["metric"].isin(["final_accuracy", "final_mse", "diverged"])]
    if len(final):
        # One row per configuration: every label column that varies (a swept field), seeds averaged.
        labels = ["variant", "arch", "activation", "init", "gain", "hidden", "length", "clip", "budget"]
        index = [c for c in labels if final[c].nunique(dropna=False) > 1] or ["variant"]
        table = final.pivot_table(index=index, columns="metric", values="value", aggfunc="mean", dropna=False)
        table = table.dropna(how="all")
        click.echo(table.to_string(float_format=lambda v: f"{v:.3f}"))


@main.command("list")
@profile_option
@experiments_option
@out_option
@cache_option
@jobs_option
@device_option
@set_option
@_errors
def list_command(profile, experiments_dir, out, cache_dir, jobs, device, sets):
    """List experiments, axes, values, cells and estimated cost."""
    rows = api.list_experiments(profile, experiments_dir, cache_dir=cache_dir, out=out, sets=sets, device=device)
    header = f"{'experiment':<16} {'axis':<15} {'cells':>5} {'cached':>6} {'est. s':>7}  variants / sweep"
    click.echo(header)
    for r in rows:
        click.echo(f"{r['experiment']:<16} {r['axis']:<15} {r['cells']:>5} {r['cached']:>6} "
                   f"{r['estimated_seconds']:>7.0f}  {r['variants']}" + (f" / {r['sweep']}" if r['sweep'] else "")
                   + f" / {r['seeds']} seeds, {r['steps']} steps")
    total = sum(r["estimated_seconds"] for r in rows)
    workers = jobs or default_jobs()
    todo = sum(r["estimated_seconds"] * (1 - r["cached"] / r["cells"]) for r in rows if r["cells"])
    click.echo(f"total: {sum(r['cells'] for r in rows)} cells, about {total:.0f} s of one core; "
               f"about {todo / workers / 60:.1f} min left to run on {workers} workers")


@main.command()
@out_option
@cache_option
@click.option("--keep-cache", is_flag=True, help="Keep the cell cache; remove only the report files.")
@_errors
def clean(out, cache_dir, keep_cache):
    """Remove the build outputs and (unless --keep-cache) the cell cache."""
    removed = api.clean(out, cache_dir, keep_cache)
    click.echo("\n".join(f"removed {p}" for p in removed) or "nothing to remove")


if __name__ == "__main__":  # pragma: no cover
    main()
