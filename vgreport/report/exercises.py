"""The exercises at the end of each finding, as data: the question, the command that tests it, the
spec field the command changes and what to compare in its output.

A test resolves every command at the profile it prints (the override must change `field` in the
cells the command runs, so the command tests its question), runs each at the smoke profile, and
checks that every `vgreport run` a rendered report prints is one of these. The templates print
them with `exercises(f.id)`; the instructor's answers stay in the templates, which hold the
build's numbers.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass

__all__ = ["Exercise", "EXERCISES", "around", "extend", "for_finding", "interpolate", "trend"]


@dataclass(frozen=True)
class Exercise:
    finding: str                 # the finding whose section asks it
    question: str                # as printed (ASCII notation is typeset by the prose filter)
    experiment: str              # what `vgreport run` runs
    sets: tuple[str, ...] = ()   # its --set overrides
    field: str | None = None     # the spec field the question is about (None: rerun as built, compare variants)
    compare: str = ""            # what to read in the output, against what
    profile: str = "quick"       # the profile printed: one whose caps keep the change (quick cuts lengths to 50)

    @property
    def argv(self) -> list[str]:
        """The command's arguments after `vgreport`."""
        out = ["run", self.experiment, "--profile", self.profile]
        for assignment in self.sets:
            out += ["--set", assignment]
        return out

    @property
    def command(self) -> str:
        return "vgreport " + shlex.join(self.argv)


EXERCISES: tuple[Exercise, ...] = (
    Exercise("C2", "With twice the hidden size, PyTorch's default init draws W_hh from a narrower range. Will the "
             "gradient shrink faster or slower per step?", "init", ("model.hidden=128",), "model.hidden",
             "decay_rate_init of the PyTorch-default RNN against its rate in this build"),
    Exercise("C2", "Sigmoid with W_hh = 8·Q: γ·g = 2. Does its gradient grow?", "gain_sweep_sigmoid",
             ("model.gain=8",), "model.gain", "the sign of decay_rate_init (above 0: the gradient grows)"),
    Exercise("C3", "At length 40, will the token 20 steps back be learned?", "recall_lag",
             ("task.length=40", "task.lag=20"), "task.lag", "final_accuracy against chance"),
    Exercise("C3", "An LSTM with chrono initialisation in place of the tanh RNN: will it recall the far token?",
             "recall_lag", ("model.arch=lstm", "model.init=chrono"), "model.arch",
             "final_accuracy at the longest lag against chance and the tanh RNN's in the report"),
    Exercise("C4", "Recall at length 40 alone: how many seeds learn, against the report's short and long lengths?", "recall_length",
             ("task.length=40",), "task.length", "final_accuracy at length 40 against the lengths in the report"),
    Exercise("C4", "The adding problem at length 20, between the report's short and long lengths: how many seeds learn?",
             "adding_length", ("task.length=20",), "task.length",
             "final MSE at length 20 against the baseline 1/6 and the adding lengths in the report"),
    Exercise("C5", "At length 25, how many of the seeds will learn within eight times the budget?", "budget",
             ("task.length=25",), "task.length", "final_accuracy per seed against chance"),
    Exercise("C5", "A larger learning rate takes bigger steps on the same weak signal. Will more seeds escape?",
             "budget", ("train.lr=0.01",), "train.lr", "final_accuracy against this build's"),
    Exercise("C6", "PyTorch's default LSTM starts its forget gate at σ(0) = 0.5: over 40 steps 0.5^40 ≈ 10^−12 of the "
             "cell state survives. With twice the training steps, will it learn length 40?", "architecture",
             ("train.steps=2000",), "train.steps", "final_accuracy of the default LSTM at length 40 against this build's"),
    Exercise("C6", "Will the GRU learn the cue 40 steps back with a smaller learning rate?", "architecture",
             ("train.lr=0.001",), "train.lr", "final_accuracy of the GRU against this build's"),
    Exercise("C7", "Will the orthogonal start still help at length 100?", "init", ("task.length=100",), "task.length",
             "final_accuracy of the orthogonal init against PyTorch's default", profile="standard"),
    Exercise("C7", "An IRNN with a smaller identity gain, W_hh = 0.9·I: better or worse?", "init",
             ("model.gain=0.9",), "model.gain", "final_accuracy of the IRNN against this build's"),
    Exercise("C8", "A narrower ReLU RNN (width 16): does its gradient decay faster or slower per step?",
             "activation", ("model.hidden=16",), "model.hidden", "decay_rate_init of ReLU against this build's"),
    Exercise("C8", "Which activation's gradient decays faster at length 100 than at the report's length?",
             "activation", ("task.length=100",), "task.length", "decay_rate_init per activation against the report's",
             profile="standard"),
    Exercise("C9", "Raise the threshold tenfold. Will the exploding runs still survive?", "clip_exploding",
             ("train.clip=10",), "train.clip", "diverged (the share of runs that blew up)"),
    Exercise("C9", "In the exploding regime, raise the gain to 1.5: the gradient grows by 1.5 per step back. Will "
             "clipping at norm 1 still keep the runs alive?", "clip_exploding", ("model.gain=1.5",), "model.gain",
             "diverged (the share of runs that blew up), clipped against unclipped"),
    Exercise("C10", "Raise the length to 100. Will the transformer's gradient still be flat?", "architecture",
             ("task.length=100",), "task.length", "decay_rate_init of the transformer (0: flat)", profile="standard"),
    Exercise("C10", "With one attention head instead of two, does the transformer still recall the cue?",
             "architecture", ("model.heads=1",), "model.heads", "final_accuracy of the transformer against this build's"),
    Exercise("G1", "Will forget-bias 1 learn at length 25?", "architecture", ("task.length=25",), "task.length",
             "final_accuracy of the forget-bias-1 LSTM at length 25"),
    Exercise("G1", "Chrono initialisation sets the forget biases from T_max, the sequence length. At length 100, does "
             "the chrono LSTM still learn where PyTorch's default LSTM does not?", "architecture", ("task.length=100",),
             "task.length", "final_accuracy of the chrono LSTM against the default LSTM's", profile="standard"),
    Exercise("G2", "Without clipping, will the large gain still train?", "gain_train", ("train.clip=null",),
             "train.clip", "diverged and final_accuracy at the large gain"),
    Exercise("G2", "At g = 0.9 the gradient loses only a little per step (×0.9 at most), but the losses multiply over "
             "the sequence. Will as many seeds learn as at g = 1?", "gain_train",
             ("model.gain=0.9",), "model.gain", "final_accuracy at g = 0.9 against g = 1"),
)


