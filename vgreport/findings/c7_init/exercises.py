"""C7's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question="Will the orthogonal start still help at length 100?",
        experiment="init", sets=("task.length=100",), field="task.length",
        compare="final_accuracy of the orthogonal init against PyTorch's default",
        profile="standard"),
    Exercise(
        question="An IRNN with a smaller identity gain, W_hh = 0.9·I: better or worse?",
        experiment="init", sets=("model.gain=0.9",), field="model.gain",
        compare="final_accuracy of the IRNN against this build's"),
)
