"""One search interface for every backend (embedded SQLite FTS5, Elasticsearch).

Like Argilla's search engines: the document store is the source of truth, an index is derived from
it and rebuildable, shared logic lives here and backends stay thin.
"""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

FACET_FIELDS: tuple[str, ...] = (
    "source", "channel", "industry", "product", "store", "sentiment", "topic", "tags",
)
SortOrder = Literal["relevance", "newest", "oldest", "most_negative", "most_positive"]
SORT_ORDERS: tuple[str, ...] = ("relevance", "newest", "oldest", "most_negative", "most_positive")


@dataclass(slots=True)
class IndexRecord:
    """What an index holds for one document: flat fields plus pre-tokenised search terms."""

    id: str
    text: str
    terms: list[str]
    source: str
    created_at: datetime | None = None
    channel: str | None = None
    industry: str | None = None
    product: str | None = None
    store: str | None = None
    sentiment: str | None = None
    sentiment_score: float | None = None
    topic_id: int | None = None
    topic_label: str | None = None
    tags: list[str] = field(default_factory=list)
    near_duplicate_of: str | None = None


@dataclass(slots=True)
class Filters:
    """Exact-match filters; a list means any of its values. Dates bound created_at (inclusive)."""

    source: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    industry: list[str] = field(default_factory=list)
    product: list[str] = field(default_factory=list)
    store: list[str] = field(default_factory=list)
    sentiment: list[str] = field(default_factory=list)
    topic: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # every tag listed must be present
    ids: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    exclude_near_duplicates: bool = False


@dataclass(slots=True)
class SearchQuery:
    """``terms`` are the query's jieba tokens (all must match); empty means match everything."""

    terms: list[str] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    facets: Sequence[str] = FACET_FIELDS
    facet_size: int = 20
    sort: SortOrder = "relevance"
    limit: int = 20
    offset: int = 0
    cursor: str | None = None
    highlight: bool = True


@dataclass(slots=True)
class SearchHit:
    id: str
    text: str
    source: str
    score: float
    created_at: datetime | None
    channel: str | None
    industry: str | None
    product: str | None
    store: str | None
    sentiment: str | None
    sentiment_score: float | None
    topic_id: int | None
    topic_label: str | None
    tags: list[str]
    near_duplicate_of: str | None
    highlight: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": self.text, "source": self.source, "score": round(self.score, 4),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "channel": self.channel, "industry": self.industry, "product": self.product,
            "store": self.store, "sentiment": self.sentiment, "sentiment_score": self.sentiment_score,
            "topic_id": self.topic_id, "topic_label": self.topic_label, "tags": self.tags,
            "near_duplicate_of": self.near_duplicate_of, "highlight": self.highlight,
        }


@dataclass(slots=True)
class SearchResult:
    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    next_cursor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": self.facets,
            "next_cursor": self.next_cursor,
        }


@dataclass(slots=True)
class BulkReport:
    indexed: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # document id -> reason


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(values, list):
        raise ValueError("invalid cursor")
    return values


def highlight(text: str, terms: Sequence[str], *, width: int = 160, pre: str = "<em>",
              post: str = "</em>") -> str | None:
    """A snippet of ``text`` around the first match with every query-term occurrence marked.

    Done on the stored text rather than inside each engine, so every backend highlights alike.
    """
    needles = sorted({term for term in terms if term}, key=len, reverse=True)
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for needle in needles:
        start = lowered.find(needle.lower())
        while start != -1:
            end = start + len(needle)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = lowered.find(needle.lower(), end)
    if not spans:
        return None
    spans.sort()
    first = spans[0][0]
    window_start = max(0, min(first - width // 4, len(text) - width))
    window_end = min(len(text), window_start + width)
    pieces: list[str] = ["…" if window_start > 0 else ""]
    cursor = window_start
    for start, end in spans:
        if start < window_start or end > window_end:
            continue
        pieces += [text[cursor:start], pre, text[start:end], post]
        cursor = end
    pieces.append(text[cursor:window_end])
    pieces.append("…" if window_end < len(text) else "")
    return "".join(pieces)


class SearchBackend(ABC):
    """The contract every search backend implements."""

    name: str = "abstract"

    @abstractmethod
    def index(self, records: Sequence[IndexRecord]) -> BulkReport:
        """Insert or replace records by id."""

    @abstractmethod
    def get(self, doc_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> int: ...

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abstractmethod
    def count(self, query: SearchQuery | None = None) -> int: ...

    @abstractmethod
    def date_histogram(self, query: SearchQuery, interval: Literal["day", "week", "month"] = "day"
                       ) -> list[tuple[str, int]]:
        """Bucket start (ISO date) and document count, in time order."""

    @abstractmethod
    def set_tags(self, tag: str, ids: Sequence[str], present: bool) -> int:
        """Add (present=True) or remove a tag on the given documents; returns how many changed."""

    @abstractmethod
    def clear(self) -> None:
        """Drop every record (before a rebuild from the store)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def iter_ids(self, query: SearchQuery, page_size: int = 1000) -> Iterator[str]:
        """Every id matching a query, page by page with cursors (deep pagination)."""
        page = replace(query, limit=page_size, offset=0, cursor=None, facets=(), highlight=False,
                       sort="newest")
        while True:
            result = self.search(page)
            yield from (hit.id for hit in result.hits)
            if not result.next_cursor or not result.hits:
                return
            page = replace(page, cursor=result.next_cursor)

    def ids_for(self, query: SearchQuery) -> list[str]:
        return list(self.iter_ids(query))

    def reindex(self, batches: Iterable[Sequence[IndexRecord]]) -> BulkReport:
        """Replace the whole index with ``batches``; backends that can keep answering meanwhile
        (Elasticsearch: a new version behind the alias) override this."""
        self.clear()
        return self.index_all(batches)

    def index_all(self, batches: Iterable[Sequence[IndexRecord]]) -> BulkReport:
        report = BulkReport()
        for batch in batches:
            part = self.index(batch)
            report.indexed += part.indexed
            report.errors.update(part.errors)
        return report
