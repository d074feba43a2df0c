"""Whether stored documents carry a time, and what to tell a user whose data has none.

Trends, emerging topics and date filters all need ``created_at``; a file ingested without a time
column has none, and an empty chart or "no emerging topics" would read as "nothing happened".
"""

from __future__ import annotations

from sqlalchemy import select

from voc.store import DocumentStore, documents

NO_TIME_HINT = ("the stored documents have no time, so there is no trend to show: re-ingest with a time column "
                "(named time, date, created_at, 时间 or 日期, or given with --time-col)")


def any_dated(store: DocumentStore) -> bool:
    """One indexed lookup: does any stored document carry created_at?"""
    with store.engine.connect() as conn:
        return conn.execute(select(documents.c.id).where(documents.c.created_at.is_not(None)).limit(1)).first() \
            is not None
