"""The build's counts, computed once from its cell table (cells.csv) and printed by every template
that names one: cells, configurations, trained runs, probes, seeds."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Counts", "count_cells"]


@dataclass(frozen=True)
class Counts:
    cells: int              # rows of cells.csv: one per configuration and seed
    configurations: int     # distinct rows of cells.csv without the seed
    trained: int            # cells with a training budget (budget > 0)
    probed_only: int        # cells only probed at initialisation (budget 0): cells = trained + probed_only
    seeds: tuple[int, ...]  # the seeds that occur


def count_cells(cells) -> Counts:
    """Counts of a cell table (aggregate.cell_table: one row per cell, CONFIG_COLUMNS first)."""
    from ..aggregate import CONFIG_COLUMNS

    if cells is None or len(cells) == 0:
        return Counts(0, 0, 0, 0, ())
    configuration = [c for c in CONFIG_COLUMNS if c != "seed"]
    trained = int((cells["budget"].fillna(0) > 0).sum())
    return Counts(cells=len(cells), configurations=len(cells[configuration].drop_duplicates()), trained=trained,
                  probed_only=len(cells) - trained, seeds=tuple(sorted(int(s) for s in cells["seed"].unique())))
