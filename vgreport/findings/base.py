"""What every finding and check shares: the context over one build's records, parts, outcomes.

A *check* is an identity that must hold if the measurement code is right (a theorem: it fails
only through a bug); its state is pass, fail or undetermined. A *finding* is an empirical claim
that the data could refute. Both are split into parts, each decided by a test with three outcomes
(see stats). A finding's parts are *core* (the claim itself) or *context* (detail around it); its
verdict comes from the core parts only (combine, and docs/findings.md). A finding's claim is also
split into *clauses* (Spec.clauses): each core part tests one clause, and the claim counts as
support only when every clause was tested and holds (verdict_of).
"""
from __future__ import annotations

import dataclasses
import math
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..configs import Config
from ..verdicts import CHECK_OUTCOMES, SUPPORT, VERDICTS
from .stats import LEVEL, look_level

__all__ = ["VERDICTS", "SUPPORT", "CHECK_STATES", "Figure", "Config", "Part", "Clause", "Outcome", "Spec", "Exercise",
           "Result", "Context", "Undecidable", "heading_of", "combine", "clause_states", "verdict_of", "check_state", "plain"]

CHECK_STATES = CHECK_OUTCOMES


@dataclass(frozen=True)
class Figure:
    key: str          # unique within its result, e.g. "decay"
    svg: str          # inline SVG markup (deterministic)
    caption: str      # one or two sentences, may quote numbers (formatted from records)
    alt: str          # alt text written from the data: what it shows and the key numbers
    narrow: str = ""  # the same figure in the narrow layout (report.html on a phone), "" if none


@dataclass
class Part:
    """One test of a result: what it asks, its state, and the configurations whose seeds decide it."""
    key: str
    question: str                 # the statement tested, in words
    state: bool | None            # True holds, False refuted, None undetermined
    reads: tuple[Config, ...] = ()
    training: bool = True         # decided by training outcomes (more seeds can help) or at initialisation
    detail: str = ""              # the numbers that decided it, in words
    core: bool = True             # the claim itself (decides the verdict) or context around it (shown only)
    clause: str = ""              # the clause of the claim a core part tests (a key of Spec.clauses)
    # the share of seeds (or the interval) that decided it: shown as k/n with its interval where the part is thin
    evidence: Any = None
    # fragile (the dagger): leaving one seed out *reverses* its state (holds <-> refuted); set by replicate.py
    fragile: bool = False
    thin: bool = False            # decided, but leaving one seed out leaves it undetermined (replicate.py)
    # the other states it took with one seed left out ("holds", "refuted", "undetermined")
    fragile_to: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"key": self.key, "question": self.question, "state": self.state, "core": self.core,
                "clause": self.clause, "fragile": self.fragile, "thin": self.thin,
                "fragile_to": list(self.fragile_to), "detail": self.detail,
                "evidence": plain(self.evidence, json=True),
                "reads": [c.to_json() for c in self.reads], "training": self.training}


@dataclass
class Clause:
    """One clause of a finding's claim and how this build tested it: `holds` (a core part holds, none is
    refuted), `refuted` (a core part is refuted) or `untested` (declared untested by the finding, with
    its reason, or no core part of it decided)."""
    key: str
    text: str
    state: str
    reason: str = ""

    def to_json(self) -> dict:
        return {"key": self.key, "text": self.text, "state": self.state, "reason": self.reason}


@dataclass
class Outcome:
    """What a result's `decide` returns."""
    parts: list[Part]
    numbers: Any                  # a dataclass of the numbers the prose quotes (or a dict)
    headline: str                 # what was measured, in one sentence (the section's title)
    reason: str = ""              # why the verdict is what it is, from the data
    experiments: list[str] = field(default_factory=list)
    data: Any = None              # tables the result's figures draw from (not in findings.json)
    # clauses this build cannot test at all, with the reason in words (e.g. both arms at chance at this budget)
    untested: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    """A result's declaration: its fixed texts and the experiments and variants it reads."""
    id: str
    kind: str                     # "finding" or "check"
    title: str                    # the textbook claim in a few words
    claim: str
    criterion: str
    needs: dict[str, tuple[str, ...]]   # experiment -> variants it reads (checked against the battery)
    # a finding's claim split into clauses (key -> the clause in words); each core part names one
    clauses: dict[str, str] = field(default_factory=dict)
    # what this build found, per clause and state: {clause: {"holds": ..., "refuted": ..., "untested": ...}},
    # each a phrase a student can repeat, in the past tense and without a number. The heading of a finding
    # whose clauses do not all hold joins them (heading_of), so no refuted claim stands as a bare heading.
    found: dict[str, dict[str, str]] = field(default_factory=dict)
    question: str = ""            # the claim as a question: the heading when nothing was decided


