"""Stage 7: records -> tables. Pure pandas/scipy functions; no files, no plotting."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .configs import CELL_KEY
from .schema import RECORD_COLUMNS

__all__ = ["records_frame", "records_from_csv", "select", "final_scores", "lag_profiles", "fit_decay", "decay_rates",
           "scalar_by_cell", "eval_curves", "cell_table", "CELL_KEYS",
           "CONFIG_COLUMNS", "CELL_TABLE_COLUMNS"]

CELL_KEYS = CELL_KEY  # a configuration (configs.Config: experiment, variant, every sweepable field) and a seed
# What a cell is: every record column except where and what was measured.
CONFIG_COLUMNS = [c for c in RECORD_COLUMNS if c not in ("stage", "metric", "step", "time_lag", "value")]
_CELL_SCALARS = {"trained": ["final_accuracy", "final_mse", "chance", "diverged", "diverged_step", "wall_seconds"],
                 "init": ["sigma_max_whh"]}
CELL_TABLE_COLUMNS = (CONFIG_COLUMNS + ["final_accuracy", "final_mse", "chance", "diverged", "diverged_step",
                                        "decay_rate_init", "decay_r2_init", "sigma_max_whh", "wall_seconds"])
_TYPES = {"experiment": str, "variant": str, "arch": str, "activation": str, "init": str, "task": str,
          "stage": str, "metric": str}


def records_frame(records: list[dict]) -> pd.DataFrame:
    """Records as a DataFrame with the documented columns, in order, with stable dtypes."""
    return _typed(pd.DataFrame(records, columns=RECORD_COLUMNS))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The records' dtypes, set in place: text, floats, integers (TypeError/ValueError on a bad value)."""
    for column, kind in _TYPES.items():
        frame[column] = frame[column].fillna("").astype(kind)
    for column in ("gain", "clip", "time_lag", "value"):
        frame[column] = frame[column].astype(float)
    for column in ("hidden", "length", "budget", "seed", "step"):
        frame[column] = frame[column].astype(int)
    return frame


def records_from_csv(path) -> pd.DataFrame:
    """A build's metrics.csv as the records DataFrame (the documented columns and dtypes); ValueError,
    naming the file, when it is not one."""
    try:
        frame = pd.read_csv(path, dtype={c: str for c in _TYPES}, keep_default_na=False, na_values={
            c: [""] for c in RECORD_COLUMNS if c not in _TYPES})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: not readable as a metrics.csv ({exc})") from None
    if list(frame.columns) != list(RECORD_COLUMNS):
        raise ValueError(f"{path}: not a vgreport metrics.csv (its columns are not {', '.join(RECORD_COLUMNS)})")
    try:
        _typed(frame)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: a value of the wrong type ({exc})") from None
    return frame


def select(frame: pd.DataFrame, experiment: str, **equal) -> pd.DataFrame:
    """Rows of one experiment, filtered by column == value (a list means isin)."""
    mask = frame["experiment"] == experiment
    for column, value in equal.items():
        mask &= frame[column].isin(value) if isinstance(value, (list, tuple, set)) else frame[column] == value
    return frame[mask]


