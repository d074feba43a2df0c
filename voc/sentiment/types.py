"""Result types of sentiment analysis (re-exported by ``voc.sentiment``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
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
    aspect: str
    polarity: str
    opinion: str
    start: int
    end: int
    score: float


@dataclass(slots=True)
class SentimentResult:
    label: str  # "negative" | "neutral" | "positive"
    score: float  # p(positive) - p(negative), in [-1, 1]
    probabilities: dict[str, float]  # the three classes, summing to 1
    clauses: list[ClauseSentiment] = field(default_factory=list)
    aspects: list[AspectSentiment] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class SentimentAnalyzer(Protocol):
    def analyze(self, texts: Sequence[str]) -> list[SentimentResult]: ...
