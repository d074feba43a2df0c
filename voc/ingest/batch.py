"""Ingest documents that arrive as records rather than a file (the API's JSON batches).

The same steps as a file ingest (validate → pipeline with PII masking → ids → near-duplicates →
store), but every item gets its own result, so a caller can see which of its documents were
accepted, already known, or rejected and why. A batch is stored in one transaction: all or nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from voc.dedupe import NearDuplicateDetector
from voc.documents import Document
from voc.ingest.fields import FieldProblem, clean_record
from voc.ingest.frame import Analyser, RowInput
from voc.ingest.records import RowRejected
from voc.pipeline import Pipeline
from voc.settings import VocSettings
from voc.store import DocumentStore, document_row, documents, ingest_runs, minhash_signatures

ItemStatus = Literal["accepted", "duplicate", "rejected"]


@dataclass(slots=True)
class RecordItem:
    """One incoming document: its source kind, canonical fields (``text``, ``id``, ``time``, ``turns``,
    ``store``, ``score``…, as `build_document` knows them) and free-form extra metadata."""

    source: str
    fields: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ItemResult:
    index: int
    status: ItemStatus
    id: str | None = None
    reason: str | None = None
    near_duplicate_of: str | None = None


class BatchIngester:
    """Keeps one near-duplicate detector between batches: reloading 90 days of signatures for every
    small batch would cost more than the batch. It is reloaded whenever the stored signatures changed
    other than by this object (another process ingested meanwhile)."""

    def __init__(self, settings: VocSettings, store: DocumentStore, pipeline: Callable[[], Pipeline],
                 on_committed: Callable[[list[Document]], object] | None = None) -> None:
        """``on_committed`` sees the newly stored documents right after the batch commits (alert rules)."""
        self.settings = settings
        self.store = store
        self._pipeline = pipeline
        self._on_committed = on_committed
        self._lock = threading.Lock()
        self._detector: NearDuplicateDetector | None = None
        self._analyser_cache: Analyser | None = None
        self._signature_state: tuple[int, Any] | None = None

    def ingest(self, items: Sequence[RecordItem], origin: str = "api") -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(items)
        docs: list[tuple[int, Document]] = []
        inputs: list[tuple[int, RowInput]] = []
        for index, item in enumerate(items):
            try:
                inputs.append((index, self._row(item)))
            except RowRejected as exc:
                results[index] = ItemResult(index, "rejected", reason=self._analyser().mask(str(exc)))
        # The one batch path (voc.ingest.frame): the same validation and pipeline as a file's rows.
        analysed = self._analyser().documents([row for _, row in inputs])
        for (index, _), result in zip(inputs, analysed, strict=True):
            if isinstance(result, RowRejected):
                results[index] = ItemResult(index, "rejected", reason=str(result))
            else:
                docs.append((index, result))
        with self._lock:
            try:
                self._store(docs, results, items, origin)
            except IntegrityError:
                # Another process stored one of these ids between our check and our insert: the retry
                # sees them as duplicates, which is what they are.
                self._detector = None
                results = [r if r is not None and r.status == "rejected" else None for r in results]
                self._store(docs, results, items, origin)
            except BaseException:
                self._detector = None  # it registered documents that were never stored
                raise
        if self._on_committed:
            stored = {result.id for result in results if result is not None and result.status == "accepted"}
            committed = [doc for _, doc in docs if doc.id in stored]
            if committed:
                self._on_committed(committed)
        return [result for result in results if result is not None]

    def _analyser(self) -> Analyser:
        pipeline = self._pipeline()
        if self._analyser_cache is None or self._analyser_cache.pipeline is not pipeline:
            self._analyser_cache = Analyser(self.settings, pipeline)
        return self._analyser_cache

    @staticmethod
    def _row(item: RecordItem) -> RowInput:
        # The same cleaning as a file's rows: no control characters or lone surrogates reach the
        # store, and extra keys (column names, in effect) are PII-masked like a file's header.
        try:
            values = clean_record({name: value for name, value in item.fields.items() if value is not None})
            extra = clean_record(dict(item.extra))
        except FieldProblem as exc:
            raise RowRejected(str(exc)) from None
        return RowInput(item.source, values, {name: name for name in values}, extra or None)

    def _store(self, docs: list[tuple[int, Document]], results: list[ItemResult | None],
               items: Sequence[RecordItem], origin: str) -> None:
        now = datetime.now()
        sources = sorted({item.source for item in items})
        with self.store.engine.begin() as conn:
            detector = self._current_detector(conn, now)
            known = self.store.existing_ids(conn, [doc.id for _, doc in docs])
            fresh: list[tuple[int, Document]] = []
            for index, doc in docs:
                if doc.id in known:
                    results[index] = ItemResult(index, "duplicate", id=doc.id)
                    continue
                known.add(doc.id)
                fresh.append((index, doc))
            _, signature_rows = detector.assign([doc for _, doc in fresh], now)
            run_id = conn.execute(insert(ingest_runs).values(
                path=origin, source=sources[0] if len(sources) == 1 else "mixed", started_at=now,
                finished_at=now, accepted=len(fresh), duplicates=len(docs) - len(fresh),
                rejected=sum(1 for r in results if r is not None and r.status == "rejected"), status="done",
            )).inserted_primary_key[0]
            if fresh:
                conn.execute(insert(documents), [document_row(doc, run_id, now) for _, doc in fresh])
            if signature_rows:
                conn.execute(insert(minhash_signatures), signature_rows)
            for index, doc in fresh:
                results[index] = ItemResult(index, "accepted", id=doc.id, near_duplicate_of=doc.near_duplicate_of)
        with self.store.engine.connect() as conn:
            self._signature_state = self._state(conn, now)

    def _current_detector(self, conn: Any, now: datetime) -> NearDuplicateDetector:
        state = self._state(conn, now)
        if self._detector is None or state != self._signature_state:
            self._detector = NearDuplicateDetector(self.settings.near_duplicate_jaccard,
                                                   self.settings.near_duplicate_window_days)
            self._detector.load(conn, now)
        return self._detector

    def _state(self, conn: Any, now: datetime) -> tuple[int, Any]:
        since = now - timedelta(days=self.settings.near_duplicate_window_days)
        row = conn.execute(select(func.count(), func.max(minhash_signatures.c.registered_at))
                           .where(minhash_signatures.c.registered_at >= since)).one()
        return int(row[0]), row[1]
