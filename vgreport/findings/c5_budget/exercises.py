"""C5's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question="At length 25, how many of the seeds will learn within eight times the budget?",
        experiment="budget", sets=("task.length=25",), field="task.length",
        compare="final_accuracy per seed against chance"),
    Exercise(
        question=("A larger learning rate takes bigger steps on the same weak signal. Will more seeds "
                  "escape?"),
        experiment="budget", sets=("train.lr=0.01",), field="train.lr",
        compare="final_accuracy against this build's"),
)
