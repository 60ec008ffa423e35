"""The package's import graph, read from the source (sources.imported_modules: every import that can
run, at module level or inside a function): no module imports itself through others, the stages
(top-level modules and the findings, figures and report packages) form a DAG, and figures/ is a
leaf that imports nothing from report/ (or from any later stage)."""
from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from vgreport import sources

ROOT = sources.PACKAGE


def _graph() -> dict[str, set[str]]:
    name = lambda path: path.relative_to(ROOT).as_posix()  # noqa: E731
    return {name(f): {name(d) for d in sources.imported_modules(f, ROOT)} - {name(f)}
            for f in sources.package_files()}


def _stage(module: str) -> str:
    """The unit of the data flow a module belongs to: its subpackage, or itself at the top level."""
    parts = Path(module).parts
    return parts[0] if len(parts) > 1 else Path(module).stem


def test_no_module_imports_itself_through_others():
    try:
        order = list(TopologicalSorter(_graph()).static_order())
    except CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")
    assert "training.py" in order and "api.py" in order


def test_the_stages_form_a_dag_and_figures_is_a_leaf():
    stages: dict[str, set[str]] = {}
    for module, imports in _graph().items():
        stages.setdefault(_stage(module), set()).update(_stage(i) for i in imports if _stage(i) != _stage(module))
    try:
        list(TopologicalSorter(stages).static_order())
    except CycleError as cycle:
        pytest.fail(f"stages import each other: {' -> '.join(cycle.args[1])}")
    assert stages["figures"] <= {"notation"}, stages["figures"]  # the SVG tidying and the notation rule: its own
    assert "report" not in stages["findings"] and "report" in stages["api"]
    assert not stages["notation"] and not stages["verdicts"]


def test_the_graph_sees_what_it_should():
    """The reader of imports is what the cache key relies on: relative, absolute and lazy imports count."""
    graph = _graph()
    assert "figures/svg.py" in graph["report/svg.py"] and "figures/svg.py" in graph["figures/style.py"]
    assert "findings/__init__.py" in graph["report/environment.py"]  # a lazy import inside a class
    assert {"models.py", "probes.py", "schema.py", "specs.py", "tasks.py"} <= graph["training.py"]
