"""The document store: the source of truth (SQLite by default, PostgreSQL by URL).

The search index is derived from it and can always be rebuilt from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, make_url

from voc.documents import Document, PiiSpan, Turn
from voc.private_files import ensure_private_dir, ensure_private_sqlite_file

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(16), nullable=False, index=True),
    Column("external_id", String(256)),
    Column("text", Text, nullable=False),
    Column("text_original", Text, nullable=False),
    Column("created_at", DateTime, index=True),
    Column("ingested_at", DateTime, nullable=False),
    Column("channel", String(128)),
    Column("industry", String(64)),
    Column("product", String(256)),
    Column("store", String(256)),
    Column("meta", JSON, nullable=False),
    Column("turns", JSON, nullable=False),
    Column("tokens", Text, nullable=False),
    Column("search_terms", Text, nullable=False),
    Column("pii", JSON, nullable=False),
    Column("near_duplicate_of", String(32)),
    Column("sentiment_label", String(16)),
    Column("sentiment_score", Float),
    Column("analysis", JSON, nullable=False),
    Column("topic_id", Integer),
    Column("topic_label", String(256)),
    Column("ingest_run", Integer, index=True),
    Column("indexed", Boolean, nullable=False, default=False, index=True),
)

# MinHash signatures of representative documents (those not themselves near-duplicates); the LSH
# buckets over them are rebuilt in memory per ingest run (see voc.dedupe), which is far cheaper than
# maintaining a SQL row per band.
minhash_signatures = Table(
    "minhash_signatures",
    metadata,
    Column("document_id", String(32), primary_key=True),
    Column("signature", LargeBinary, nullable=False),
    Column("registered_at", DateTime, nullable=False, index=True),
)

tags = Table(
    "tags",
    metadata,
    Column("document_id", String(32), primary_key=True),
    Column("tag", String(128), primary_key=True, index=True),
    Column("created_at", DateTime, nullable=False),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False),
    Column("source", String(16), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("accepted", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("rejects_file", Text),
    Column("status", String(16), nullable=False),
)


INDEX_COLUMNS = ("id", "text", "search_terms", "source", "created_at", "channel", "industry", "product", "store",
                 "sentiment_label", "sentiment_score", "topic_id", "topic_label", "near_duplicate_of",
                 "meta")  # meta: the rating and survey score


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:" \
            or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def read_only_location(database: Path) -> bool:
    """An existing database this process cannot write, or whose folder it cannot write (a read-only
    mount, a backup copy, another user's folder): SQLite could not create its WAL files there."""
    return database.is_file() and not (os.access(database.parent, os.W_OK) and os.access(database, os.W_OK))


def read_only_url(database: Path) -> str:
    """A SQLite URI opening ``database`` for reading only.

    With no WAL file left (a cleanly closed store) ``immutable=1`` reads the file as it is without the
    -shm file SQLite cannot create here; with a WAL file, plain ``mode=ro`` reads it as well, so no
    committed write is missed.
    """
    wal = database.with_name(database.name + "-wal")
    flags = "mode=ro" if wal.exists() and wal.stat().st_size > 0 else "mode=ro&immutable=1"
    return f"sqlite:///file:{quote(str(database.absolute()))}?{flags}&uri=true"


def make_engine(url: str) -> Engine:
    """An engine on the store; a SQLite store in a place this process cannot write is opened read-only
    (commands that only read work; a write fails with SQLITE_READONLY, which the CLI reports in one line)."""
    database = sqlite_file(url)
    read_only = database is not None and read_only_location(database)
    if database is not None and read_only:
        url = read_only_url(database)
    elif database is not None:
        ensure_private_dir(database.parent)
        ensure_private_sqlite_file(database)
    # hide_parameters: an error (disk full, lock timeout) must not quote document text in its message
    engine = create_engine(url, future=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas if read_only else _sqlite_pragmas)
    if not read_only:
        from voc.migrations import upgrade_store  # Alembic is imported only where a store is opened

        upgrade_store(engine)
    return engine


def create_tables(engine: Engine, tables: Sequence[Table] | None = None) -> None:
    """Create the missing tables (all of ``metadata`` by default): a guard for engines opened without
    ``make_engine`` (whose migrations create every table). On PostgreSQL several processes opening a fresh
    shared store at once would race in CREATE TABLE, so creation holds the migrations' advisory lock."""
    from voc.migrations import SCHEMA_LOCK

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        metadata.create_all(conn, tables=list(tables) if tables is not None else None)


def document_row(doc: Document, run_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "id": doc.id,
        "source": doc.source,
        "external_id": doc.external_id,
        "text": doc.text,
        "text_original": doc.text_original,
        "created_at": doc.created_at,
        "ingested_at": now,
        "channel": doc.channel,
        "industry": doc.industry,
        "product": doc.product,
        "store": doc.store,
        "meta": doc.meta,
        "turns": [{"role": t.role, "text": t.text} for t in doc.turns],
        "tokens": " ".join(doc.tokens),
        "search_terms": " ".join(doc.search_terms),
        "pii": [[s.type, s.start, s.end, s.masked_start, s.masked_end] for s in doc.pii],
        "near_duplicate_of": doc.near_duplicate_of,
        "sentiment_label": doc.sentiment_label,
        "sentiment_score": doc.sentiment_score,
        "analysis": doc.analysis,
        "topic_id": doc.topic_id,
        "topic_label": doc.topic_label,
        "ingest_run": run_id,
        "indexed": False,
    }


def row_document(row: Any, doc_tags: Sequence[str] = ()) -> Document:
    return Document(
        id=row.id,
        source=row.source,
        text=row.text,
        text_original=row.text_original,
        external_id=row.external_id,
        created_at=row.created_at,
        channel=row.channel,
        industry=row.industry,
        product=row.product,
        store=row.store,
        meta=row.meta or {},
        turns=[Turn(**turn) for turn in row.turns or []],
        tokens=row.tokens.split() if row.tokens else [],
        search_terms=row.search_terms.split() if row.search_terms else [],
        pii=[PiiSpan(*span) for span in row.pii or []],
        near_duplicate_of=row.near_duplicate_of,
        sentiment_label=row.sentiment_label,
        sentiment_score=row.sentiment_score,
        analysis=row.analysis or {},
        topic_id=row.topic_id,
        topic_label=row.topic_label,
        tags=list(doc_tags),
    )


class DocumentStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def existing_ids(self, conn: Connection, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start : start + 900]
            found.update(conn.scalars(select(documents.c.id).where(documents.c.id.in_(chunk))))
        return found

    def count(self, source: str | None = None) -> int:
        query = select(func.count()).select_from(documents)
        if source:
            query = query.where(documents.c.source == source)
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def get(self, doc_id: str) -> Document | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
            if row is None:
                return None
            doc_tags = conn.scalars(select(tags.c.tag).where(tags.c.document_id == doc_id).order_by(tags.c.tag))
            return row_document(row, list(doc_tags))

    def tags_for(self, conn: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for start in range(0, len(ids), 900):
            rows = conn.execute(
                select(tags.c.document_id, tags.c.tag)
                .where(tags.c.document_id.in_(ids[start : start + 900]))
                .order_by(tags.c.tag)
            )
            for doc_id, tag in rows:
                result.setdefault(doc_id, []).append(tag)
        return result

    def iter_documents(
        self, *, only_unindexed: bool = False, source: str | None = None,
        since: datetime | None = None, batch_size: int = 1000,
    ) -> Iterator[list[Document]]:
        """Whole documents in id order, with their tags."""
        conditions = [documents.c.source == source] if source else []
        if since:
            conditions.append(documents.c.created_at >= since)
        for rows, doc_tags in self._keyset_batches([documents], conditions, only_unindexed, batch_size):
            yield [row_document(row, doc_tags.get(row.id, [])) for row in rows]

    def iter_index_rows(self, *, only_unindexed: bool = True, batch_size: int = 2000
                        ) -> Iterator[tuple[list[Any], dict[str, list[str]]]]:
        """Just the columns an index needs (meta the one JSON: rating and score), with each batch's tags."""
        columns = [documents.c[name] for name in INDEX_COLUMNS]
        yield from self._keyset_batches(columns, [], only_unindexed, batch_size)

    def _keyset_batches(self, columns: list[Any], conditions: list[Any], only_unindexed: bool, batch_size: int
                        ) -> Iterator[tuple[list[Any], dict[str, list[str]]]]:
        """Batches in id order read by keyset (memory stays flat on large stores), with their tags."""
        if only_unindexed:
            conditions = [*conditions, documents.c.indexed.is_(False)]
        last_id = ""
        while True:
            query = (select(*columns).where(documents.c.id > last_id, *conditions)
                     .order_by(documents.c.id).limit(batch_size))
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
                if not rows:
                    return
                doc_tags = self.tags_for(conn, [row.id for row in rows])
            yield rows, doc_tags
            last_id = rows[-1].id

    def mark_indexed(self, ids: Sequence[str], indexed: bool = True) -> None:
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 900):
                conn.execute(
                    update(documents).where(documents.c.id.in_(ids[start : start + 900])).values(indexed=indexed)
                )

    def reset_indexed(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(documents).values(indexed=False))

    def unindexed_count(self) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(documents).where(documents.c.indexed.is_(False))
            return int(conn.scalar(query) or 0)

    def add_tag(self, tag: str, ids: Sequence[str]) -> list[str]:
        """Tag documents; returns the ids that exist in the store (unknown ids are ignored)."""
        now = datetime.now()
        with self.engine.begin() as conn:
            known = sorted(self.existing_ids(conn, ids))
            already = set(
                conn.scalars(select(tags.c.document_id).where(tags.c.tag == tag, tags.c.document_id.in_(known)))
            ) if known else set()
            fresh = [{"document_id": doc_id, "tag": tag, "created_at": now} for doc_id in known
                     if doc_id not in already]
            if fresh:
                conn.execute(insert(tags), fresh)
        return known

    def remove_tag(self, tag: str, ids: Sequence[str]) -> list[str]:
        with self.engine.begin() as conn:
            present = list(conn.scalars(
                select(tags.c.document_id).where(tags.c.tag == tag, tags.c.document_id.in_(list(ids)))
            ))
            if present:
                conn.execute(delete(tags).where(tags.c.tag == tag, tags.c.document_id.in_(present)))
        return present

    def tag_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tags.c.tag, func.count()).group_by(tags.c.tag).order_by(func.count().desc(), tags.c.tag)
            )
            return {tag: int(count) for tag, count in rows}

    def source_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(documents.c.source, func.count()).group_by(documents.c.source))
            return {source: int(count) for source, count in rows}
