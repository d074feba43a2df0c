"""One search interface for every backend (embedded SQLite FTS5, Elasticsearch).

Like Argilla's search engines: the document store is the source of truth, an index is derived from
it and rebuildable, shared logic lives here and backends stay thin.
"""

from __future__ import annotations

import base64
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Literal

from indexing.highlight import highlight as highlight  # re-exported: callers import it from here

FACET_FIELDS: tuple[str, ...] = (
    "source", "channel", "industry", "product", "store", "sentiment", "topic", "tags", "rating", "nps",
)
# Net Promoter groups of the survey score (0-10): the "nps" facet and filter. A rating (stars, 1-5)
# is counted by whole star ("rating" facet: 4.5 counts as "4").
NPS_GROUPS: tuple[str, ...] = ("detractor", "passive", "promoter")
WORD_TIER = 1000.0  # added to the score of a hit matching the query's words: word matches rank first


def nps_group(score: float | None) -> str | None:
    """detractor 0-6, passive 7-8, promoter 9-10 (below 7 / below 9 for fractional scores)."""
    if score is None:
        return None
    return "detractor" if score < 7 else "passive" if score < 9 else "promoter"


def rating_star(rating: float | None) -> int | None:
    return None if rating is None else int(rating // 1)
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
    rating: float | None = None  # star rating of a review (1-5)
    survey_score: float | None = None  # score given in a survey (0-10, NPS)


@dataclass(slots=True)
class Filters:
    """Exact-match filters; a list means any of its values. Dates bound created_at, the min/max
    fields bound the rating and the survey score (inclusive; a document without one never matches)."""

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
    rating_min: float | None = None
    rating_max: float | None = None
    score_min: float | None = None
    score_max: float | None = None
    nps: list[str] = field(default_factory=list)  # NPS_GROUPS of the survey score

    def active(self) -> bool:
        """Whether any filter is set (0 is a bound, not "unset")."""
        return any(value is not None and value != [] and value is not False
                   for value in (getattr(self, name.name) for name in fields(self)))


@dataclass(slots=True)
class SearchQuery:
    """``terms`` are the query's jieba tokens; each must match, as a word or as a string of characters
    (see indexing/grams.py). ``text`` is the query as typed, normalised: when given, a document
    holding it as a string matches too. Empty terms mean match everything."""

    terms: list[str] = field(default_factory=list)
    text: str = ""
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
    rating: float | None = None
    survey_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": self.text, "source": self.source, "score": round(self.score, 4),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "channel": self.channel, "industry": self.industry, "product": self.product,
            "store": self.store, "sentiment": self.sentiment, "sentiment_score": self.sentiment_score,
            "topic_id": self.topic_id, "topic_label": self.topic_label, "tags": self.tags,
            "near_duplicate_of": self.near_duplicate_of, "highlight": self.highlight,
            "rating": self.rating, "survey_score": self.survey_score,
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


# What each position of a cursor may hold: floats (sort scores; Elasticsearch gives ±Infinity,
# as a number or as text, for a missing value), 64-bit integers (row numbers, epoch milliseconds), strings.
CursorKind = Literal["float", "int", "str"]
MAX_CURSOR_LENGTH = 4096
_INT64 = range(-(2**63), 2**63)
_INFINITY_TEXTS = ("Infinity", "-Infinity")  # how Elasticsearch may write a missing float's sort value


class InvalidCursor(ValueError):
    """A cursor this server did not issue (or issued for another sort order): the client's error."""

    def __init__(self) -> None:
        super().__init__("invalid cursor: pass the next_cursor of a previous page with the same sort order")


def decode_cursor(cursor: str, kinds: Sequence[CursorKind] | None = None) -> list[Any]:
    """The sort values a cursor holds, checked against ``kinds`` when given, so that nothing a client
    forges (huge integers, NaN, nesting, wrong types or lengths) reaches a query: InvalidCursor instead."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeError, RecursionError) as exc:  # RecursionError: "[[[[…" nested deeply
        raise InvalidCursor from exc
    if not isinstance(values, list):
        raise InvalidCursor
    if kinds is None:
        return values
    if len(values) != len(kinds):
        raise InvalidCursor
    return [_checked(value, kind) for value, kind in zip(values, kinds, strict=True)]


def _checked(value: Any, kind: CursorKind) -> Any:
    if isinstance(value, bool):  # a bool is an int to Python, never a sort value to us
        raise InvalidCursor
    if kind == "str" and isinstance(value, str):
        try:
            value.encode("utf-8")  # JSON lets a lone surrogate through; no database takes one
        except UnicodeEncodeError:
            raise InvalidCursor from None
        return value
    if kind == "int" and isinstance(value, int) and value in _INT64:
        return value
    if kind == "float" and value in _INFINITY_TEXTS:
        return value
    if kind == "float" and isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            raise InvalidCursor from None
        if not math.isnan(number):
            return number
    raise InvalidCursor


class SearchBackend(ABC):
    """The contract every search backend implements."""

    name: str = "abstract"
    # Fields that documents indexed by an earlier release lack (search works; filters and matches on
    # these miss those documents until `voc index rebuild`); () when the index is current.
    stale_fields: tuple[str, ...] = ()

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

    def pin_filter(self, field: str, values: Collection[str]) -> None:  # noqa: B027 - optional hook
        """A hint: many queries will filter ``field`` to exactly ``values`` (a data scope). A backend may
        prepare for it (the embedded index keeps those rows as a set); results never depend on it."""

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
