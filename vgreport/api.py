"""The library API behind the CLI: build, run, render, list, clean. Tests call these directly."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from . import __version__, interrupts, sources
from . import diff as diff_module
from . import manifest as manifest_module
from .looks import later_looks
from .report import EDITIONS, FORMATS, PAPERS
from .runner import (
    EXECUTORS,
    DaskSession,
    ExecutorError,
    MissingResults,
    Summary,
    check_cost,
    default_jobs,
    estimate_seconds,
    execute,
)
from .shipped import shipped_folder
from .specs import Battery, SpecError, default_experiments_dir, load_battery, parse_overrides
from .store import (
    OUTPUT_LOCK,
    Cache,
    Manifest,
    ReportCache,
    UnsafePathError,
    cell_key,
    clean_cache,
    layout_problem,
    move_into,
    output_lock,
    remove_stale_staging,
    staging,
)

__all__ = ["BuildOptions", "BuildResult", "RunResult", "Summary", "UserError", "build", "render", "run_experiment",
           "list_experiments", "clean", "prune", "diff", "resolve_device", "FORMATS", "EXECUTORS", "PAPERS", "EDITIONS"]

# Libraries that shape the PDF's bytes without being shown on the cover: in the report digest too.
_RENDER_LIBRARIES = ("pydyf", "fonttools", "tinycss2", "cssselect2", "pyphen", "pillow")


class UserError(Exception):
    """A mistake in what the user asked for; the CLI prints it on one line."""


@dataclass
class BuildResult:
    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    summary: Summary = field(default_factory=Summary)
    verdicts: dict[str, str] = field(default_factory=dict)


@dataclass
class RunResult:
    records: object  # pandas.DataFrame of the experiment's records (RECORD_COLUMNS)
    summary: Summary


def resolve_device(device: str) -> str:
    if device == "cpu":
        return device  # without importing torch: `list` and `render` never need it
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available (torch is the CPU build); use cpu or auto")
    return device


def _battery(profile: str, experiments_dir, only: Sequence[str] = (), sets: Sequence[str] = (), *,
             sets_for: Sequence[str] | None = None, seed_base: int = 0) -> tuple[Battery, tuple]:
    battery = load_battery(experiments_dir, profile, parse_overrides(sets) if sets else None, sets_for,
                           seed_base=seed_base)
    unknown = [a for a in only if a not in battery.axes]
    if unknown:
        raise SpecError(f"--only {unknown[0]}: no such axis (axes: {', '.join(battery.axes)})")
    return battery, tuple(only)


def _versions(names: Sequence[str] = ("torch", "numpy", "pandas", "scipy", "matplotlib", "jinja2",
                                       "weasyprint")) -> dict[str, str]:
    """The versions the cover lists (and, with _RENDER_LIBRARIES, the report digest)."""
    import importlib.metadata as md
    out = {"vgreport": __version__, "python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _cache(out: Path | str, cache_dir: Path | str | None) -> Cache:
    return Cache(Path(cache_dir) if cache_dir else Path(out) / "cache")


def _apart(out: Path | str, cache_dir: Path | str | None) -> None:
    """--out and --cache in one folder, or one inside the other (but OUT/cache), is refused
    (exit 2) by the commands that write outputs or clean them: see store.layout_problem."""
    problem = layout_problem(out, cache_dir) if cache_dir else None
    if problem:
        raise SpecError(problem)


def _reason(exc: OSError) -> str:
    """'No space left on device' (and the file, when the error names one: for a copy or a rename,
    the destination, which Python names second: the source is fine, the target's disk is full)."""
    text = exc.strerror or str(exc) or type(exc).__name__
    where = exc.filename2 or exc.filename
    return f"{text}: {where}" if where else text


def _writable(folder: Path, option: str) -> None:
    """Create `folder` and a file in it now, so that a build which cannot write its outputs or
    its cache fails on one line before any cell is trained (a full disk can still come later)."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{option} {folder}: not a folder")
    try:
        Manifest(folder).make_folders(".")  # recorded when vgreport creates it, for `clean`
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".vgreport-write-test-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise UserError(f"{option} {folder}: cannot write there ({exc.strerror or exc})") from exc


def _check_templates(templates_dir) -> None:
    """--templates must be a folder of plain files (no link out of it) with UTF-8 names, each
    template UTF-8 that parses: checked before training (report.environment.check_templates)."""
    if templates_dir is None:
        return
    from .report.environment import ReportTemplateError, check_templates
    if not Path(templates_dir).is_dir():
        raise UserError(f"--templates {templates_dir}: not a folder")
    try:
        check_templates(templates_dir)
    except ReportTemplateError as exc:
        raise UserError(str(exc)) from exc


def _all_looks(battery: Battery, only) -> list:
    """Every cell a build could train: the first look's and the seeds later looks may add."""
    return [c for e in battery.select(only) for c in e.cells(range(max((e.seeds, *e.seed_rounds))))]


def _to_compute(cells, cache: Cache, device: str) -> list:
    """The cells whose results are not in the cache yet (what a build would train)."""
    return [c for c in cells if not cache.path(cell_key(c, device)).is_file()]


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build can be asked for (the options of `vgreport build` and `render`)."""
    profile: str = "standard"
    out: Path | str = "build"
    only: Sequence[str] = ()                       # axes (--only); empty: the whole battery
    formats: Sequence[str] = FORMATS
    jobs: int | None = None                        # worker processes (None: one per core)
    device: str = "cpu"                            # cpu, cuda or auto
    experiments_dir: Path | str | None = None      # the battery (None: the shipped one)
    templates_dir: Path | str | None = None        # templates that override the shipped ones
    cache_dir: Path | str | None = None            # the cell and report cache (None: OUT/cache)
    paper: str = "a4"
    sets: Sequence[str] = ()                       # --set SECTION.FIELD=VALUE overrides
    progress: bool = True                          # a progress bar while cells run
    cache_only: bool = False                       # render from cached cells only (`render`)
    force_render: bool = False                     # render even when the report cache holds these outputs
    baseline: Path | str | None = None             # an earlier edition: "changed since the last edition"
    on_stage: Callable[[str], None] | None = None  # called as each stage after training starts
    allow_large: bool = False                      # skip the cost limits
    executor: str | None = None                    # "local" or "dask" (None: dask when a scheduler is given)
    scheduler: str | None = None                   # a Dask scheduler's address
    edition: str = "student"                       # or "instructor" (an answer under every question)
    seed_base: int = 0                             # seeds seed_base, seed_base + 1, ... (a replication)


def build(profile: str | None = None, out: Path | str | None = None, options: BuildOptions | None = None,
          **changes) -> BuildResult:
    """Run (or reuse) every cell of the battery, then write metrics, findings, manifest and the report.
    `options` (BuildOptions) with `profile`, `out` and any other of its fields given by keyword.

    When every input of the report stage is unchanged since an earlier build (records, battery,
    options, templates, vgreport's code, library versions), the finished outputs are copied from
    the cache instead of rendered again; force_render renders anyway. `baseline` (a build folder
    or a findings.json) adds a "changed since the last edition" section. `edition` is "student" (the
    default) or "instructor" (an answer under every question). `seed_base` N runs seeds N, N + 1, ...
    (a replication: other seeds are other cells; see docs/findings.md). `on_stage(text)` is
    called as each stage after training starts (the CLI shows it while the report is made).

    Before any cell is trained: the specs are checked (SpecError), the estimated cost of the cells
    to compute is checked against runner's limits unless allow_large (SpecError), and the
    templates, --out and the cache are checked to be usable (UserError). A KeyboardInterrupt
    always leaves this function as itself.

    Cells run on `executor` ("local" process pool, or "dask": a LocalCluster of `jobs` workers, or
    the Dask scheduler at `scheduler`). Cells whose work failed are listed in summary.failures,
    findings.json and on the cover; such an incomplete report is never stored in or served from
    the report cache. Failing to store a complete report in the report cache (a full or read-only
    disk) leaves a line in summary.warnings instead of failing the build."""
    given = {"profile": profile, "out": out}
    o = dataclasses.replace(options or BuildOptions(), **{k: v for k, v in given.items() if v is not None}, **changes)
    started = manifest_module.now()
    stage = o.on_stage or (lambda text: None)
    bad = [f for f in o.formats if f not in FORMATS]
    if bad:
        raise UserError(f"--format {bad[0]}: unknown format (choose from {', '.join(FORMATS)})")
    if o.paper not in PAPERS:
        raise UserError(f"--paper {o.paper}: unknown paper size (choose from {', '.join(PAPERS)})")
    if o.edition not in EDITIONS:
        raise UserError(f"--edition {o.edition}: unknown edition (choose from {', '.join(EDITIONS)})")
    _check_templates(o.templates_dir)
    battery, only = _battery(o.profile, o.experiments_dir, o.only, o.sets, seed_base=o.seed_base)
    device = resolve_device(o.device)
    old_edition = _baseline(o.baseline)  # read before this build may overwrite it (--baseline build)
    out = Path(o.out)
    _apart(out, o.cache_dir)
    cache = _cache(out, o.cache_dir)
    cells = battery.cells(only)
    if not o.cache_only:  # every cell the build could train, the later looks' seeds included
        todo = _to_compute(_all_looks(battery, only), cache, device)
        check_cost(todo, o.jobs, device, o.allow_large)
    _writable(out, "--out")
    if not o.cache_only:
        _writable(cache.root, "--cache")
        cache.check_entries(cell_key(c, device) for c in todo)

    executor = _executor(o.executor, o.scheduler)
    # One Dask cluster for every look of the build, started only if a look has cells to run.
    with DaskSession(o.jobs or default_jobs(), o.scheduler) as session:
        def run(cells):
            return _execute(cells, cache, jobs=o.jobs, device=device, progress=o.progress, cache_only=o.cache_only,
                            executor=executor, scheduler=o.scheduler, session=session if executor == "dask" else None)

        try:
            records, summary = run(cells)
            cells, records, summary = later_looks(battery, only, cells, records, summary, run, cache)
        except OSError as exc:
            raise UserError(f"--cache {cache.root}: cannot store a result ({_reason(exc)})") from exc
    _all_failed(summary)
    # Cache entries that were not plain files (a FIFO, a link, a device) were recomputed: say so.
    summary.warnings = list(dict.fromkeys(cache.warnings))
    complete = not summary.failed
    stage("checking the report cache")
    versions = _versions()
    jobs = o.jobs or default_jobs()
    keys = [cell_key(c, device) for c in cells]
    seeds = sorted({c.seed for c in cells})
    # The part of the manifest that the appendix shows: a function of the report's inputs.
    shown = {"code": manifest_module.code_description(), "profile": battery.profile,
             "device": manifest_module.device_info(device), "platform": manifest_module.platform_info(),
             "seeds": seeds, "specs": {"cells": len(cells), "distinct": len(set(keys)),
                                       "sha256": hashlib.sha256("\n".join(sorted(set(keys))).encode()).hexdigest()}}
    reports = ReportCache(cache.root)
    digest = _report_digest(o, battery, only, cells, summary.record_digests, {**versions, **_versions(_RENDER_LIBRARIES)},
                            extra={"appendix": shown, "baseline": old_edition, "edition": o.edition})
    options = {"only": list(only), "formats": list(o.formats), "paper": o.paper, "edition": o.edition,
               "sets": list(o.sets), "seed_base": o.seed_base,
               "experiments": str(o.experiments_dir) if o.experiments_dir else None,
               "templates": str(o.templates_dir) if o.templates_dir else None,
               "baseline": old_edition["source"] if old_edition else None, "force_render": o.force_render}

    def manifest(report: str) -> dict:
        return manifest_module.build_manifest(
            code=shown["code"], versions={**versions, **_versions(_RENDER_LIBRARIES)}, device=device, jobs=jobs,
            threads=max(1, default_jobs() // jobs), profile=battery.profile, options=options, seeds=seeds,
            cells=manifest_module.cell_rows(cells, keys, records), summary=summary, report=report, started=started)

    # One build at a time writes into --out, from its first output to the report cache entry
    # made from those outputs: two builds into one folder leave one whole edition.
    with output_lock(out, waiting=lambda: stage(f"waiting for another build to finish writing into {out}")):
        entry = None if o.force_render or not complete else reports.get(digest)
        try:
            if entry is not None:
                summary.report = "reused"
                stage("copying the unchanged report from the cache")
                files = reports.restore(entry, digest, out)
                files["manifest"] = _write_manifest(out, manifest("reused"))
                return BuildResult(out=out, files=files, summary=summary, verdicts=entry["verdicts"])
            summary.report = "rendered"
            result = _report(o, battery, only, records, summary, out, versions,
                             appendix=manifest_module.appendix_rows(shown), baseline=old_edition,
                             manifest=lambda: manifest("rendered"), stage=stage)
        except OSError as exc:
            raise UserError(f"--out {out}: cannot write the outputs ({_reason(exc)}); "
                            f"the previous ones are as they were") from exc
        if complete:
            try:
                reports.put(digest, {k: v for k, v in result.files.items() if k != "manifest"}, result.verdicts)
            except OSError as exc:  # disk full, read-only: the outputs are written; only the reuse is lost
                summary.warnings.append(f"report cache {reports.root}: not stored ({_reason(exc)}); "
                                        f"the outputs in {out} are complete")
        return result


def _executor(executor: str | None, scheduler: str | None) -> str:
    """The executor named, checked against the scheduler option ("dask" when only a scheduler is given)."""
    if executor is None:
        executor = "dask" if scheduler else "local"
    if executor not in EXECUTORS:
        raise UserError(f"--executor {executor}: unknown executor (choose from {', '.join(EXECUTORS)})")
    if scheduler and executor != "dask":
        raise UserError(f"--scheduler {scheduler}: only the dask executor connects to a scheduler "
                        f"(use --executor dask)")
    return executor


def _all_failed(summary: Summary) -> None:
    """Every cell failed: there is nothing to report on, so say why instead (the first failure's
    error: a worker's refusal, a lost scheduler, a bug), in one line."""
    if summary.cells and summary.failed == summary.cells:
        first = summary.failures[0]
        raise UserError(f"all {summary.cells} cells failed, so there is nothing to report; the first, "
                        f"{first['cell']}: {first['error']}")


def _execute(cells, cache: Cache, executor: str | None, scheduler: str | None, **options) -> tuple[list, Summary]:
    """runner.execute with the executor options checked and its start-up errors as UserError."""
    executor = _executor(executor, scheduler)
    try:
        return execute(cells, cache, executor=executor, scheduler=scheduler, **options)
    except ExecutorError as exc:
        raise UserError(str(exc)) from None


def _baseline(baseline: Path | str | None) -> dict | None:
    """The earlier edition named by --baseline, read and checked up front (one-line error)."""
    if baseline is None:
        return None
    try:
        return diff_module.load_edition(baseline)
    except diff_module.DiffError as exc:  # bad input, as `diff` says: exit 2
        raise SpecError(f"--baseline {exc}") from None


def _write_manifest(out: Path, manifest: dict) -> Path:
    """manifest.json alone (after a report copied from the cache), staged and moved like the rest."""
    with staging(out) as folder:
        path = folder / "manifest.json"
        path.write_text(json.dumps(_strict_json(manifest), indent=2, allow_nan=False) + "\n")
        return move_into(out, {"manifest": path})["manifest"]


def diff(old: Path | str, new: Path | str, pool: bool = False) -> dict:
    """The changes between two editions (build folders or findings.json files): see vgreport.diff. With
    `pool`, also the verdicts of the two builds' records evaluated together (build folders with their
    metrics.csv, on disjoint seeds): `changes["pooled"]`."""
    try:
        editions = diff_module.load_edition(old), diff_module.load_edition(new)
        changes = diff_module.compare(*editions)
    except diff_module.DiffError as exc:
        raise UserError(str(exc)) from None
    if pool:
        changes["pooled"] = _pooled(*editions)
    return changes


def _pooled(old: dict, new: dict) -> dict:
    """Evaluate the union of two editions' records (each edition's metrics.csv beside its findings.json)
    under the shipped battery of the new edition's profile: the pooled verdict of every finding beside each
    edition's (diff.pooled_rows)."""
    import pandas as pd

    from .aggregate import records_from_csv
    from .findings import evaluate
    frames = []
    for name, edition in (("OLD", old), ("NEW", new)):
        path = Path(edition["source"]).parent / "metrics.csv"
        if not path.is_file():
            raise UserError(f"{name} {path.parent}: --pool needs a build folder with its metrics.csv")
        try:
            frames.append(records_from_csv(path))
        except ValueError as exc:
            raise UserError(f"{name} {exc}") from None
    shared = sorted(set(frames[0]["seed"].unique()) & set(frames[1]["seed"].unique()))
    if shared:
        raise UserError(f"--pool needs two builds on disjoint seeds; seeds {_seed_list(shared)} are in both "
                        "(build one with --seed-base)")
    profile = (new.get("manifest") or {}).get("profile") or new.get("profile") or "standard"
    try:
        battery = load_battery(default_experiments_dir(), profile)
    except SpecError:
        battery = None  # a profile the shipped battery lacks: names and looks from the records alone
    frame = pd.concat(frames, ignore_index=True)
    evaluation = evaluate(frame, battery, with_figures=False)
    return diff_module.pooled_rows(old, new, evaluation.to_json(),
                                   sorted(int(s) for s in frame["seed"].unique()))


def _seed_list(seeds: list[int]) -> str:
    return ", ".join(str(int(s)) for s in seeds[:5]) + (f" and {len(seeds) - 5} more" if len(seeds) > 5 else "")


def render(profile: str | None = None, out: Path | str | None = None, options: BuildOptions | None = None,
           **changes) -> BuildResult:
    """Re-render from cached results only; fails if a cell has not been computed."""
    return build(profile, out, options, **{**changes, "cache_only": True})


def _report(o: BuildOptions, battery: Battery, only, records, summary: Summary, out: Path, versions: dict[str, str],
            appendix=(), baseline: dict | None = None, manifest=None,
            stage: Callable[[str], None] = lambda text: None) -> BuildResult:
    """Evaluate the findings and write the outputs. Everything is written into a staging folder
    first and moved into `out` only when all of it succeeded: a failed or interrupted render
    (WeasyPrint takes seconds) never leaves a new metrics.csv beside an old report.pdf."""
    from .aggregate import cell_table, records_frame
    from .findings import evaluate
    from .report.counts import count_cells

    with staging(out) as folder:
        with interrupts.kept():  # a Ctrl-C or SIGTERM swallowed while drawing or laying out still stops here
            stage("evaluating the findings")
            frame = records_frame(records)
            evaluation = evaluate(frame, battery, leave_one_seed_out=True)
            metrics_path, findings_path = folder / "metrics.csv", folder / "findings.json"
            cells_path = folder / "cells.csv"
            frame.to_csv(metrics_path, index=False, float_format="%.9g")
            cells = cell_table(frame)
            cells.to_csv(cells_path, index=False, float_format="%.6g")
            # A build with failed cells says so here and on the cover: a report that lacks cells
            # must not look complete.
            payload = {"profile": battery.profile, "measured_at": summary.measured_at,
                       "seed_base": battery.seed_base,
                       "looks": summary.looks, "complete": not summary.failed,
                       "failed_cells": summary.failures, **evaluation.to_json()}
            findings_path.write_text(json.dumps(_strict_json(payload), indent=2, allow_nan=False) + "\n")
            changes = None
            if baseline is not None:
                new_edition = {**json.loads(findings_path.read_text()), "source": "this build"}
                changes = diff_module.compare(baseline, new_edition)
            compute = frame.loc[frame["metric"] == "wall_seconds", "value"].sum() if len(frame) else 0.0
            staged = {"metrics": metrics_path, "findings": findings_path, "cell_summary": cells_path}
            if manifest is not None:  # written before the PDF, which carries it
                staged["manifest"] = folder / "manifest.json"
                staged["manifest"].write_text(json.dumps(_strict_json(manifest()), indent=2, allow_nan=False) + "\n")
            stage("drawing the figures and writing " + " and ".join(f.upper() for f in o.formats))
            # The PDF carries the findings, one row per cell and how it was made; the full records stay beside it.
            attached = [staged[k] for k in ("findings", "cell_summary", "manifest") if k in staged]
            staged.update(_render(o, evaluation, battery, only, summary, versions, count_cells(cells), float(compute),
                                  attached, folder, appendix=appendix, changes=changes))
        files = move_into(out, staged)
    return BuildResult(out=out, files=files, summary=summary, verdicts=evaluation.verdicts())


def _render(o: BuildOptions, evaluation, battery: Battery, only, summary: Summary, versions, counts, compute,
            attachments, folder, appendix=(), changes: dict | None = None) -> dict[str, Path]:
    """render_report, with a template's mistake reported as one line naming it and its line."""
    from .report.context import ReportContext
    from .report.document import render_report
    from .report.environment import ReportTemplateError
    context = ReportContext(
        profile=battery.profile, profile_description=battery.profile_spec.description,
        measured_at=summary.measured_at, versions=versions, compute_seconds=compute,
        counts=counts, experiments=battery.select(only),
        paper=o.paper, attachments=attachments, only_axes=tuple(only),
        manifest_rows=list(appendix), changes=changes, failed_cells=list(summary.failures), edition=o.edition)
    try:
        return render_report(evaluation, context, folder, formats=tuple(o.formats),
                             templates_dir=Path(o.templates_dir) if o.templates_dir else None)
    except ReportTemplateError as exc:
        raise UserError(str(exc)) from exc


def _report_digest(o: BuildOptions, battery: Battery, only, cells, record_digests: Sequence[str],
                   versions: dict[str, str], extra: dict | None = None) -> str:
    """SHA-256 of everything the report stage reads: each cell's label and the SHA-256 of its
    cached records (taken by execute as it read them), the battery, the options, every template
    it could load, vgreport's own code and the library versions. Fonts installed on the system
    are not in it (use --force-render after changing them)."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    options = {"profile": battery.profile, "profile_spec": battery.profile_spec.model_dump(mode="json"),
               "only": list(only), "formats": sorted(o.formats), "paper": o.paper,
               "experiments": [e.model_dump(mode="json") for e in battery.select(only)],
               "versions": versions, "extra": extra or {}}
    add("options", json.dumps(options, sort_keys=True, default=str).encode())
    for cell, records_sha in zip(cells, record_digests, strict=True):
        add("cell", json.dumps(cell.model_dump(mode="json"), sort_keys=True).encode())
        add("records", records_sha.encode())
    # vgreport's code, subpackages included, and the finding prose that ships inside findings/
    add("code", sources.source_sha256(sources.package_files(suffixes=(".py", ".j2"))).encode())
    from .report.environment import template_files
    folders = [("shipped", shipped_folder("templates", "report.html.j2"))]
    if o.templates_dir is not None:
        folders.insert(0, ("user", Path(o.templates_dir)))
    for label, folder in folders:
        for path in template_files(folder):  # plain files only: a link or a pipe is refused, never read
            add(f"{label}/{path.relative_to(folder).as_posix()}", path.read_bytes())
    return digest.hexdigest()


def _strict_json(value):
    """findings.json must be strict JSON: NaN and inf become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_strict_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def run_experiment(name: str, profile: str = "standard", jobs: int | None = None, device: str = "cpu",
                   experiments_dir=None, cache_dir: Path | str | None = None, out: Path | str = "build",
                   sets: Sequence[str] = (), progress: bool = True, allow_large: bool = False,
                   executor: str | None = None, scheduler: str | None = None, seed_base: int = 0) -> RunResult:
    """Run one experiment's cells into the cache (no report); cost and cache checked first;
    executor, scheduler and seed_base as for build. Returns the records (a DataFrame) and the summary."""
    battery, _ = _battery(profile, experiments_dir, sets=sets, sets_for=(name,), seed_base=seed_base)  # --set changes `name` only
    names = [e.name for e in battery.experiments]
    if name not in names:
        raise SpecError(f"experiment {name!r}: not in the battery (experiments: {', '.join(names)})")
    device = resolve_device(device)
    cache = _cache(out, cache_dir)
    cells = battery.cells(only_experiments=(name,))
    todo = _to_compute(cells, cache, device)
    check_cost(todo, jobs, device, allow_large)
    if not cache_dir:  # the cache goes inside --out: create (and record) that folder first
        _writable(Path(out), "--out")
    _writable(cache.root, "--cache")
    cache.check_entries(cell_key(c, device) for c in todo)
    try:
        records, summary = _execute(cells, cache, jobs=jobs, device=device, progress=progress,
                                    executor=executor, scheduler=scheduler)
    except OSError as exc:
        raise UserError(f"--cache {cache.root}: cannot store a result ({_reason(exc)})") from exc
    import pandas as pd
    summary.warnings = list(dict.fromkeys(cache.warnings))
    return RunResult(records=pd.DataFrame(records), summary=summary)


def list_experiments(profile: str = "standard", experiments_dir=None, cache_dir: Path | str | None = None,
                     out: Path | str = "build", sets: Sequence[str] = (), device: str = "cpu",
                     seed_base: int = 0) -> list[dict]:
    """One row per experiment: axis, variants, sweep, seeds, cells, estimated cost, cached cells
    (with the same --set, --device and --seed-base as the build, since they change what is cached).
    cells and estimated_seconds are the first look's; *_all_looks what it grows to if every later look
    adds its seeds to every configuration (the sequential design adds them only where undecided)."""
    battery, _ = _battery(profile, experiments_dir, sets=sets, seed_base=seed_base)
    device = resolve_device(device)
    cache = _cache(out, cache_dir)
    rows = []
    for exp in battery.experiments:
        cells = exp.cells()
        every = exp.cells(range(exp.most_seeds)) if exp.most_seeds > exp.seeds else cells
        sweep = ""
        if exp.sweep:
            (path, values), = exp.sweep.items()
            sweep = f"{path} = {', '.join(f'{v:g}' for v in values)}"
        rows.append({"experiment": exp.name, "axis": exp.axis, "variants": ", ".join(exp.variants),
                     "sweep": sweep, "seeds": exp.seeds, "first_seed": exp.seed_base, "cells": len(cells),
                     "steps": "/".join(str(s) for s in sorted({c.train.steps for c in cells})),  # after --set
                     "estimated_seconds": sum(estimate_seconds(c) for c in cells),
                     "cells_all_looks": len(every),
                     "estimated_seconds_all_looks": sum(estimate_seconds(c) for c in every),
                     "cached": sum(cache.path(cell_key(c, device)).is_file() for c in cells)})
    return rows


def clean(out: Path | str = "build", cache_dir: Path | str | None = None, keep_cache: bool = False) -> list[Path]:
    """Remove what builds wrote: the outputs in `out` and (unless keep_cache) the cache, each by
    the names its manifest recorded, the folders vgreport created there when they are empty, and
    stale staging folders; never a file or folder vgreport did not create, so a mistaken --cache
    or --out loses none of the user's files. Returns every file and folder removed."""
    out = Path(out)
    if keep_cache:  # without it both go, as asked; with it, the two must be told apart
        _apart(out, cache_dir)
    removed = []
    if not keep_cache:
        removed += clean_cache(_cache(out, cache_dir).root)
    if not (out / Manifest.NAME).is_file():  # no build wrote here: nothing to wait for
        return removed + (remove_stale_staging(out) if out.is_dir() else []) + clean_cache(out)
    lock = out / OUTPUT_LOCK
    created = not os.path.lexists(lock)
    with output_lock(out):  # never in the middle of a build's publishing
        removed += remove_stale_staging(out)  # left by builds killed mid-render
        removed += clean_cache(out)
    return [p for p in removed if not (created and p == lock)]  # only what was there before


def prune(profile: str = "standard", out: Path | str = "build", cache_dir: Path | str | None = None,
          experiments_dir=None, sets: Sequence[str] = (), device: str = "cpu", seed_base: int = 0) -> list[Path]:
    """Remove from the cell cache every entry that a build of `profile` (with these sets, device and
    seed base, every look included) would not read: what older code, library versions or batteries
    left, so a cache kept between runs (CI's) holds one battery. Only entries vgreport recorded are
    removed; the report cache is pruned by builds themselves. Returns the files removed."""
    battery, _ = _battery(profile, experiments_dir, sets=sets, seed_base=seed_base)
    device = resolve_device(device)
    return _cache(out, cache_dir).prune({cell_key(c, device) for c in _all_looks(battery, ())})


__all__ += ["MissingResults", "SpecError", "UnsafePathError"]
