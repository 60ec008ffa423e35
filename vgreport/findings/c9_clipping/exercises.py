"""C9's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("In the exploding regime, raise the gain to 1.5: the gradient grows by up to 1.5 per step "
                  "back. Do the clipped runs still diverge less often than the unclipped ones?"),
        experiment="clip_exploding", sets=("model.gain=1.5",), field="model.gain",
        compare="diverged (the share of runs that blew up), clipped against unclipped, in the same output",
        arms=("variant=clipped", "variant=no_clip"), metric="diverged", expect="<"),
    Exercise(
        question=("In the exploding regime, with a learning rate five times smaller (0.01), do the clipped runs "
                  "still diverge less often than the unclipped ones?"),
        experiment="clip_exploding", sets=("train.lr=0.01",), field="train.lr",
        compare="diverged, clipped against unclipped, in the same output",
        arms=("variant=clipped", "variant=no_clip"), metric="diverged", expect="<"),
)
