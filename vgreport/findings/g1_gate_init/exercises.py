"""G1's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question="Will forget-bias 1 learn at length 25?",
        experiment="architecture", sets=("task.length=25",), field="task.length",
        compare="final_accuracy of the forget-bias-1 LSTM at length 25"),
    Exercise(
        question=("Chrono initialisation sets the forget biases from T_max, the sequence length. At "
                  "length 100, does the chrono LSTM still learn where PyTorch's default LSTM does not?"),
        experiment="architecture", sets=("task.length=100",), field="task.length",
        compare="final_accuracy of the chrono LSTM against the default LSTM's",
        profile="standard"),
)
