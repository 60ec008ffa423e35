"""C8's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("A narrower RNN (width 16), before training: does tanh's gradient now shrink faster per "
                  "step than the sigmoid's?"),
        experiment="activation", sets=("model.hidden=16", "train.steps=0"), field="model.hidden",
        compare="decay_rate_init of sigmoid against tanh (more negative: faster), in the same output",
        arms=("variant=sigmoid,length=50", "variant=tanh,length=50"), metric="decay_rate_init", expect="<=",
        answer="No"),
    Exercise(
        question=("Before training, at length 50: does the identity activation keep its gradient better per "
                  "step than tanh?"),
        experiment="activation", sets=("train.steps=0",), field="train.steps",
        compare="decay_rate_init of identity against tanh at length 50, in the same output",
        arms=("variant=identity,length=50", "variant=tanh,length=50"), metric="decay_rate_init", expect=">="),
)
