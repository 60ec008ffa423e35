"""The library API behind the CLI: build, run, render, list, clean. Tests call these directly."""
from __future__ import annotations

import hashlib
import json
import math
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import __version__, shipped_folder
from .runner import Cache, MissingResults, ReportCache, estimate_seconds, execute, move_into, staging_folder
from .specs import Battery, SpecError, load_battery, parse_overrides

__all__ = ["BuildResult", "UserError", "build", "render", "run_experiment", "list_experiments",
           "clean", "resolve_device", "FORMATS"]

FORMATS = ("html", "pdf")
PAPERS = ("a4", "letter")
# Libraries that shape the PDF's bytes without being shown on the cover: in the report digest too.
_RENDER_LIBRARIES = ("pydyf", "fonttools", "tinycss2", "cssselect2", "pyphen", "pillow")


class UserError(Exception):
    """A mistake in what the user asked for; the CLI prints it on one line."""


@dataclass
class BuildResult:
    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)


def resolve_device(device: str) -> str:
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available (torch is the CPU build); use cpu or auto")
    return device


def _battery(profile: str, experiments_dir, only: Sequence[str] = (), sets: Sequence[str] = ()) -> tuple[Battery, tuple]:
    battery = load_battery(experiments_dir, profile, parse_overrides(sets) if sets else None)
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


