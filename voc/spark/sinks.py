"""`voc spark load` and `voc spark index`: the analysed Parquet into the store and into the search index,
written from the executors in parallel, one batch (an Arrow record batch) at a time.

Both are idempotent. Load inserts only ids the store does not hold (another writer inserting the same id
meanwhile makes the batch check again), so a re-run, or a run over output that overlaps an earlier one,
adds nothing twice. Index writes are upserts by id through voc's own backends: on Elasticsearch the bulk
writer sends byte-sized bulks with backoff on 429/5xx; the embedded index takes them under its write lock.
Each batch then marks the documents the index took as indexed in the store (VOC_DATABASE_URL), so a later
`voc index sync` skips them; a document the index refused stays as it was, and a stored document with tags
is marked *un*indexed instead (the analysed output has no tags, so the index lacks them until sync).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from indexing import IndexRecord, SearchBackend, open_backend
from voc.ingest.frame import document_from_output
from voc.settings import VocSettings
from voc.store import DocumentStore, document_row, documents, ingest_runs, minhash_signatures

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

STORE_ATTEMPTS = 3
LOAD_SCHEMA = "written long, duplicates long"
INDEX_SCHEMA = "indexed long, failed long, marked long, first_error string"


@dataclass(slots=True)
class LoadReport:
    run_id: int
    loaded: int = 0
    duplicates: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class IndexReport:
    rows: int = 0
    indexed: int = 0
    failed: int = 0
    marked: int = 0  # stored documents marked indexed (the rest are not in the store yet, or have tags)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# One store / index connection per executor process and settings, opened by the first batch.
_stores: dict[str, DocumentStore] = {}
_backends: dict[str, SearchBackend] = {}


def _key(settings: VocSettings) -> str:
    return hashlib.blake2b(settings.model_dump_json().encode(), digest_size=16).hexdigest()


def _store(settings: VocSettings) -> DocumentStore:
    key = _key(settings)
    if key not in _stores:
        _stores[key] = DocumentStore(settings.resolved_database_url)
    return _stores[key]


def _backend(settings: VocSettings) -> SearchBackend:
    key = _key(settings)
    if key not in _backends:
        _backends[key] = open_backend(settings)
    return _backends[key]


def read_documents(spark: SparkSession, output: str) -> DataFrame:
    """The documents of an analyse run's output (the rejected rows live apart)."""
    return spark.read.parquet(output)


def store_batch(store: DocumentStore, frame: pd.DataFrame, run_id: int, now: datetime) -> tuple[int, int]:
    """Insert the batch's documents the store lacks, in one transaction; returns (written, duplicates)."""
    docs = [document_from_output(row) for row in frame.to_dict("records")]
    for attempt in range(STORE_ATTEMPTS):
        try:
            with store.engine.begin() as conn:
                known = store.existing_ids(conn, [doc.id for doc in docs])
                fresh = [doc for doc in docs if doc.id not in known]
                if fresh:
                    conn.execute(insert(documents), [document_row(doc, run_id, now) for doc in fresh])
                # Representatives join the near-duplicate window of later ingests, by the time they were written.
                signatures = [{"document_id": doc.id, "signature": doc.minhash, "registered_at": doc.created_at or now}
                              for doc in fresh if doc.minhash and not doc.near_duplicate_of]
                if signatures:
                    conn.execute(insert(minhash_signatures), signatures)
        except IntegrityError:
            if attempt == STORE_ATTEMPTS - 1:
                raise
            continue
        return len(fresh), len(docs) - len(fresh)
    return 0, 0  # not reached: the last attempt raises


