"""C2's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("With twice the hidden size, PyTorch's default init draws W_hh from a narrower range."
                  " Will the gradient shrink faster or slower per step?"),
        experiment="init", sets=("model.hidden=128",), field="model.hidden",
        compare="decay_rate_init of the PyTorch-default RNN against its rate in this build"),
    Exercise(
        question="Sigmoid with W_hh = 8·Q: γ·g = 2. Does its gradient grow?",
        experiment="gain_sweep_sigmoid", sets=("model.gain=8",), field="model.gain",
        compare="the sign of decay_rate_init (above 0: the gradient grows)"),
)