@dataclass(frozen=True)
class Exercise:
    """A question at the end of a finding's section (its folder's exercises.py): the command that tests
    it, the spec field the command changes and what to compare in its output. A test resolves every
    command at the profile it prints (the override must change `field` in the cells the command runs,
    so the command tests its question), runs each at the smoke profile, and checks that every `vgreport
    run` a rendered report prints is one of these."""
    question: str                # as printed (ASCII notation is typeset by the prose filter)
    experiment: str              # what `vgreport run` runs
    sets: tuple[str, ...] = ()   # its --set overrides
    field: str | None = None     # the spec field the question is about (None: rerun as built, compare variants)
    compare: str = ""            # what to read in the output, against what
    profile: str = "quick"       # the profile printed: one whose caps keep the change (quick cuts lengths to 50)
    finding: str = ""            # the finding whose section asks it (set from its folder by the registry)
    # The comparison, both arms in this command's own output (so at one budget): two selectors of rows of
    # `vgreport run`'s cell table ("variant=lag_30,length=40"), the column compared and the direction the
    # answer predicts for the first arm against the second ("<=" or ">="; "<" or ">" where a tie must not count
    # as a yes: C9's clipped runs, if every run diverges). A test checks that both arms run
    # at the same steps, batch and rate, and that `check` reads the direction from such an output.
    arms: tuple[str, str] = ()
    metric: str = "final_accuracy"
    expect: str = "<="
    # The answer's first word: "Yes" where the question asks for the direction `expect` predicts, "No" where it
    # asks for the opposite (so that a student cannot learn that every answer is yes).
    answer: str = "Yes"

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


@dataclass
class Result:
    """A decided finding or check, as the report and findings.json show it."""
    id: str
    kind: str
    title: str
    claim: str
    verdict: str                  # a VERDICT (finding) or a CHECK_STATE (check)
    criterion: str
    headline: str = ""
    reason: str = ""
    numbers: Any = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    fragile: bool = False         # a core part reverses when one seed is left out (replicate.py)
    clauses: list[Clause] = field(default_factory=list)
    heading: str = ""             # what this build found, in words (heading_of); the title is the claim tested

    def __post_init__(self):
        self.heading = self.heading or self.title

    @property
    def supports(self) -> bool:
        """Whether the verdict counts as support for the claim (SUPPORT)."""
        return self.verdict in SUPPORT

    @property
    def thin(self) -> list[Part]:
        """The core parts that one seed fewer would leave undetermined (decided, but only just)."""
        return [p for p in self.parts if p.core and p.thin]

    @property
    def untested(self) -> list[Clause]:
        return [c for c in self.clauses if c.state == "untested"]

    @property
    def figure_keys(self) -> list[str]:
        return [f.key for f in self.figures]

    @property
    def n(self):
        """The numbers, for templates: `f.n.length`."""
        return self.numbers

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.title, "claim": self.claim,
                "heading": self.heading or self.title, "verdict": self.verdict, "fragile": self.fragile, "thin": [p.key for p in self.thin],
                "headline": self.headline, "criterion": self.criterion,
                "reason": self.reason, "clauses": [c.to_json() for c in self.clauses],
                "parts": [p.to_json() for p in self.parts],
                "numbers": plain(self.numbers, json=True), "seeds": [int(s) for s in self.seeds],
                "experiments": list(self.experiments),
                "figures": [{"key": f.key, "caption": f.caption, "alt": f.alt} for f in self.figures]}


def heading_of(spec: Spec, verdict: str, clauses: list[Clause], parts: list | None = None) -> str:
    """The section heading: what this build found. A claim that held (every clause holds) keeps its title;
    otherwise the phrases of SPEC.found for each clause's state, joined; nothing decided gives the claim
    as a question with "undecided". Never the claim alone where the data refuted it or left it open.
    A refuted phrase may name what refuted it: {refuted} is the models of its refuted core parts (each
    part's question before its colon, without a parenthesis: "LSTM and GRU"), {them} "it" or "them", {held} those
    of its core parts that held ("length 30"; where none did, the phrase gives way to "not found: <clause>")."""
    if spec.kind != "finding" or verdict in SUPPORT:
        return spec.title
    decided = [c for c in clauses if c.state != "untested"]
    if not decided or verdict == "inconclusive":
        question = spec.question or spec.title + "?"
        return f"{question} Undecided in this build"
    phrases = []
    # what was found first, what was not tested last: a heading does not open on a non-result
    for c in sorted(clauses, key=lambda c: c.state == "untested"):
        phrase = spec.found.get(c.key, {}).get(c.state)
        if not phrase:
            phrase = {"holds": f"{c.text} held", "refuted": f"not found: {c.text}",
                      "untested": f"not tested: {c.text}"}[c.state]
        if "{" in phrase:
            def named(state):
                return list(dict.fromkeys(p.question.split(":", 1)[0].split(" (")[0] for p in parts or []
                                          if p.core and p.clause == c.key and p.state is state))
            refuted, held = named(False), named(True)
            if "{held}" in phrase and not held:  # a phrase about what held reads wrong when nothing did
                phrase = f"not found: {c.text}"
            else:
                phrase = phrase.format(refuted=" and ".join(refuted) or "one of them",
                                       them="them" if len(refuted) > 1 else "it", held=" and ".join(held))
        phrases.append(phrase)
    text = "; ".join(phrases)
    return text[:1].upper() + text[1:]


