"""The verdict vocabulary that findings, the report, its cache and diff share. Apart from
schema.py (the record columns), whose source is part of every cell's key: renaming a verdict must
re-render reports, never retrain cells."""
from __future__ import annotations

__all__ = ["VERDICTS", "SUPPORT", "CHECK_OUTCOMES", "REPORT_VERDICTS"]

# A finding's verdict, and a check's outcome (theorems that fail only through a bug): the only
# words a report-cache manifest may carry, so a forged one is a damaged entry, never printed.
# From a finding's core parts and clauses (docs/findings.md): every one holds; none refuted, some hold,
# some undetermined; none refuted, some hold, but a clause of the claim was not tested; some hold and
# some are refuted; some refuted and none holds; none decided.
VERDICTS = ("supported", "supported so far", "partly tested", "partly refuted", "refuted", "inconclusive")
# The verdicts that count as support for the claim (the abstract, the glance page, diff): never
# "partly tested", whose untested clause could be false.
SUPPORT = ("supported", "supported so far")
CHECK_OUTCOMES = ("pass", "fail", "undetermined")
REPORT_VERDICTS = VERDICTS + CHECK_OUTCOMES
