"""G1's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("Chrono initialisation sets the forget biases from T_max, the sequence length. With 1,000 steps, "
                  "at length 40: does the chrono LSTM recall the first token at least as accurately as PyTorch's "
                  "default LSTM?"),
        experiment="architecture", sets=("train.steps=1000",), field="train.steps",
        compare="final_accuracy of lstm_chrono against lstm_default at length 40, in the same output",
        arms=("variant=lstm_chrono,length=40", "variant=lstm_default,length=40"), expect=">="),
    Exercise(
        question=("Within the quick profile's steps, at length 10: does the LSTM with forget bias 1 recall the "
                  "first token at least as accurately as PyTorch's default LSTM?"),
        experiment="architecture",
        compare="final_accuracy of lstm_forget_bias_1 against lstm_default at length 10, in the same output",
        arms=("variant=lstm_forget_bias_1,length=10", "variant=lstm_default,length=10"), expect=">="),
)
