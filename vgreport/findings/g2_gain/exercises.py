"""G2's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("At the quick profile's smaller budget (every gain trained for the same steps, two seeds each), "
                  "does g = 1 still train better than the smallest and the largest gain?"),
        experiment="gain_train", sets=(), field=None,
        compare="final_accuracy per gain: g = 1 against the smallest and the largest"),
    Exercise(
        question="At length 20 instead of 40, does the smallest gain train as well as g = 1 within the same steps?",
        experiment="gain_train", sets=("task.length=20",), field="task.length",
        compare="final_accuracy at the smallest gain against g = 1, in the same output"),
)
