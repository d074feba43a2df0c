"""The service facade the CLI and the API share: store, index and pipeline wired from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexing import BackendUnavailable, Filters, IndexRecord, SearchBackend, SearchQuery, SearchResult, open_backend
from voc.documents import Document
from voc.ingest.batch import BatchIngester, ItemResult, RecordItem
from voc.ingest.records import ColumnOptions
from voc.ingest.runner import IndexBehind, Ingester, IngestReport
from voc.pipeline import Pipeline, pii_dicts
from voc.private_files import ensure_private_dir
from voc.settings import VocSettings
from voc.store import DocumentStore
from voc.text.normalize import Normalizer
from voc.text.tokenize import Tokenizer

if TYPE_CHECKING:
    from voc.alerts import AlertService
    from voc.tickets import TicketService
    from voc.topics.service import TopicService

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IndexSyncReport:
    indexed: int
    errors: dict[str, str]
    pending: int


class Voc:
    """Everything a command needs, created lazily so `voc --help` stays instant."""

    def __init__(self, settings: VocSettings | None = None) -> None:
        self.settings = settings or VocSettings()

    @cached_property
    def store(self) -> DocumentStore:
        ensure_private_dir(self.settings.home)  # holds customer texts: 0700 when voc creates it
        return DocumentStore(self.settings.resolved_database_url)

    @cached_property
    def index(self) -> SearchBackend:
        return open_backend(self.settings)

    @cached_property
    def tokenizer(self) -> Tokenizer:
        return Tokenizer.from_settings(self.settings)

    @cached_property
    def normalizer(self) -> Normalizer:
        """Queries are normalised like documents (width, Traditional characters), without the pipeline."""
        return Normalizer(to_simplified=self.settings.to_simplified)

    @cached_property
    def topics(self) -> TopicService:
        from voc.topics.service import TopicService

        return TopicService(self)

    @cached_property
    def tickets(self) -> TicketService:
        from voc.scopes import ticket_overrides
        from voc.tickets import TicketService

        # escalation notices go out through the alert webhooks (VOC_ALERTS_NOTIFY_WEBHOOKS)
        return TicketService.from_settings(self.settings, self.store.engine,
                                           notify=lambda event: self.alerts.notify(event),
                                           **ticket_overrides(self.settings, self.store.engine))

    @cached_property
    def pipeline(self) -> Pipeline:
        return Pipeline.from_settings(self.settings, tokenizer=self.tokenizer)

    @cached_property
    def alerts(self) -> AlertService:
        from voc.alerts import AlertService

        return AlertService.from_settings(
            self.settings, self.store.engine, tokenize=lambda text: self.tokenizer.tokenize(text),  # loads jieba late
            open_ticket=self._open_ticket,
            topic_labels=lambda: {t.id: t.label for t in self.topics.store.list_topics()})

    def _open_ticket(self, alert: dict[str, Any]) -> str | None:
        """Wires a firing rule's ``ticket:`` settings to the tickets service (alerts never import it)."""
        ticket = self.tickets.open(alert["title"], alert["ticket"]["owner"], alert["document_ids"],
                                   sla_hours=alert["ticket"]["sla_hours"], alert_id=str(alert["id"]),
                                   rule=alert["rule"], actor="alerts")
        return str(ticket.id)

    def _alerts_on_committed(self, docs: list[Document]) -> list[int]:
        """Per-document alert rules on a committed batch; an alert problem never fails an ingest."""
        try:
            return self.alerts.on_committed(docs)
        except Exception:
            log.warning("alert evaluation after a committed batch failed", exc_info=True)
            return []

    def close(self) -> None:
        for name in ("alerts", "store", "index"):
            if name in self.__dict__:
                self.__dict__[name].close()

    # --- ingest and index ---------------------------------------------------------------------
    def ingest(self, path: Path, source: str, *, fmt: str | None = None,
               options: ColumnOptions | None = None,
               progress: Callable[[int], None] | None = None) -> IngestReport:
        # The index is opened only when needed: the store takes the file even while the index is down.
        fired: list[int] = []
        ingester = Ingester(self.settings, self.store, pipeline=lambda: self.pipeline,
                            unindex=lambda ids: self.index.delete(ids),
                            on_committed=lambda docs: fired.extend(self._alerts_on_committed(docs)))
        try:
            report = ingester.ingest(path, source, fmt=fmt, options=options, progress=progress)
        except Exception:  # the run took its documents back: its alerts go too, before anything is sent
            self.alerts.remove(fired)
            raise
        self.alerts.after_ingest()  # send what the committed batches queued
        try:
            self.sync_index()
        except Exception as exc:  # the store has the file whatever the index says: never "nothing stored"
            raise IndexBehind(report, _index_failure(exc), self.store.unindexed_count()) from None
        return report

    def sync_index(self, progress: Callable[[int], None] | None = None) -> IndexSyncReport:
        """Index every stored document not yet indexed. Safe to interrupt and run again."""
        indexed = 0
        errors: dict[str, str] = {}
        for records in self._index_batches(only_unindexed=True):
            report = self.index.index(records)
            errors.update(report.errors)
            done = [record.id for record in records if record.id not in report.errors]
            self.store.mark_indexed(done)
            indexed += len(done)
            if progress:
                progress(len(records))
        return IndexSyncReport(indexed=indexed, errors=errors, pending=self.store.unindexed_count())

    def rebuild_index(self, progress: Callable[[int], None] | None = None) -> IndexSyncReport:
        """Rebuild the index from the store; on Elasticsearch search keeps answering until the swap."""
        ids: list[str] = []

        def batches() -> Iterator[list[IndexRecord]]:
            for records in self._index_batches(only_unindexed=False):
                ids.extend(record.id for record in records)
                yield records
                if progress:
                    progress(len(records))

        report = self.index.reindex(batches())
        self.store.reset_indexed()
        self.store.mark_indexed([doc_id for doc_id in ids if doc_id not in report.errors])
        return IndexSyncReport(indexed=report.indexed, errors=report.errors, pending=self.store.unindexed_count())

    def _index_batches(self, *, only_unindexed: bool) -> Iterator[list[IndexRecord]]:
        for rows, doc_tags in self.store.iter_index_rows(only_unindexed=only_unindexed):
            yield [IndexRecord(
                id=row.id, text=row.text, terms=row.search_terms.split(), source=row.source,
                created_at=row.created_at, channel=row.channel, industry=row.industry, product=row.product,
                store=row.store, sentiment=row.sentiment_label, sentiment_score=row.sentiment_score,
                topic_id=row.topic_id, topic_label=row.topic_label, tags=doc_tags.get(row.id, []),
                near_duplicate_of=row.near_duplicate_of, rating=_number(row.meta, "rating"),
                survey_score=_number(row.meta, "score")) for row in rows]

    # --- analysis -----------------------------------------------------------------------------
    def analyze(self, text: str, source: str = "review") -> dict[str, Any]:
        """Run every pipeline stage on one text without storing it."""
        return self.analyze_many([text], source)[0]

    def analyze_many(self, texts: Sequence[str], source: str = "review") -> list[dict[str, Any]]:
        """Analyse texts in one pipeline pass (batched models are much faster than one call per text)."""
        docs = [self._analysis_document(text, source) for text in texts]
        results: list[dict[str, Any]] = []
        for doc in self.pipeline(docs) if docs else []:
            result: dict[str, Any] = {"text": doc.text, "tokens": doc.tokens, "pii": pii_dicts(doc.pii)}
            if doc.turns:
                result["turns"] = [{"role": t.role, "text": t.text} for t in doc.turns]
            if "sentiment" in doc.analysis:
                result["sentiment"] = doc.analysis["sentiment"]
            if doc.topic_id is not None:
                result["topic"] = {"id": doc.topic_id, "label": doc.topic_label}
            results.append(result)
        return results

    @staticmethod
    def _analysis_document(text: str, source: str) -> Document:
        doc = Document(id="", source=source, text=text, text_original=text)
        if source == "hotline":
            from voc.ingest.hotline import TranscriptError, customer_text, parse_transcript

            try:
                doc.turns = parse_transcript(text)
                doc.text = customer_text(doc.turns) or text
            except TranscriptError:
                pass
        return doc

    @cached_property
    def batch_ingester(self) -> BatchIngester:
        return BatchIngester(self.settings, self.store, pipeline=lambda: self.pipeline,
                             on_committed=self._alerts_on_committed)

    def ingest_records(self, items: Sequence[RecordItem], origin: str = "api") -> list[ItemResult]:
        """Ingest documents given as records, with a result per item; then index what is new."""
        results = self.batch_ingester.ingest(items, origin=origin)
        if any(result.status == "accepted" for result in results):
            self.alerts.after_ingest()
            self.sync_index()
        return results

    # --- search and tags ----------------------------------------------------------------------
    def query_terms(self, text: str | None) -> list[str]:
        if not text or not text.strip():
            return []
        normalised = self.normalizer(text)
        return self.tokenizer.tokenize(normalised) or [normalised.strip().lower()]

    def build_query(self, text: str | None = None, *, filters: Filters | None = None,
                    **options: Any) -> SearchQuery:
        """Terms and the normalised text: a document matches on the words or on their characters."""
        typed = self.normalizer(text).strip() if text and text.strip() else ""
        return SearchQuery(terms=self.query_terms(text), text=typed, filters=filters or Filters(), **options)

    def search(self, text: str | None = None, *, filters: Filters | None = None, **options: Any) -> SearchResult:
        return self.index.search(self.build_query(text, filters=filters, **options))

    def tag(self, tag: str, *, ids: Sequence[str] = (), query: SearchQuery | None = None,
            remove: bool = False) -> int:
        """Tag (or untag) documents by id or by query; the store is updated first, then the index."""
        tag = tag.strip()
        if not tag:
            raise ValueError("a tag cannot be empty")
        targets = list(ids) if ids else self.index.ids_for(query) if query else []
        changed = self.store.remove_tag(tag, targets) if remove else self.store.add_tag(tag, targets)
        self.index.set_tags(tag, changed, present=not remove)
        return len(changed)

    def tag_counts(self) -> dict[str, int]:
        return self.store.tag_counts()


def _number(meta: dict[str, Any] | None, key: str) -> float | None:
    """A review's star rating ("rating") or a survey's score ("score") from a document's meta."""
    value = (meta or {}).get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _index_failure(exc: Exception) -> str:
    """Why the index failed, safe to show: a backend's own message is written for users and holds no
    secrets; anything else may quote document text, so only its type is named (details at debug level)."""
    if isinstance(exc, BackendUnavailable):
        return str(exc)
    log.debug("index sync after ingest failed", exc_info=True)
    return f"{type(exc).__name__} in the search index"


def parse_day(value: str | None) -> datetime | None:
    if not value:
        return None
    from voc.ingest.records import RowRejected, parse_time

    try:
        return parse_time(value)
    except RowRejected as exc:
        raise ValueError(f"cannot read the date {value!r}; use YYYY-MM-DD") from exc