class Undecidable(Exception):
    """This build's data cannot decide a result (an experiment missing, too few seeds, nothing
    recorded); it is then reported as inconclusive (or undetermined) with this reason."""

    def __init__(self, reason: str, experiments: list[str] | None = None):
        super().__init__(reason)
        self.reason, self.experiments = reason, list(experiments or [])


def combine(states: list[bool | None], untested: bool = False) -> str:
    """The verdict from the states of a finding's core parts (True holds, False refuted, None
    undetermined): every one holds -> supported; none refuted, some hold, some undetermined ->
    supported so far; some hold and some refuted -> partly refuted; some refuted, none holds ->
    refuted; none decided (or no core part) -> inconclusive. With `untested` (a clause of the claim
    was not tested) a verdict that would count as support is `partly tested` instead."""
    holds, refuted = any(s is True for s in states), any(s is False for s in states)
    if holds and refuted:
        return "partly refuted"
    if refuted:
        return "refuted"
    if not holds:
        return "inconclusive"
    if untested:
        return "partly tested"
    return "supported" if all(s is True for s in states) else "supported so far"


def clause_states(clauses: dict[str, str], parts: list[Part], untested: dict[str, str] | None = None) -> list[Clause]:
    """Each clause's state from its core parts: refuted when one is refuted; untested when the finding
    declared it untested (with its reason) or none of its core parts is decided; else holds."""
    untested = untested or {}
    out = []
    for key, text in clauses.items():
        states = [p.state for p in parts if p.core and p.clause == key]
        if any(s is False for s in states):
            out.append(Clause(key, text, "refuted"))
        elif key in untested:
            out.append(Clause(key, text, "untested", untested[key]))
        elif any(s is True for s in states):
            out.append(Clause(key, text, "holds"))
        else:
            out.append(Clause(key, text, "untested", "no core part of it is decided in this build" if states else
                              "no core part tests it in this build"))
    return out


def verdict_of(parts: list[Part], clauses: list[Clause] | None = None) -> str:
    """A finding's verdict: combine over its core parts (context parts never change it); support only
    when every clause of the claim was tested (else `partly tested`)."""
    return combine([p.state for p in parts if p.core], any(c.state == "untested" for c in clauses or []))


def check_state(states: list[bool | None]) -> str:
    """A check passes when every part holds, fails when any part fails, else it is undetermined."""
    if any(s is False for s in states):
        return "fail"
    return "pass" if states and all(s is True for s in states) else "undetermined"