def load(spark: SparkSession, output: str, settings: VocSettings) -> LoadReport:
    """Copy the documents of ``output`` into the store (``settings.database_url``), recorded as one run."""
    started = time.perf_counter()
    now = datetime.now()
    frame = read_documents(spark, output)  # a missing or unreadable output fails here, before any write
    store = DocumentStore(settings.resolved_database_url)
    try:
        with store.engine.begin() as conn:
            run_id = int(conn.execute(insert(ingest_runs).values(
                path=output, source="spark", started_at=now, status="running")).inserted_primary_key[0])
        report = LoadReport(run_id=run_id)

        def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            import pandas as pd

            target = _store(settings)
            for batch in batches:
                written, duplicates = store_batch(target, batch, run_id, now)
                yield pd.DataFrame({"written": [written], "duplicates": [duplicates]})

        status = "failed"
        try:
            totals = frame.mapInPandas(run, schema=LOAD_SCHEMA).groupBy().sum().collect()[0]
            report.loaded, report.duplicates = int(totals[0] or 0), int(totals[1] or 0)
            status = "done"
        finally:
            with store.engine.begin() as conn:
                conn.execute(update(ingest_runs).where(ingest_runs.c.id == run_id).values(
                    finished_at=datetime.now(), accepted=report.loaded, duplicates=report.duplicates, status=status))
    finally:
        store.close()
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def index_record(row: dict[str, Any]) -> IndexRecord:
    doc = document_from_output(row)
    return IndexRecord(
        id=doc.id, text=doc.text, terms=doc.search_terms, source=doc.source, created_at=doc.created_at,
        channel=doc.channel, industry=doc.industry, product=doc.product, store=doc.store,
        sentiment=doc.sentiment_label, sentiment_score=doc.sentiment_score, topic_id=doc.topic_id,
        topic_label=doc.topic_label, near_duplicate_of=doc.near_duplicate_of,
        rating=_number(doc.meta, "rating"), survey_score=_number(doc.meta, "score"))


def _number(meta: dict[str, Any], key: str) -> float | None:
    value = meta.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def mark_indexed(store: DocumentStore, ids: Sequence[str]) -> int:
    """After the index took ``ids``: mark those the store holds as indexed, in one transaction, except
    tagged ones, which are marked unindexed (the index now has them without their tags). Ids the store
    lacks are left to `voc spark load`, which stores them unindexed. Returns how many were marked indexed."""
    marked = 0
    with store.engine.begin() as conn:
        tagged = set(store.tags_for(conn, ids))
        plain = [doc_id for doc_id in ids if doc_id not in tagged]
        for start in range(0, len(plain), 900):
            marked += conn.execute(update(documents).where(documents.c.id.in_(plain[start : start + 900]))
                                   .values(indexed=True)).rowcount
        if tagged:
            conn.execute(update(documents).where(documents.c.id.in_(sorted(tagged))).values(indexed=False))
    return marked


def index(spark: SparkSession, output: str, settings: VocSettings) -> IndexReport:
    """Index the documents of ``output`` from the executors into the settings' backend, and mark them
    indexed in the settings' store."""
    started = time.perf_counter()
    frame = read_documents(spark, output)  # a missing or unreadable output fails here, before any write
    open_backend(settings).close()  # the index (and its alias) exists before executors write to it
    DocumentStore(settings.resolved_database_url).close()  # likewise the store, migrated once, here

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        backend, store = _backend(settings), _store(settings)
        for batch in batches:
            records = [index_record(row) for row in batch.to_dict("records")]
            outcome = backend.index(records)
            marked = mark_indexed(store, [record.id for record in records if record.id not in outcome.errors])
            first = next(iter(outcome.errors.values()), None)
            yield pd.DataFrame({"indexed": [outcome.indexed], "failed": [len(outcome.errors)],
                                "marked": [marked], "first_error": [first]})

    results = frame.mapInPandas(run, schema=INDEX_SCHEMA).collect()
    report = IndexReport(indexed=sum(r["indexed"] for r in results), failed=sum(r["failed"] for r in results),
                         marked=sum(r["marked"] for r in results),
                         errors=sorted({r["first_error"] for r in results if r["first_error"]})[:10])
    report.rows = report.indexed + report.failed
    report.seconds = round(time.perf_counter() - started, 2)
    return report