def final_scores(frame: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """One row per cell that ran: score (final accuracy or MSE, NaN if diverged), chance, diverged, step."""
    rows = select(frame, experiment, stage="trained",
                  metric=["final_accuracy", "final_mse", "chance", "diverged", "diverged_step"])
    columns = CELL_KEYS + ["task", "score", "chance", "diverged", "diverged_step"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    # groupby keeps only cells that exist (a pivot with dropna=False would invent the cross product)
    wide = rows.groupby(CELL_KEYS + ["task", "metric"], sort=True)["value"].first().unstack("metric").reset_index()
    for metric in ("final_accuracy", "final_mse", "chance", "diverged", "diverged_step"):
        if metric not in wide:
            wide[metric] = np.nan
    wide["score"] = wide["final_accuracy"].fillna(wide["final_mse"])
    return wide[columns + ["final_accuracy", "final_mse"]]


def eval_curves(frame: pd.DataFrame, experiment: str, metric: str = "eval_accuracy") -> pd.DataFrame:
    """Held-out score during training: CELL_KEYS + step + value."""
    return select(frame, experiment, stage="train", metric=metric)[CELL_KEYS + ["step", "value"]]


def lag_profiles(frame: pd.DataFrame, experiment: str, metric: str = "grad_norm_state",
                 stage: str = "init") -> pd.DataFrame:
    """Per-lag values of one metric: columns CELL_KEYS + time_lag + value, sorted by lag."""
    rows = select(frame, experiment, stage=stage, metric=metric)
    return rows[CELL_KEYS + ["time_lag", "value"]].sort_values(CELL_KEYS + ["time_lag"])


def fit_decay(lags: np.ndarray, values: np.ndarray, min_lag: int = 1) -> dict:
    """Least-squares fit of log(value) = c + rate*lag over lags >= min_lag with value > 0.

    Returns rate (per step), its standard error, R^2 and the number of points; NaN when
    fewer than three points are usable (for example a ReLU network whose gradient is 0)."""
    lags, values = np.asarray(lags, float), np.asarray(values, float)
    keep = (lags >= min_lag) & np.isfinite(values) & (values > 0)
    if keep.sum() < 3:
        return {"rate": math.nan, "stderr": math.nan, "r2": math.nan, "points": int(keep.sum())}
    fit = stats.linregress(lags[keep], np.log(values[keep]))
    r2 = fit.rvalue ** 2 if np.isfinite(fit.rvalue) else 1.0  # a perfectly flat line: r is NaN
    return {"rate": float(fit.slope), "stderr": float(fit.stderr), "r2": float(r2),
            "points": int(keep.sum()), "intercept": float(fit.intercept)}


def decay_rates(frame: pd.DataFrame, experiment: str, stage: str = "init",
                metric: str = "grad_norm_state") -> pd.DataFrame:
    """One fitted decay rate per cell (see fit_decay)."""
    profiles = lag_profiles(frame, experiment, metric, stage)
    out = []
    for key, group in profiles.groupby(CELL_KEYS, sort=True):
        out.append({**dict(zip(CELL_KEYS, key)), **fit_decay(group["time_lag"].to_numpy(), group["value"].to_numpy())})
    return pd.DataFrame(out, columns=CELL_KEYS + ["rate", "stderr", "r2", "points", "intercept"])


def scalar_by_cell(frame: pd.DataFrame, experiment: str, metric: str, stage: str = "init") -> pd.DataFrame:
    rows = select(frame, experiment, stage=stage, metric=metric)
    return rows[CELL_KEYS + ["value"]]


def cell_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per cell (CELL_TABLE_COLUMNS): its configuration, final score, divergence, the decay
    rate of ‖∂L/∂h_k‖ at initialisation (fit_decay; NaN where the cell has no gradient probe) with
    its R², σ_max(W_hh) at initialisation and the wall-clock seconds. The summary the PDF carries."""
    if frame.empty:
        return pd.DataFrame(columns=CELL_TABLE_COLUMNS)
    keys = CONFIG_COLUMNS
    table = frame[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    for stage, metrics in _CELL_SCALARS.items():
        rows = frame[(frame["stage"] == stage) & frame["metric"].isin(metrics)]
        wide = rows.groupby(keys + ["metric"], dropna=False)["value"].first().unstack("metric")
        table = table.merge(wide.reset_index(), on=keys, how="left") if len(wide) else table
    profiles = frame[(frame["stage"] == "init") & (frame["metric"] == "grad_norm_state")]
    fits = [{**dict(zip(keys, key)), "decay_rate_init": fit["rate"], "decay_r2_init": fit["r2"]}
            for key, group in profiles.groupby(keys, dropna=False, sort=True)
            for fit in [fit_decay(group["time_lag"].to_numpy(), group["value"].to_numpy())]]
    if fits:
        table = table.merge(pd.DataFrame(fits), on=keys, how="left")
    for column in CELL_TABLE_COLUMNS:
        if column not in table:
            table[column] = np.nan
    return table[CELL_TABLE_COLUMNS]
