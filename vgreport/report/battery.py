"""What the templates say about the battery: the fields that differ between an experiment's
variants, the values most experiments share, one line per variant's model."""
from __future__ import annotations

from typing import Any

from .format import fmt

_VARIANT_FIELDS = (("train", "clip"), ("train", "lr"), ("train", "optimizer"), ("train", "steps"),
                   ("train", "batch"), ("task", "lag"))


def _first_cells(experiment) -> dict:
    first = {}
    for cell in experiment.cells():
        first.setdefault(cell.variant, cell)
    return first


def varying_fields(experiment) -> list[str]:
    """The training and task fields ('train.clip', 'task.lag', ...) that differ between an
    experiment's variants: the appendix states them per model instead of once."""
    cells = list(_first_cells(experiment).values())
    return [f"{section}.{name}" for section, name in _VARIANT_FIELDS
            if len({getattr(getattr(c, section), name) for c in cells}) > 1]


_COMMON = (("model", "hidden"), ("train", "batch"), ("train", "eval_size"), ("probe", "batch"), ("train", "optimizer"),
           ("train", "lr"), ("train", "clip"), ("train", "eval_every"))


def battery_defaults(experiments) -> dict[str, Any]:
    """The value most experiments share for each field of _COMMON ('train.batch' -> 64): the
    experiment table states these once and, per experiment, only what differs."""
    out = {}
    for section, name in _COMMON:
        # training settings are shared only by experiments that train
        values = [getattr(getattr(e, section), name) for e in experiments if section != "train" or e.train.steps]
        if values:
            out[f"{section}.{name}"] = max(sorted(set(values), key=str), key=values.count)
    return out


def _field_text(path: str, value) -> str:
    if path == "train.clip":
        return "no clipping" if value is None else f"clipped at {fmt(value)}"
    if path == "task.lag":
        return "the first token" if value is None else f"the token {value} steps back"
    return {"train.lr": f"learning rate {fmt(value)}", "train.optimizer": "plain SGD" if value == "sgd" else "Adam",
            "train.steps": f"{fmt(value)} steps", "train.batch": f"batch {value}"}[path]


def variant_models(experiment) -> list[dict]:
    """One entry per variant of an experiment: its name, its model with the initialisation stated
    and what else sets it apart (e.g. 'no clipping'), so that no two entries read the same."""
    varying = varying_fields(experiment)
    out = []
    for variant, cell in _first_cells(experiment).items():
        width = "" if cell.model.hidden == experiment.model.hidden else f", width {cell.model.hidden}"
        changes = [_field_text(path, getattr(getattr(cell, path.split(".")[0]), path.split(".")[1]))
                   for path in varying]
        out.append({"variant": variant, "model": cell.model.describe() + width, "changes": ", ".join(changes)})
    return out
