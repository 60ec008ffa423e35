"""C10's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("Before any training, at length 50: does the transformer's gradient shrink faster per step than the "
                  "tanh RNN's?"),
        experiment="architecture", sets=("task.length=50", "train.steps=0"), field="task.length",
        compare="decay_rate_init of the transformer (0: flat) against the tanh RNN's, in the same output",
        arms=("variant=transformer", "variant=rnn_tanh"), metric="decay_rate_init", expect=">=", answer="No"),
    Exercise(
        question=("With one attention head instead of two, does the transformer still recall the cue at length 40 "
                  "at least as accurately as the tanh RNN, within the same steps?"),
        experiment="architecture", sets=("model.heads=1",), field="model.heads",
        compare="final_accuracy of the transformer against the tanh RNN at length 40, in the same output",
        arms=("variant=transformer,length=40", "variant=rnn_tanh,length=40"), expect=">="),
)
