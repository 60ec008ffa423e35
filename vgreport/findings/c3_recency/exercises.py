"""C3's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("Within the quick profile's steps, is the token 30 steps back recalled less accurately than the "
                  "token 2 steps back, at the same length 40?"),
        experiment="recall_lag", compare="final_accuracy of lag_30 against lag_2, in the same output",
        arms=("variant=lag_30", "variant=lag_2"), expect="<="),
    Exercise(
        question=("With the chrono LSTM in place of the tanh RNN, is the token 30 steps back still recalled "
                  "less accurately than the token 2 steps back?"),
        experiment="recall_lag", sets=("model.arch=lstm", "model.init=chrono"), field="model.arch",
        compare="final_accuracy of lag_30 against lag_2, and the gap against the first question's output",
        arms=("variant=lag_30", "variant=lag_2"), expect="<="),
)
