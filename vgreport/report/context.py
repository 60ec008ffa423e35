"""ReportContext: everything a render needs besides the findings (profile, date, versions, paper,
edition, attachments, the manifest's rows, the changes since a baseline)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .counts import Counts

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


@dataclass
class ReportContext:
    profile: str
    profile_description: str
    measured_at: str                      # ISO time of the newest measurement: the report's date
    versions: dict[str, str]              # vgreport, python, torch, numpy, ... -> version
    compute_seconds: float                # sum of the cells' compute time
    counts: Counts                        # cells, configurations, trained runs, seeds: from cells.csv
    experiments: list                     # vgreport.specs.Experiment, in battery order
    paper: str = "a4"                     # "a4" | "letter"
    attachments: list[Path] = field(default_factory=list)   # embedded in the PDF
    only_axes: tuple = ()
    edition: str = "student"              # "student" or "instructor" (adds the answers to the questions)
    manifest_rows: list = field(default_factory=list)       # (name, value) for the appendix (vgreport.manifest)
    changes: dict | None = None           # vgreport.diff.compare(baseline, this build), with --baseline
    failed_cells: list = field(default_factory=list)  # [{"cell": label, "error": one line}]: an incomplete build

    @property
    def date(self) -> datetime | None:
        """measured_at as an aware datetime (UTC when it names no zone); None when absent."""
        try:
            when = datetime.fromisoformat(self.measured_at)
        except (TypeError, ValueError):
            return None
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)

    @property
    def date_text(self) -> str:
        """'25 November 2026, 07:55 UTC' (no locale involved), or 'unknown'."""
        return date_text(self.measured_at)


def date_text(iso: str | None) -> str:
    """An ISO time as '25 November 2026, 07:55 UTC' (UTC when it names no zone), or 'unknown'."""
    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return "unknown"
    when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year}, {when:%H:%M} UTC"
