"""C3's questions at the end of its section ("Predict, then check"): each the question, the
experiment that `vgreport run` runs to test it with its --set overrides, the spec field the question
is about and what to compare in the output (base.Exercise). The instructor's answers are in
prose.html.j2, which holds the build's numbers."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(
        question="At length 40, will the token 20 steps back be learned?",
        experiment="recall_lag", sets=("task.length=40", "task.lag=20"), field="task.lag",
        compare="final_accuracy against chance"),
    Exercise(
        question=("An LSTM with chrono initialisation in place of the tanh RNN: will it recall the far "
                  "token?"),
        experiment="recall_lag", sets=("model.arch=lstm", "model.init=chrono"), field="model.arch",
        compare="final_accuracy at the longest lag against chance and the tanh RNN's in the report"),
)