def plain(value, json: bool = False):
    """Dataclasses -> dicts, numpy scalars -> Python numbers, tuples -> lists; with json also keys -> str
    and NaN/inf -> None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {(str(k) if json else k): plain(v, json) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v, json) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if json and not math.isfinite(value) else value
    return value


# Memo tables with one row per cell (a "seed" column) and nothing computed across cells: a context
# that leaves one seed out (replicate.py) takes them from the full build's context, filtered.
PER_CELL = ("outcomes", "cell_rates", "scalar")


class Context:
    """One build's records, split by experiment once, with the tables several results share."""

    def __init__(self, frame: pd.DataFrame, battery=None, with_figures: bool = True):
        self.full: Context | None = None      # set by leaving_out
        self.without_seed: int | None = None
        self.frame = frame
        self.battery = battery
        self.with_figures = with_figures
        self.experiments = {e.name: e for e in battery.experiments} if battery is not None else {}
        self.present = set(frame["experiment"].unique()) if len(frame) else set()
        self._parts = dict(tuple(frame.groupby("experiment", sort=False))) if len(frame) else {}
        self._seeds = {name: sorted(int(s) for s in rows["seed"].unique()) for name, rows in self._parts.items()}
        self._memo: dict[tuple, Any] = {}
        self._names: dict[tuple[str, str], str] = {}
        # Gradients at initialisation are measured once, at LEVEL. Training outcomes may be looked at
        # several times (seeds added in rounds): each look tests at Pocock's level (level_for).
        self.init_level = LEVEL

    def leaving_out(self, seed: int) -> "Context":
        """The same build without one seed's records (no figures); its per-cell tables (PER_CELL)
        are this context's, filtered, instead of fitted again."""
        other = Context(self.frame[self.frame["seed"] != seed], self.battery, with_figures=False)
        other.full, other.without_seed = self, seed
        return other

    def looks(self, name: str) -> tuple[int, ...]:
        """The seed counts at which the sequential design may look at this experiment's training
        outcomes (its seed rounds; one look when it has none, or without a battery)."""
        exp = self.experiments.get(name)
        rounds = tuple(exp.seed_rounds) if exp is not None else ()
        return rounds or (exp.seeds if exp is not None else 1,)

    def level_for(self, name: str) -> float:
        """The confidence level of training-outcome intervals of this experiment: Pocock's nominal level
        for its looks (stats.look_level; 95% with one look)."""
        return look_level(self.looks(name))

    def alpha_for(self, name: str) -> float:
        """The two-sided error rate one look at this experiment may spend."""
        return 1 - self.level_for(name)

    def part(self, name: str) -> pd.DataFrame:
        """The records of one experiment (empty when it is not in this build)."""
        return self._parts.get(name, self.frame.iloc[0:0])

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            whole = self.full._memo.get(key) if self.full is not None and key[0] in PER_CELL else None
            self._memo[key] = compute() if whole is None else whole[whole["seed"] != self.without_seed]
        return self._memo[key]

    def has(self, *names: str) -> bool:
        return all(n in self.present for n in names)

    def seeds(self, *names: str) -> list[int]:
        return sorted({s for name in names for s in self._seeds.get(name, [])})

    def require(self, names: list[str], min_seeds: int = 2) -> None:
        """Stop as undecidable when a named experiment is missing or ran fewer than min_seeds seeds."""
        missing = [n for n in names if not self.has(n)]
        if missing:
            raise Undecidable(f"experiment{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
                              "not in this build (a build with --only runs a subset)", names)
        few = [n for n in names if len(self.seeds(n)) < min_seeds]
        if few:
            raise Undecidable(f"{', '.join(repr(n) for n in few)} ran {len(self.seeds(few[0]))} seed"
                              f"{'s' if len(self.seeds(few[0])) != 1 else ''}; an interval across seeds needs at "
                              f"least {min_seeds}", names)

    def eval_size(self, name: str) -> int:
        from ..specs import TrainSpec
        exp = self.experiments.get(name)
        return exp.train.eval_size if exp else TrainSpec.model_fields["eval_size"].default

    def describe(self, name: str, variant: str) -> str:
        """The model with its initialisation named, from the battery or else from the records."""
        if (name, variant) not in self._names:
            self._names[(name, variant)] = self._describe(name, variant)
        return self._names[(name, variant)]

    def _describe(self, name: str, variant: str) -> str:
        from ..specs import ModelSpec
        exp = self.experiments.get(name)
        if exp is not None:
            cells = [c for c in exp.cells() if c.variant == variant]
            if cells:
                return cells[0].model.describe()
        rows = self.part(name)
        rows = rows[rows["variant"] == variant]
        if rows.empty:
            return variant
        row = rows.iloc[0]
        try:
            return ModelSpec(arch=row["arch"], activation=row["activation"] or "tanh", init=row["init"],
                             gain=row["gain"], hidden=int(row["hidden"]),
                             heads=2 if int(row["hidden"]) % 2 == 0 else 1).describe()
        except ValueError:
            return variant

    def figure(self, key: str, draw: Callable[[], str], caption: str, alt: str) -> list[Figure]:
        from ..figures.style import narrow
        return [Figure(key, draw(), caption, alt, narrow(draw))] if self.with_figures else []

    def slots(self, experiment: str, variants) -> dict[str, int]:
        """The style slot of each variant in one figure (figures.style: colour, dash pattern, marker):
        its model's (architectures.style_slot), so one model looks the same in every figure; a variant
        whose model's slot an earlier one of this figure took (two arms of one model) gets the next free."""
        from ..architectures import style_slot
        from ..figures.style import PALETTE
        rows = self.part(experiment)
        out: dict[str, int] = {}
        for variant in variants:
            found = rows[rows["variant"] == variant]
            slot = style_slot(*found[["arch", "activation", "init"]].iloc[0]) if len(found) else 0
            while slot in out.values() and len(out) < len(PALETTE):
                slot = (slot + 1) % len(PALETTE)
            out[variant] = slot
        return out


def num(x, digits: int = 3) -> str:
    """Python-side formatting for headlines, captions, alt text and reasons ('n/a' for missing)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)) or (float(x).is_integer() and abs(x) < 1e6):
        return str(int(x))
    return f"{x:.{digits}g}".replace("-", "−")


def of(share) -> str:
    """'3 of 10' from a Share."""
    return f"{share.k} of {share.n}"


def upper_first(text: str) -> str:
    """Capitalise the first letter only (str.capitalize would lower-case 'LSTM')."""
    return text[:1].upper() + text[1:]
