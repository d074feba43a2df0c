"""The store phase of one file ingest: one short transaction per batch, and a compensating rollback.

A whole file in one transaction held SQLite's single write lock for the whole run, so any other
writer (`voc tag add`, a second ingest, an API upload) waited out the busy timeout and failed.
Each batch now commits on its own, with the run's progress, so the lock is held for milliseconds
at a time. A run that fails part-way takes its committed batches back (`discard`), so a file that
cannot be read to its end still stores nothing. A run killed outright leaves whole batches only
(documents and their MinHash signatures commit together); re-ingesting the file skips what is
stored and completes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from voc.dedupe import NearDuplicateDetector
from voc.documents import Document
from voc.store import DocumentStore, document_row, documents, ingest_runs, minhash_signatures, tags

if TYPE_CHECKING:
    from voc.ingest.runner import IngestReport

# Another server on the same PostgreSQL store may insert one of our ids between our duplicate check
# and our insert; each retry checks again, and every retry shrinks the batch to what is still new.
STORE_ATTEMPTS = 3


class RunWriter:
    """Stores the batches of one ingest run, recorded as a row of ``ingest_runs``."""

    def __init__(self, store: DocumentStore, run_id: int, started: datetime,
                 near_duplicates: NearDuplicateDetector) -> None:
        self.store = store
        self.run_id = run_id
        self.started = started
        self.near_duplicates = near_duplicates

    @classmethod
    def start(cls, store: DocumentStore, *, path: str, source: str, started: datetime,
              near_duplicates: NearDuplicateDetector) -> RunWriter:
        with store.engine.connect() as conn:
            near_duplicates.load(conn, started)
        with store.engine.begin() as conn:
            run_id = conn.execute(insert(ingest_runs).values(
                path=path, source=source, started_at=started, status="running")).inserted_primary_key[0]
        return cls(store, int(run_id), started, near_duplicates)

    def store_batch(self, docs: list[Document], report: IngestReport) -> list[Document]:
        """Insert the batch's new documents in one transaction; count the rest as duplicates. Returns the
        documents committed (for observers such as alert rules)."""
        signatures: dict[str, dict[str, Any]] | None = None  # near-duplicates are assigned once per batch
        for attempt in range(STORE_ATTEMPTS):
            try:
                with self.store.engine.begin() as conn:
                    # A write first: on SQLite it takes the write lock (waiting up to the busy timeout)
                    # before the duplicate check reads, so the check and the insert see the same rows.
                    self._record_progress(conn, report)
                    fresh = self._fresh(conn, docs)
                    if signatures is None:
                        _, rows = self.near_duplicates.assign(fresh, self.started)
                        signatures = {row["document_id"]: row for row in rows}
                    if fresh:
                        conn.execute(insert(documents), [document_row(doc, self.run_id, self.started)
                                                         for doc in fresh])
                    signature_rows = [signatures[doc.id] for doc in fresh if doc.id in signatures]
                    if signature_rows:
                        conn.execute(insert(minhash_signatures), signature_rows)
            except IntegrityError:
                if attempt == STORE_ATTEMPTS - 1:
                    raise
                continue
            report.accepted += len(fresh)
            report.duplicates += len(docs) - len(fresh)
            report.near_duplicates += sum(1 for doc in fresh if doc.near_duplicate_of)
            return fresh
        return []  # not reached: the last attempt raises

    def finish(self, report: IngestReport) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(update(ingest_runs).where(ingest_runs.c.id == self.run_id).values(
                finished_at=datetime.now(), accepted=report.accepted, duplicates=report.duplicates,
                rejected=report.rejected, rejects_file=report.rejects_file, status="done"))

    def interrupt(self, report: IngestReport) -> None:
        """Ctrl-C: keep the batches already committed (a re-run stores the rest and nothing twice) and
        record how far the run got."""
        with self.store.engine.begin() as conn:
            conn.execute(update(ingest_runs).where(ingest_runs.c.id == self.run_id).values(
                finished_at=datetime.now(), accepted=report.accepted, duplicates=report.duplicates,
                rejected=report.rejected, rejects_file=report.rejects_file, status="interrupted"))

    def discard(self) -> list[str]:
        """Delete what this run stored, with the tags and signatures of those documents; mark the run
        failed. Returns the ids a concurrent index sync had indexed meanwhile (the caller removes them
        from the index). Documents that were already stored before this run are never touched: this
        run counted them as duplicates and did not insert them."""
        mine = select(documents.c.id).where(documents.c.ingest_run == self.run_id)
        with self.store.engine.begin() as conn:
            conn.execute(update(ingest_runs).where(ingest_runs.c.id == self.run_id).values(
                finished_at=datetime.now(), status="failed"))
            indexed = list(conn.scalars(mine.where(documents.c.indexed.is_(True))))
            conn.execute(delete(tags).where(tags.c.document_id.in_(mine)))
            conn.execute(delete(minhash_signatures).where(minhash_signatures.c.document_id.in_(mine)))
            conn.execute(delete(documents).where(documents.c.ingest_run == self.run_id))
        return indexed

    def _record_progress(self, conn: Connection, report: IngestReport) -> None:
        conn.execute(update(ingest_runs).where(ingest_runs.c.id == self.run_id).values(
            accepted=report.accepted, duplicates=report.duplicates, rejected=report.rejected))

    def _fresh(self, conn: Connection, docs: list[Document]) -> list[Document]:
        """The batch's documents not stored yet (committed batches of this run included), each once."""
        seen = self.store.existing_ids(conn, [doc.id for doc in docs])
        fresh: list[Document] = []
        for doc in docs:
            if doc.id not in seen:
                seen.add(doc.id)
                fresh.append(doc)
        return fresh
