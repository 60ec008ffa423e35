"""C8's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question="A narrower ReLU RNN (width 16): does its gradient decay faster or slower per step?",
        experiment="activation", sets=("model.hidden=16",), field="model.hidden",
        compare="decay_rate_init of ReLU against this build's"),
    Exercise(
        question="Which activation's gradient decays faster at length 100 than at the report's length?",
        experiment="activation", sets=("task.length=100",), field="task.length",
        compare="decay_rate_init per activation against the report's",
        profile="standard"),
)
