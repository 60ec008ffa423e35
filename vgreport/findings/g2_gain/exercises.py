"""G2's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("Within the quick profile's steps, does g = 4, where the gradient grows, train better than "
                  "g = 1?"),
        experiment="gain_train",
        compare="final_accuracy at g = 1 against g = 4, in the same output",
        arms=("gain=1.0", "gain=4.0"), expect=">=", answer="No"),
    Exercise(
        question=("At length 20 instead of 40, within the same steps: does the smallest gain (0.5) still train "
                  "no better than g = 1?"),
        experiment="gain_train", sets=("task.length=20",), field="task.length",
        compare="final_accuracy at g = 0.5 against g = 1, in the same output",
        arms=("gain=0.5", "gain=1.0"), expect="<="),
)
