"""The shapes that stages exchange, without the code that produces them: the record columns and
the verdict vocabulary. Torch-free, so aggregation, rendering and the cache can import it cheaply."""
from __future__ import annotations

from .specs import CellSpec

__all__ = ["RECORD_COLUMNS", "cell_columns", "VERDICTS", "SUPPORT", "CHECK_OUTCOMES", "REPORT_VERDICTS"]

RECORD_COLUMNS = ["experiment", "variant", "arch", "activation", "init", "gain", "hidden", "task",
                  "length", "clip", "budget", "seed", "stage", "metric", "step", "time_lag", "value"]

# A finding's verdict, and a check's outcome (theorems that fail only through a bug): the only
# words a report-cache manifest may carry, so a forged one is a damaged entry, never printed.
# From a finding's core parts (docs/findings.md): every one holds; none refuted, some hold, some
# undetermined; some hold and some are refuted; some refuted and none holds; none decided.
VERDICTS = ("supported", "supported so far", "partly refuted", "refuted", "inconclusive")
# The verdicts that count as support for the claim (the abstract, the glance page, diff).
SUPPORT = ("supported", "supported so far")
CHECK_OUTCOMES = ("pass", "fail", "undetermined")
REPORT_VERDICTS = VERDICTS + CHECK_OUTCOMES


def cell_columns(cell: CellSpec) -> dict:
    """The configuration columns every record of this cell carries (tidy, self-describing CSV)."""
    return {"experiment": cell.experiment, "variant": cell.variant, "arch": cell.model.arch,
            "activation": cell.model.activation if cell.model.arch == "rnn" else "",
            "init": cell.model.init, "gain": cell.model.gain, "hidden": cell.model.hidden,
            "task": cell.task.name, "length": cell.task.length,
            "clip": float("nan") if cell.train.clip is None else cell.train.clip,
            "budget": cell.train.steps, "seed": cell.seed}
