"""vgreport's own source code, hashed one way: which modules determine a cell's records, found from
the code, and the one function that hashes source files.

A cell's records are what `training.run_group` computes from the cell spec, so the code that
determines them is training.py and every vgreport module it imports, directly or through each
other, at module level or inside a function (`training_modules`, read from the source with `ast`,
never imported). Its hash is part of every cell's cache key (store.cell_key): a change to any of
those modules, a new one among them included, recomputes the cells; a change anywhere else (the
findings, the figures, the report) only renders again. Imports under `if TYPE_CHECKING:` never run
and do not count. Torch-free and import-free: listing, rendering and cleaning never load torch.
"""
from __future__ import annotations

import ast
import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable

__all__ = ["PACKAGE", "ENTRY", "source_sha256", "package_files", "training_modules", "training_code"]

PACKAGE = Path(__file__).resolve().parent
ENTRY = "training.py"  # run_cell and run_group: what a worker runs to turn cells into records


def source_sha256(paths: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 of source files, each as its name relative to `root` (the package) and its bytes, in
    name order: a renamed, added, removed or edited file changes it."""
    root = PACKAGE if root is None else root
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def package_files(root: Path | None = None, suffixes: tuple[str, ...] = (".py",)) -> list[Path]:
    """Every file of the package with one of these suffixes, subpackages included."""
    root = PACKAGE if root is None else root
    return sorted(p for p in root.rglob("*") if p.suffix in suffixes and p.is_file() and "__pycache__" not in p.parts)


def _module_file(root: Path, parts: list[str]) -> Path | None:
    """The file of package module `parts` (relative to the package root): a module or a package's __init__."""
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every import statement that can run: everywhere except under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


# One ast.parse at a time: CPython 3.11's ast module keeps one recursion counter for all threads,
# and a Dask worker with two threads, starting its first two units together (each computes
# training_code), failed a cell with "SystemError: AST constructor recursion depth mismatch".
_PARSING = threading.Lock()


def imported_modules(path: Path, root: Path) -> set[Path]:
    """The files of the package that the module at `path` imports (relative or as `vgreport.x`):
    `from .m import name` is m; `from . import name` is the submodule `name` where there is one,
    else the package's __init__.py, which defines the name."""
    here = path.relative_to(root).parent.parts
    package = root.name
    found: set[Path] = set()
    with _PARSING:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names if alias.name.split(".")[0] == package]
            found |= {f for parts in targets if (f := _module_file(root, parts[1:])) is not None}
            continue
        if node.level:
            base = list(here[:len(here) - node.level + 1]) if node.level > 1 else list(here)
            parts = base + (node.module.split(".") if node.module else [])
        elif node.module and node.module.split(".")[0] == package:
            parts = node.module.split(".")[1:]
        else:
            continue  # another library
        module = _module_file(root, parts)
        for alias in node.names:
            submodule = _module_file(root, parts + [alias.name])
            if submodule is not None and submodule != module:
                found.add(submodule)
            elif module is not None:
                found.add(module)
    return found


def training_modules(root: Path | None = None) -> tuple[Path, ...]:
    """training.py and every package module it imports, directly or through each other, in name order."""
    root = PACKAGE if root is None else root
    todo, seen = [root / ENTRY], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(imported_modules(path, root) - seen)
    return tuple(sorted(seen))


@lru_cache(maxsize=1)
def training_code() -> str:
    """The hash of the code that determines a cell's records (training_modules): part of every
    cell's cache key, and what a worker compares before it stores numbers under a key."""
    return source_sha256(training_modules(PACKAGE), PACKAGE)