def build(profile: str = "standard", out: Path | str = "build", only: Sequence[str] = (),
          formats: Sequence[str] = FORMATS, jobs: int | None = None, device: str = "cpu",
          experiments_dir: Path | str | None = None, templates_dir: Path | str | None = None,
          cache_dir: Path | str | None = None, paper: str = "a4", sets: Sequence[str] = (),
          progress: bool = True, cache_only: bool = False, force_render: bool = False) -> BuildResult:
    """Run (or reuse) every cell of the battery, then write metrics, findings and the report.

    When every input of the report stage is unchanged since an earlier build (records, battery,
    options, templates, vgreport's code, library versions), the finished outputs are copied from
    the cache instead of rendered again; force_render renders anyway."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UserError(f"--format {bad[0]}: unknown format (choose from {', '.join(FORMATS)})")
    if paper not in PAPERS:
        raise UserError(f"--paper {paper}: unknown paper size (choose from {', '.join(PAPERS)})")
    if templates_dir is not None and not Path(templates_dir).is_dir():
        raise UserError(f"--templates {templates_dir}: not a folder")
    battery, only = _battery(profile, experiments_dir, only, sets)
    device = resolve_device(device)
    out = Path(out)
    cache = _cache(out, cache_dir)
    cells = battery.cells(only)
    records, summary = execute(cells, cache, jobs=jobs, device=device,
                               progress=progress, cache_only=cache_only)
    cells, records, summary = _later_looks(battery, only, cells, records, summary, cache, jobs, device, progress,
                                           cache_only)
    versions = _versions()
    reports = ReportCache(cache.root)
    digest = _report_digest(battery, only, cells, summary["record_digests"], formats, templates_dir, paper,
                            {**versions, **_versions(_RENDER_LIBRARIES)})
    manifest = None if force_render else reports.get(digest)
    if manifest is not None:
        summary["report"] = "reused"
        return BuildResult(out=out, files=reports.restore(manifest, digest, out), summary=summary,
                           verdicts=manifest["verdicts"])
    result = _report(battery, only, records, summary, out, formats, templates_dir, paper, versions)
    reports.put(digest, result.files, result.verdicts)
    summary["report"] = "rendered"
    return result


def _later_looks(battery: Battery, only, cells, records, summary, cache, jobs, device, progress, cache_only):
    """The sequential design: after each look, add the next round of seeds only to the configurations
    that a finding still cannot decide (each look's intervals spend alpha/looks, see findings.stats),
    until every training part is decided or the profile's last round has run."""
    looks = max((e.looks for e in battery.select(only)), default=1)
    summary["looks"] = 1
    for look in range(1, looks):
        from .aggregate import records_frame
        from .findings import evaluate
        pending = evaluate(records_frame(records), battery, with_figures=False).undetermined()
        selected = {e.name for e in battery.select(only)}
        extra = [c for c in battery.later_cells(pending, look) if c.experiment in selected]
        if not extra:
            break
        more, added = execute(extra, cache, jobs=jobs, device=device, progress=progress, cache_only=cache_only)
        cells, records = cells + extra, records + more
        counts = {k: summary[k] + added[k] for k in ("cells", "computed", "cached", "shared", "failed", "seconds")
                  if k in summary and k in added}
        summary = {**summary, **counts, "measured_at": max(summary["measured_at"], added["measured_at"]),
                   "record_digests": summary["record_digests"] + added["record_digests"], "looks": look + 1}
    return cells, records, summary


def render(profile: str = "standard", out: Path | str = "build", **kwargs) -> BuildResult:
    """Re-render from cached results only; fails if a cell has not been computed."""
    return build(profile, out, cache_only=True, **kwargs)


def _report(battery: Battery, only, records, summary, out: Path, formats, templates_dir, paper,
            versions: dict[str, str]) -> BuildResult:
    """Evaluate the findings and write the outputs. Everything is written into a staging folder
    first and moved into `out` only when all of it succeeded: a failed or interrupted render
    (WeasyPrint takes seconds) never leaves a new metrics.csv beside an old report.pdf."""
    from .aggregate import cell_table, records_frame
    from .findings import evaluate

    frame = records_frame(records)
    evaluation = evaluate(frame, battery)
    staging = staging_folder(out)
    try:
        metrics_path, findings_path = staging / "metrics.csv", staging / "findings.json"
        cells_path = staging / "cells.csv"
        frame.to_csv(metrics_path, index=False, float_format="%.9g")
        cell_table(frame).to_csv(cells_path, index=False, float_format="%.6g")
        payload = {"profile": battery.profile, "measured_at": summary["measured_at"],
                   "looks": summary.get("looks", 1), **evaluation.to_json()}
        findings_path.write_text(json.dumps(_strict_json(payload), indent=2, allow_nan=False) + "\n")
        seeds = sorted({int(s) for s in frame["seed"].unique()}) if len(frame) else []
        compute = frame.loc[frame["metric"] == "wall_seconds", "value"].sum() if len(frame) else 0.0
        # The PDF carries the findings and one row per cell; the full records stay beside it.
        staged = {"metrics": metrics_path, "findings": findings_path, "cells": cells_path,
                  **_render(evaluation, battery, only, summary, versions, seeds, float(compute), paper,
                            [findings_path, cells_path], staging, formats, templates_dir)}
        files = move_into(out, staged)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out=out, files=files, summary=summary, verdicts=evaluation.verdicts())


