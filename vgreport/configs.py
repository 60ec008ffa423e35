"""A configuration: the cells of one experiment that differ only in their seed, as one key.

Every stage that groups by configuration uses this one type: aggregation (one row per cell is
CELL_KEY, per configuration KEY), the findings (a part reads configurations), the sequential design
(the next look adds seeds to the configurations of undetermined parts) and the specs (an experiment
may sweep only a field this key carries: specs.SWEEPABLE). So two sweep values never fold into one
row of a table, one point of a figure or one interval of a verdict. Torch-free and pandas-free.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from .specs import SWEEPABLE

if TYPE_CHECKING:
    from .specs import CellSpec

__all__ = ["Config", "KEY", "CELL_KEY", "config_of", "varying"]


@dataclass(frozen=True, order=True)
class Config:
    """One configuration, named by its experiment and variant and the value of every field an
    experiment may sweep (each a record column). Sorted by experiment, variant, length, gain, ..."""
    experiment: str
    variant: str
    length: int    # task.length
    gain: float    # model.gain
    hidden: int    # model.hidden
    budget: int    # train.steps

    @property
    def label(self) -> str:
        return f"{self.experiment}/{self.variant} T={self.length}"

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Config":
        """The configuration of a record, or of a table row that carries the KEY columns."""
        return cls(str(row["experiment"]), str(row["variant"]), int(row["length"]), float(row["gain"]),
                   int(row["hidden"]), int(row["budget"]))

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


# The record columns that name a configuration, and a cell (a configuration and a seed).
KEY = [f.name for f in dataclasses.fields(Config)]
CELL_KEY = KEY + ["seed"]
if KEY[2:] != list(SWEEPABLE.values()):  # the key carries every field a sweep may vary, and only those
    raise RuntimeError(f"Config's fields {KEY[2:]} differ from the sweepable columns {list(SWEEPABLE.values())}")


def config_of(cell: CellSpec) -> Config:
    """The configuration a cell belongs to (the values its records carry, schema.cell_columns)."""
    return Config(*cell.configuration)


def varying(configs) -> list[str]:
    """The key fields (besides the experiment) that take more than one value among these configurations."""
    configs = list(configs)
    return [f for f in KEY[1:] if len({getattr(c, f) for c in configs}) > 1]
