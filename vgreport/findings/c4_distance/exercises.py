"""C4's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("Within the same steps, is the first token recalled less accurately at "
                  "length 50 than at length 5?"),
        experiment="recall_length", compare="final_accuracy at length 50 against length 5, in the same output",
        arms=("length=50", "length=5"), expect="<="),
    Exercise(
        question=("In the adding problem, within the same steps: is the tanh RNN's error at length 50 at least "
                  "its error at length 10?"),
        experiment="adding_length",
        compare="final_mse of rnn_tanh at length 50 against length 10, and both against the baseline 1/6",
        arms=("variant=rnn_tanh,length=50", "variant=rnn_tanh,length=10"), metric="final_mse", expect=">="),
)
