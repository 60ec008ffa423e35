"""Tables from records: the per-cell summary the PDF carries."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vgreport.aggregate import CELL_TABLE_COLUMNS, CONFIG_COLUMNS, cell_table, records_frame


def _cell(variant: str, seed: int, rate: float | None, accuracy: float, diverged: bool = False) -> list[dict]:
    config = {"experiment": "activation", "variant": variant, "arch": "rnn", "activation": variant, "init": "orthogonal",
              "gain": 1.0, "hidden": 16, "task": "recall", "length": 12, "clip": 1.0, "budget": 30, "seed": seed}
    rows = [{**config, "stage": "trained", "metric": metric, "step": 30, "time_lag": math.nan, "value": value}
            for metric, value in (("final_accuracy", accuracy), ("chance", 0.125), ("diverged", float(diverged)),
                                  ("diverged_step", math.nan), ("wall_seconds", 1.5 + seed))]
    if rate is not None:  # an exact exponential profile ‖∂L/∂h_k‖ = 2·e^(rate·lag)
        rows += [{**config, "stage": "init", "metric": "grad_norm_state", "step": 0, "time_lag": float(lag),
                  "value": 2.0 * math.exp(rate * lag)} for lag in range(12)]
        rows.append({**config, "stage": "init", "metric": "sigma_max_whh", "step": 0, "time_lag": math.nan,
                     "value": 1.0})
    return rows


def test_cell_table_has_one_row_per_cell_with_its_exact_decay_rate():
    """Each cell gives one row with its configuration, score, wall time and the slope of an exact exponential."""
    frame = records_frame(_cell("tanh", 0, -0.05, 0.9) + _cell("tanh", 1, -0.07, 0.8) + _cell("sigmoid", 0, -1.4, 0.125))
    table = cell_table(frame)
    assert list(table.columns) == CELL_TABLE_COLUMNS and len(table) == 3
    row = table[(table["variant"] == "tanh") & (table["seed"] == 1)].iloc[0]
    assert row["decay_rate_init"] == pytest.approx(-0.07, abs=1e-12)
    assert row["decay_r2_init"] == pytest.approx(1.0)
    assert row["final_accuracy"] == 0.8 and row["wall_seconds"] == 2.5 and row["diverged"] == 0
    assert set(CONFIG_COLUMNS) <= set(table.columns)


def test_cell_without_a_gradient_probe_has_no_rate():
    """A cell that recorded no gradient profile keeps its row, with NaN for the rate (never a made-up number)."""
    table = cell_table(records_frame(_cell("relu", 0, None, 0.3, diverged=True)))
    assert len(table) == 1 and np.isnan(table["decay_rate_init"].iloc[0]) and table["diverged"].iloc[0] == 1


def test_cell_table_of_no_records_is_empty_with_the_columns():
    """No records give an empty table that still has every documented column."""
    table = cell_table(records_frame([]))
    assert list(table.columns) == CELL_TABLE_COLUMNS and table.empty and isinstance(table, pd.DataFrame)
