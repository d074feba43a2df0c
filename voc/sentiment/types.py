"""Result types of sentiment analysis (re-exported by ``voc.sentiment``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(slots=True)
class ClauseSentiment:
    text: str
    start: int
    end: int
    label: str
    score: float


@dataclass(slots=True)
class AspectSentiment:
    aspect: str  # the category ("物流配送", "价格"); "" for a term no category claims yet
    polarity: str
    opinion: str
    start: int  # the opinion span (the clause where the opinion is implicit)
    end: int
    score: float
    term: str = ""  # the aspect term as written; "" when the aspect is implicit (太贵了 → 价格)
    term_start: int = -1
    term_end: int = -1
    confidence: float = 1.0  # the tagger's span probability; 1.0 for lexicon terms


@dataclass(slots=True)
class SentimentResult:
    label: str  # "negative" | "neutral" | "positive"
    score: float  # p(positive) - p(negative), in [-1, 1]
    probabilities: dict[str, float]  # the three classes, summing to 1
    clauses: list[ClauseSentiment] = field(default_factory=list)
    aspects: list[AspectSentiment] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Same dict as ``dataclasses.asdict`` (tested), written out: asdict deep-copies every
        field recursively, which cost about as much as the model itself for one short text."""
        return {
            "label": self.label,
            "score": self.score,
            "probabilities": dict(self.probabilities),
            "clauses": [
                {"text": c.text, "start": c.start, "end": c.end, "label": c.label, "score": c.score}
                for c in self.clauses
            ],
            "aspects": [
                {
                    "aspect": a.aspect,
                    "polarity": a.polarity,
                    "opinion": a.opinion,
                    "start": a.start,
                    "end": a.end,
                    "score": a.score,
                    "term": a.term,
                    "term_start": a.term_start,
                    "term_end": a.term_end,
                    "confidence": a.confidence,
                }
                for a in self.aspects
            ],
        }


@runtime_checkable
class SentimentAnalyzer(Protocol):
    def analyze(self, texts: Sequence[str]) -> list[SentimentResult]: ...
