"""What the templates say about the battery: the fields that differ between an experiment's
variants, the values most experiments share, one line per variant's model."""
from __future__ import annotations

import re
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


def models_line(experiment) -> str:
    """The experiment's models in one line, with what they share said once: consecutive variants
    of the same model ('RNN (tanh, PyTorch default init)') are listed as 'MODEL: change; change',
    and variants of one family that differ in one term of their parentheses as 'RNN (orthogonal
    init, gain 1): sigmoid, tanh, relu, identity'."""
    swept_gain = "model.gain" in (experiment.sweep or {})
    entries = []
    for entry in variant_models(experiment):
        model = entry["model"]
        if swept_gain:  # the first cell's gain is one of many: the task column gives the sweep
            model = re.sub(r", gain [0-9.]+\)", ")", model)
        base, closed, extra = model.partition(")")  # 'LSTM (PyTorch default init' and ', width 128'
        changes = ", ".join(c for c in (extra.strip(", "), entry["changes"]) if c)
        entries.append({"model": base + closed, "changes": changes})
    groups: list[list[dict]] = []
    for entry in entries:  # consecutive variants of one model with the changes that set them apart
        if groups and entry["changes"] and groups[-1][0]["model"] == entry["model"] and groups[-1][0]["changes"]:
            groups[-1].append(entry)
        else:
            groups.append([entry])
    parts = []
    for group in groups:
        if len(group) > 1:
            parts.append(f"{group[0]['model']}: " + "; ".join(e["changes"] for e in group))
        else:
            parts.append(group[0]["model"] + (f", {group[0]['changes']}" if group[0]["changes"] else ""))
    return _factor_terms(parts)


def _factor_terms(parts: list[str]) -> str:
    """'RNN (sigmoid, orthogonal init, gain 1)', 'RNN (tanh, orthogonal init, gain 1)' ->
    'RNN (orthogonal init, gain 1): sigmoid, tanh', for runs of entries of one family whose
    parenthesised terms differ in exactly one place; anything else is left as it is."""
    def split(text: str):
        if not text.endswith(")") or " (" not in text:
            return None
        family, terms = text[:-1].split(" (", 1)
        return family, terms.split(", ")

    out, i = [], 0
    while i < len(parts):
        first = split(parts[i])
        j = i + 1
        while first and j < len(parts):
            other = split(parts[j])
            if (not other or other[0] != first[0] or len(other[1]) != len(first[1])
                    or sum(a != b for a, b in zip(other[1], first[1])) != 1):
                break
            j += 1
        run = [split(p) for p in parts[i:j]]
        differ = [k for k in range(len(first[1])) if len({r[1][k] for r in run}) > 1] if first and j - i > 2 else []
        if len(differ) == 1:
            k = differ[0]
            shared = [t for n, t in enumerate(first[1]) if n != k]
            out.append(f"{first[0]}{' (' + ', '.join(shared) + ')' if shared else ''}: " + ", ".join(r[1][k] for r in run))
            i = j
        else:
            out.append(parts[i])
            i += 1
    return "; ".join(out)
