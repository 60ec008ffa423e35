"""C6's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("PyTorch's default LSTM starts its forget gate at σ(0) = 0.5: by the gate alone, 0.5^39 of "
                  "the cell state survives the 39 later steps. Within the same steps, does it recall length 40 less accurately "
                  "than length 10?"),
        experiment="architecture", compare="final_accuracy of lstm_default at length 40 against length 10",
        arms=("variant=lstm_default,length=40", "variant=lstm_default,length=10"), expect="<="),
    Exercise(
        question=("With a three times smaller learning rate (0.001) for every model, does the GRU still recall "
                  "length 10 at least as accurately as length 40?"),
        experiment="architecture", sets=("train.lr=0.001",), field="train.lr",
        compare="final_accuracy of the GRU at length 40 against length 10, in the same output",
        arms=("variant=gru,length=40", "variant=gru,length=10"), expect="<="),
)
