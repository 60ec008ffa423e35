"""G2's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question="Without clipping, will the large gain still train?",
        experiment="gain_train", sets=("train.clip=null",), field="train.clip",
        compare="diverged and final_accuracy at the large gain"),
    Exercise(
        question=("At g = 0.9 the gradient loses only a little per step (×0.9 at most), but the losses "
                  "multiply over the sequence. Will as many seeds learn as at g = 1?"),
        experiment="gain_train", sets=("model.gain=0.9",), field="model.gain",
        compare="final_accuracy at g = 0.9 against g = 1"),
)