def _render(evaluation, battery: Battery, only, summary, versions, seeds, compute, paper, attachments, folder,
            formats, templates_dir) -> dict[str, Path]:
    """render_report, with a template's mistake reported as one line naming it."""
    import jinja2

    from .render import ReportContext, render_report
    context = ReportContext(
        profile=battery.profile, profile_description=battery.profile_spec.description,
        measured_at=summary["measured_at"], versions=versions, compute_seconds=compute,
        n_cells=summary["cells"], seeds=seeds, experiments=battery.select(only),
        paper=paper, attachments=attachments, only_axes=tuple(only))
    try:
        return render_report(evaluation, context, folder, formats=tuple(formats),
                             templates_dir=Path(templates_dir) if templates_dir else None)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(f"template {exc.filename or exc.name}, line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise UserError(f"report templates: {exc.message or exc!r}") from None
    except (KeyError, ValueError) as exc:
        if templates_dir is None:
            raise  # the shipped templates are tested: this is a bug, keep its traceback
        raise UserError(f"--templates {templates_dir}: {exc.args[0] if exc.args else exc!r}") from None


def _report_digest(battery: Battery, only, cells, record_digests: Sequence[str], formats, templates_dir,
                   paper: str, versions: dict[str, str]) -> str:
    """SHA-256 of everything the report stage reads: each cell's label and the SHA-256 of its
    cached records (taken by execute as it read them), the battery, the options, every template
    it could load, vgreport's own code and the library versions. Fonts installed on the system
    are not in it (use --force-render after changing them)."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    options = {"profile": battery.profile, "profile_spec": battery.profile_spec.model_dump(mode="json"),
               "only": list(only), "formats": sorted(formats), "paper": paper,
               "experiments": [e.model_dump(mode="json") for e in battery.select(only)],
               "versions": versions}
    add("options", json.dumps(options, sort_keys=True, default=str).encode())
    for cell, records_sha in zip(cells, record_digests, strict=True):
        add("cell", json.dumps(cell.model_dump(mode="json"), sort_keys=True).encode())
        add("records", records_sha.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):  # subpackages (findings/) included
        add(f"code/{path.relative_to(package).as_posix()}", path.read_bytes())
    folders = [("shipped", shipped_folder("templates", "report.html.j2"))]
    if templates_dir is not None:
        folders.insert(0, ("user", Path(templates_dir)))
    for label, folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
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
                   sets: Sequence[str] = (), progress: bool = True) -> dict:
    """Run one experiment's cells into the cache (no report)."""
    battery, _ = _battery(profile, experiments_dir, sets=sets)
    names = [e.name for e in battery.experiments]
    if name not in names:
        raise SpecError(f"experiment {name!r}: not in the battery (experiments: {', '.join(names)})")
    records, summary = execute(battery.cells(only_experiments=(name,)), _cache(out, cache_dir),
                               jobs=jobs, device=resolve_device(device),
                               progress=progress)
    import pandas as pd
    summary["records"] = pd.DataFrame(records)
    return summary


def list_experiments(profile: str = "standard", experiments_dir=None, cache_dir: Path | str | None = None,
                     out: Path | str = "build", sets: Sequence[str] = (), device: str = "cpu") -> list[dict]:
    """One row per experiment: axis, variants, sweep, seeds, cells, estimated cost, cached cells
    (with the same --set and --device as the build, since both change what is cached)."""
    from .runner import cell_key
    battery, _ = _battery(profile, experiments_dir, sets=sets)
    device = resolve_device(device)
    cache = _cache(out, cache_dir)
    rows = []
    for exp in battery.experiments:
        cells = exp.cells()
        sweep = ""
        if exp.sweep:
            (path, values), = exp.sweep.items()
            sweep = f"{path} = {', '.join(f'{v:g}' for v in values)}"
        rows.append({"experiment": exp.name, "axis": exp.axis, "variants": ", ".join(exp.variants),
                     "sweep": sweep, "seeds": exp.seeds, "cells": len(cells),
                     "steps": "/".join(str(s) for s in sorted({c.train.steps for c in cells})),  # after --set
                     "estimated_seconds": sum(estimate_seconds(c) for c in cells),
                     "cached": sum(cache.path(cell_key(c, device)).is_file() for c in cells)})
    return rows


def clean(out: Path | str = "build", cache_dir: Path | str | None = None, keep_cache: bool = False) -> list[Path]:
    """Remove the build outputs (and the cache unless keep_cache: only the files vgreport wrote
    there, so a mistaken --cache cannot delete a user's folder). Returns what was removed."""
    out = Path(out)
    removed = []
    for staging in out.glob(".staging-*"):  # left by a build that was killed mid-render
        shutil.rmtree(staging, ignore_errors=True)
    for name in ("report.html", "report.pdf", "metrics.csv", "findings.json", "cells.csv"):
        if (out / name).exists():
            (out / name).unlink()
            removed.append(out / name)
    cache = _cache(out, cache_dir)
    if not keep_cache and cache.root.is_dir():
        cache.clear()
        removed.append(cache.root)
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    return removed


__all__ += ["MissingResults", "SpecError"]
