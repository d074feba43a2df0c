"""A light read of stored documents for mapping and suggestions: text, clauses, aspects, topic, time.

Reads the documents table directly (keyset batches, memory flat) so that topic ids written by the
topic stage are seen as soon as they are there, without going through ``Document`` objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from voc.sentiment.clauses import split_clauses
from voc.store import documents


@dataclass(slots=True)
class ClauseView:
    text: str
    start: int
    end: int
    label: str  # negative | neutral | positive


@dataclass(slots=True)
class DocView:
    id: str
    text: str
    source: str
    created_at: datetime | None
    sentiment: str
    topic_id: int | None
    topic_label: str | None
    clauses: list[ClauseView] = field(default_factory=list)
    aspects: list[dict[str, Any]] = field(default_factory=list)


_COLUMNS = [documents.c[name] for name in (
    "id", "text", "source", "created_at", "sentiment_label", "analysis", "topic_id", "topic_label",
    "near_duplicate_of")]


def doc_view(row: Any) -> DocView:
    sentiment = (row.analysis or {}).get("sentiment") or {}
    label = row.sentiment_label or "neutral"
    clauses = [ClauseView(c["text"], int(c["start"]), int(c["end"]), c.get("label") or "neutral")
               for c in sentiment.get("clauses") or []]
    if not clauses:  # analysed without the sentiment stage: clauses still give evidence spans
        clauses = [ClauseView(c.text, c.start, c.end, "neutral") for c in split_clauses(row.text)]
    return DocView(id=row.id, text=row.text, source=row.source, created_at=row.created_at, sentiment=label,
                   topic_id=row.topic_id, topic_label=row.topic_label, clauses=clauses,
                   aspects=list(sentiment.get("aspects") or []))


def scope_conditions(sources: Sequence[str] = (), industries: Sequence[str] = ()) -> list[Any]:
    """SQL conditions for a business line: one indicator tree usually covers one industry or channel."""
    conditions = []
    if sources:
        conditions.append(documents.c.source.in_(list(sources)))
    if industries:
        conditions.append(documents.c.industry.in_(list(industries)))
    return conditions


def iter_docs(engine: Engine, *, skip_near_duplicates: bool = True, batch_size: int = 2000,
              sources: Sequence[str] = (), industries: Sequence[str] = ()) -> Iterator[list[DocView]]:
    """Documents in id order. Near-duplicates (copy-paste) are skipped: they would count one voice twice."""
    last_id = ""
    scope = scope_conditions(sources, industries)
    while True:
        query = (select(*_COLUMNS).where(documents.c.id > last_id, *scope).order_by(documents.c.id)
                 .limit(batch_size))
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield [doc_view(row) for row in rows if not (skip_near_duplicates and row.near_duplicate_of)]