def for_finding(finding_id: str) -> list[Exercise]:
    return [e for e in EXERCISES if e.finding == finding_id]


def trend(points) -> dict | None:
    """The measured direction of a series for an instructor's answer: points (x, y) sorted by x,
    from the first to the last. 'rose', 'fell' or 'stayed' (equal means); None with fewer than two
    points. An answer that predicts a direction states this one, so it follows the build's data."""
    pts = sorted((float(x), float(y)) for x, y in points if y == y)
    if len(pts) < 2:
        return None
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    word = "rose" if y1 > y0 else "fell" if y1 < y0 else "stayed"
    return {"first_x": x0, "first": y0, "last_x": x1, "last": y1, "word": word}


def around(points, x: float) -> list[tuple[float, float]]:
    """The measured points (x, y) nearest to x on either side (one where x lies outside them; the
    point itself where it was measured): what an answer interpolates between, so it can be wrong."""
    pts = sorted((float(a), float(b)) for a, b in points if b == b)
    same = [p for p in pts if p[0] == x]
    if same:
        return same
    below = [p for p in pts if p[0] < x][-1:]
    above = [p for p in pts if p[0] > x][:1]
    return below + above


def extend(points, x: float) -> dict | None:
    """The straight line through a series' first and last points (x, y), read at x: an answer's
    prediction beyond the measured range, with its sign in words ('above 0', 'below 0', 'at 0')."""
    t = trend(points)
    if t is None or t["last_x"] == t["first_x"]:
        return None
    value = t["last"] + (t["last"] - t["first"]) / (t["last_x"] - t["first_x"]) * (x - t["last_x"])
    return {"x": float(x), "value": value, "sign": "above 0" if value > 0 else "below 0" if value < 0 else "at 0"}


def interpolate(points, x: float) -> float | None:
    """The straight line between the measured neighbours of x (around), read at x; the nearest value
    where x lies outside the points; None without points."""
    near = around(points, x)
    if not near:
        return None
    if len(near) == 1:
        return near[0][1]
    (x0, y0), (x1, y1) = near
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
