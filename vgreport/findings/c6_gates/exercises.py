"""C6's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("PyTorch's default LSTM starts its forget gate at σ(0) = 0.5: over 40 steps 0.5^40 ≈ "
                  "10^−12 of the cell state survives. With twice the training steps, will it learn "
                  "length 40?"),
        experiment="architecture", sets=("train.steps=2000",), field="train.steps",
        compare="final_accuracy of the default LSTM at length 40 against this build's"),
    Exercise(
        question="Will the GRU learn the cue 40 steps back with a smaller learning rate?",
        experiment="architecture", sets=("train.lr=0.001",), field="train.lr",
        compare="final_accuracy of the GRU against this build's"),
)
