"""C5's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("With eight times the quick profile's steps (2,400), does the plain RNN still fail at length 50 "
                  "while it learns length 25: is length 25 recalled at least as accurately?"),
        experiment="recall_length", sets=("train.steps=2400",), field="train.steps",
        compare="final_accuracy at length 25 against length 50, in the same output",
        arms=("length=25", "length=50"), expect=">="),
    Exercise(
        question=("A larger learning rate (0.01) takes bigger steps on the same weak signal. Within the same "
                  "steps, is length 50 still recalled less accurately than length 5?"),
        experiment="recall_length", sets=("train.lr=0.01",), field="train.lr",
        compare="final_accuracy at length 50 against length 5, in the same output",
        arms=("length=50", "length=5"), expect="<="),
)
