"""C4's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("Recall at length 40 alone: how many seeds learn, against the report's short and long"
                  " lengths?"),
        experiment="recall_length", sets=("task.length=40",), field="task.length",
        compare="final_accuracy at length 40 against the lengths in the report"),
    Exercise(
        question=("The adding problem at length 20, between the report's short and long lengths: how "
                  "many seeds learn?"),
        experiment="adding_length", sets=("task.length=20",), field="task.length",
        compare="final MSE at length 20 against the baseline 1/6 and the adding lengths in the report"),
)
