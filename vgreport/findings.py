"""Stage 8: findings. Each claim's criterion is code; verdicts come from this build's records."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERDICTS = ("supported", "partly supported", "not supported", "inconclusive")


@dataclass(frozen=True)
class Figure:
    key: str          # unique within its finding, e.g. "decay"
    svg: str          # inline SVG markup (deterministic)
    caption: str      # one or two sentences, may quote numbers (formatted from records)
    alt: str          # alt text written from the data: what it shows and the key numbers


@dataclass
class Finding:
    id: str                       # "C1".."C10", then extra ids such as "G1" (gate initialisation)
    title: str
    claim: str
    verdict: str                  # one of VERDICTS
    criterion: str                # the rule, in words, thresholds included
    numbers: dict[str, Any] = field(default_factory=dict)   # everything the prose quotes
    seeds: list[int] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "claim": self.claim, "verdict": self.verdict,
                "criterion": self.criterion, "numbers": self.numbers, "seeds": self.seeds,
                "experiments": self.experiments,
                "figures": [{"key": f.key, "caption": f.caption, "alt": f.alt} for f in self.figures]}
