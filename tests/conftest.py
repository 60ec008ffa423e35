"""Shared fixtures: one torch thread and a fixed seed, so every test is fast and repeatable."""
from __future__ import annotations

import signal

import pytest
import torch

from vgreport.specs import CellSpec, ModelSpec, ProbeSpec, TaskSpec, TrainSpec


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    # Small shapes run fastest on one thread, and one thread makes reductions repeatable.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session", autouse=True)
def _ctrl_c_as_a_terminal_sends_it():
    # A shell that starts the suite in the background (`make test &`, nohup) ignores SIGINT in it, and an
    # ignored signal stays ignored in every process it starts: the tests of Ctrl-C would see nothing
    # happen. Python's own handler here (and so the default in every child) makes them test what a
    # user's Ctrl-C does.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture(autouse=True)
def _fixed_seed():
    torch.manual_seed(0)


@pytest.fixture
def tiny_cell():
    """Factory of a seconds-cheap cell (hidden 8, length 6, 20 steps); keyword sections override."""

    def make(model=None, task=None, train=None, probe=None, seed=0, experiment="tiny", variant="base"):
        return CellSpec(
            experiment=experiment, variant=variant, seed=seed,
            model=ModelSpec(**{"hidden": 8, **(model or {})}),
            task=TaskSpec(**{"length": 6, "classes": 4, **(task or {})}),
            train=TrainSpec(**{"steps": 20, "batch": 16, "eval_every": 10, "log_every": 5,
                               "eval_size": 64, **(train or {})}),
            probe=ProbeSpec(**{"batch": 4, "jacobian_samples": 2, **(probe or {})}))

    return make


@pytest.fixture(scope="session")
def synthetic_drawn():
    """The synthetic world evaluated once with every figure drawn (about 15 s): the matplotlib Figures
    saved, their SVGs and the evaluation, shared read-only by test_print, test_figures and test_phone."""
    from vgreport.findings import evaluate
    from vgreport.findings import synthetic as syn

    import helpers
    with helpers.figures_drawn() as figures:
        evaluation = evaluate(syn.world(), None, with_figures=True)
    svgs = [figure.svg for result in evaluation.results for figure in result.figures]
    return figures, svgs, evaluation
