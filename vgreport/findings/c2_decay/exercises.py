"""C2's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("With twice the hidden size (128), PyTorch's default init draws W_hh from a narrower range. "
                  "Before training, does its gradient now shrink more slowly per step than the orthogonal start's?"),
        experiment="init", sets=("model.hidden=128", "train.steps=0"), field="model.hidden",
        compare="decay_rate_init of default against orthogonal (more negative: faster), in the same output",
        arms=("variant=default", "variant=orthogonal"), metric="decay_rate_init", expect="<=", answer="No"),
    Exercise(
        question=("Sigmoid's slope is at most 1/4, so with W_hh = g·Q each step back multiplies the gradient by "
                  "at most g/4. Does it shrink more slowly per step at g = 6 than at g = 2?"),
        experiment="gain_sweep_sigmoid",
        compare="decay_rate_init at g = 6 against g = 2 (nearer 0: slower), in the same output",
        arms=("gain=6.0", "gain=2.0"), metric="decay_rate_init", expect=">="),
)
