"""G1's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("At length 25, does the LSTM with forget bias 1 recall the first token at least as often as "
                  "PyTorch's default LSTM, within the same steps?"),
        experiment="architecture", sets=("task.length=25",), field="task.length",
        compare="final_accuracy of lstm_forget_bias_1 against lstm_default, in the same output",
        arms=("variant=lstm_forget_bias_1", "variant=lstm_default"), expect=">="),
    Exercise(
        question=("Chrono initialisation sets the forget biases from T_max, the sequence length. At length 50, "
                  "does the chrono LSTM recall at least as often as PyTorch's default LSTM?"),
        experiment="architecture", sets=("task.length=50",), field="task.length",
        compare="final_accuracy of lstm_chrono against lstm_default, in the same output",
        arms=("variant=lstm_chrono", "variant=lstm_default"), expect=">="),
)
