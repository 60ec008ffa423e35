"""The shape of the records that stages exchange, without the code that produces them (the
verdict vocabulary is in verdicts.py). Torch-free, so aggregation, rendering and the cache can
import it cheaply; its source is part of every cell's key."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .architectures import architecture

if TYPE_CHECKING:
    from .specs import CellSpec

__all__ = ["RECORD_COLUMNS", "cell_columns"]

RECORD_COLUMNS = ["experiment", "variant", "arch", "activation", "init", "gain", "hidden", "task",
                  "length", "clip", "budget", "seed", "stage", "metric", "step", "time_lag", "value"]


def cell_columns(cell: CellSpec) -> dict:
    """The configuration columns every record of this cell carries (tidy, self-describing CSV)."""
    return {"experiment": cell.experiment, "variant": cell.variant, "arch": cell.model.arch,
            "activation": cell.model.activation if architecture(cell.model.arch).plain_recurrence else "",
            "init": cell.model.init, "gain": cell.model.gain, "hidden": cell.model.hidden,
            "task": cell.task.name, "length": cell.task.length,
            "clip": float("nan") if cell.train.clip is None else cell.train.clip,
            "budget": cell.train.steps, "seed": cell.seed}
