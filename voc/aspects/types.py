"""What a span tagger returns: character spans of aspect and opinion terms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

KINDS = ("aspect", "opinion")


@dataclass(frozen=True, slots=True)
class TaggedSpan:
    start: int
    end: int
    kind: str  # "aspect" | "opinion"
    polarity: str = ""  # "negative" | "neutral" | "positive"; "" where the tagger does not say
    confidence: float = 1.0


@runtime_checkable
class SpanTagger(Protocol):
    """Marks aspect and opinion terms in texts; one list of spans per text, in text order."""

    name: str

    def tag(self, texts: Sequence[str]) -> list[list[TaggedSpan]]: ...


def spans_from_bio(tags: Sequence[str], offsets: Sequence[tuple[int, int]], kind: str,
                   scores: Sequence[float] | None = None) -> list[TaggedSpan]:
    """Spans from B/I/O tags over units with character offsets; an I without a B opens a span.

    Confidence is the mean tag probability over the span's units where scores are given.
    """
    spans: list[TaggedSpan] = []
    start = -1
    first = 0
    for index, tag in enumerate(tags):
        if tag == "B" or (tag == "I" and start < 0):
            if start >= 0:
                spans.append(_span(start, offsets[index - 1][1], kind, scores, first, index))
            start, first = offsets[index][0], index
        elif tag == "O" and start >= 0:
            spans.append(_span(start, offsets[index - 1][1], kind, scores, first, index))
            start = -1
    if start >= 0:
        spans.append(_span(start, offsets[len(tags) - 1][1], kind, scores, first, len(tags)))
    return spans


def _span(start: int, end: int, kind: str, scores: Sequence[float] | None, first: int, stop: int) -> TaggedSpan:
    confidence = 1.0 if scores is None else float(sum(scores[first:stop]) / max(1, stop - first))
    return TaggedSpan(start, end, kind, "", round(confidence, 4))
