"""C7's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2: what to expect, from theory, with the spread two seeds give."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question=("Within the quick profile's steps, does the orthogonal start still recall the first token "
                  "at length 50 at least as accurately as PyTorch's default?"),
        experiment="init", compare="final_accuracy of orthogonal against default, in the same output",
        arms=("variant=orthogonal", "variant=default"), expect=">="),
    Exercise(
        question="At length 20 instead of 50, does the orthogonal start still do at least as well as the default?",
        experiment="init", sets=("task.length=20",), field="task.length",
        compare="final_accuracy of orthogonal against default, in the same output",
        arms=("variant=orthogonal", "variant=default"), expect=">="),
)
