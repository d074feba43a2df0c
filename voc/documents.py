"""The document model that flows through every stage: documents in, documents out."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

SourceKind = Literal["survey", "hotline", "review"]
SOURCE_KINDS: tuple[str, ...] = ("survey", "hotline", "review")
SpeakerRole = Literal["customer", "agent", "system", "other"]
SentimentLabel = Literal["negative", "neutral", "positive"]


@dataclass(slots=True)
class Turn:
    """One utterance of a hotline call."""

    role: str
    text: str


@dataclass(slots=True, frozen=True)
class PiiSpan:
    """Where PII was found. The value itself is never kept.

    ``start``/``end`` index the text that was masked; ``masked_start``/``masked_end`` index the
    placeholder in the masked output.
    """

    type: str
    start: int
    end: int
    masked_start: int
    masked_end: int


@dataclass(slots=True)
class Document:
    """A unit of customer feedback after normalisation.

    ``text`` is what analysis uses: normalised, Simplified, PII-masked (for hotline calls, the
    customer's turns only). ``text_original`` is the text as received, PII-masked too.
    """

    id: str
    source: str
    text: str
    text_original: str
    external_id: str | None = None
    created_at: datetime | None = None
    channel: str | None = None
    industry: str | None = None
    product: str | None = None
    store: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    turns: list[Turn] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    search_terms: list[str] = field(default_factory=list)  # tokens plus in-dictionary sub-words: what the index matches
    pii: list[PiiSpan] = field(default_factory=list)
    minhash: bytes | None = None  # MinHash signature of the text, for near-duplicate detection
    near_duplicate_of: str | None = None
    sentiment_label: str | None = None
    sentiment_score: float | None = None
    analysis: dict[str, Any] = field(default_factory=dict)
    topic_id: int | None = None
    topic_label: str | None = None
    tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat() if self.created_at else None
        return data


def document_id(source: str, external_id: str | None, normalised_text: str) -> str:
    """Stable id: from (source, external id) when there is one, else from the content.

    Both are the raw values, before PII masking (masked values collapse distinct documents into one);
    the id is a hash, so the raw value is not stored in clear.
    """
    key = f"{source}\x1fext\x1f{external_id}" if external_id else f"{source}\x1ftext\x1f{normalised_text}"
    return hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest()
