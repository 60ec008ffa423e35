"""Where the folders shipped with vgreport are (templates/, experiments/)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["shipped_folder"]


def shipped_folder(name: str, marker: str) -> Path:
    """A folder shipped with vgreport (templates/, experiments/): inside an installed wheel, where
    hatchling force-includes it, or at the top of the repository for an editable install."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parent / name):
        if (candidate / marker).is_file():
            return candidate
    raise FileNotFoundError(f"cannot find the shipped {name}/ folder ({marker}) next to {here}")
