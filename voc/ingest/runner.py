"""Ingest one file: read → validate → pipeline (in worker processes) → store, all or nothing.

A file that cannot be read stores nothing: it is read through once before any work (damaged bytes
anywhere, a missing column), and a failure found later takes back the batches already committed
(see `voc.ingest.run_writer`). Bad rows go to a rejects file with their row number and reason; ids
make re-ingest idempotent; PII is masked in workers before anything is written.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from voc.dedupe import NearDuplicateDetector
from voc.documents import SOURCE_KINDS, Document
from voc.ingest.encoding import UnreadableFileError
from voc.ingest.frame import Analyser, RowInput
from voc.ingest.limits import ReadLimits
from voc.ingest.readers import RawRecord, read_records
from voc.ingest.records import ColumnOptions, RowRejected, canonical_columns
from voc.ingest.run_writer import RunWriter
from voc.pipeline import Pipeline
from voc.settings import VocSettings
from voc.store import DocumentStore

log = logging.getLogger(__name__)

# Below this many bytes, starting worker processes (each loads jieba) costs more than it saves.
PARALLEL_MIN_BYTES = 2_000_000


@dataclass(slots=True)
class Reject:
    row: int
    reason: str
    values: dict[str, Any]


@dataclass(slots=True)
class ChunkResult:
    documents: list[Document]
    rejects: list[Reject]


@dataclass(slots=True)
class IngestReport:
    path: str
    source: str
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    near_duplicates: int = 0
    rejects_file: str | None = None
    run_id: int | None = None
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected,
                "rejects_file": self.rejects_file}


class IngestInterrupted(KeyboardInterrupt):
    """Ctrl-C during an ingest: ``report`` says what was stored; the same command again resumes."""

    def __init__(self, report: IngestReport) -> None:
        super().__init__(f"interrupted after storing {report.accepted} documents")
        self.report = report


class IndexBehind(Exception):
    """The file is stored, but the search index could not take the new documents: searches miss them
    until the index catches up (`voc index sync`, or the next ingest). Not "nothing stored": the
    report says what the store holds now."""

    def __init__(self, report: IngestReport, reason: str, pending: int) -> None:
        self.report = report
        self.reason = reason
        self.pending = pending
        super().__init__(
            f"stored {report.accepted} new documents ({report.duplicates} duplicates, {report.rejected} rejected), "
            f"but the search index is behind: {reason}. The documents are safe in the store; run "
            f"`voc index sync` when the index is reachable ({pending} documents waiting); searches miss them "
            "until then")


class RejectsFile:
    """The rejects file of one run: created on the first bad row, deleted if the run fails."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None

    @property
    def used(self) -> bool:
        return self._handle is not None

    def write(self, rejects: list[Reject]) -> None:
        for reject in rejects:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("w", encoding="utf-8")
            line = {"row": reject.row, "reason": reject.reason, "values": reject.values}
            self._handle.write(json.dumps(line, ensure_ascii=False) + "\n")

    def __enter__(self) -> RejectsFile:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self._handle is not None:
            self._handle.close()
            if exc_type is not None:  # a failed run stores nothing, its rejects file included
                self.path.unlink(missing_ok=True)


class ChunkProcessor:
    """Validates raw rows and runs the pipeline on those that pass. Runs inside worker processes."""

    def __init__(self, settings: VocSettings, source: str, options: ColumnOptions,
                 pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.source = source
        self.options = options
        self.analyser = Analyser(settings, pipeline)  # the one batch path (see voc.ingest.frame)
        self._mappings: dict[tuple[str, ...], dict[str, str]] = {}

    @property
    def pipeline(self) -> Pipeline:
        return self.analyser.pipeline

    def __call__(self, records: list[RawRecord]) -> ChunkResult:
        rejects: list[Reject] = []
        readable: list[RawRecord] = []
        for record in records:
            if record.problem:
                rejects.append(self._reject(record, record.problem))
            else:
                readable.append(record)
        docs: list[Document] = []
        results = self.analyser.documents([RowInput(self.source, record.values, self._mapping(record))
                                           for record in readable])
        for record, result in zip(readable, results, strict=True):
            if isinstance(result, RowRejected):
                rejects.append(self._reject(record, str(result)))
            else:
                docs.append(result)
        rejects.sort(key=lambda reject: reject.row)
        return ChunkResult(docs, rejects)

    def _mapping(self, record: RawRecord) -> dict[str, str]:
        keys = tuple(record.values)
        mapping = self._mappings.get(keys)
        if mapping is None:
            mapping = self._mappings[keys] = canonical_columns(self.source, list(keys), self.options)
        return mapping

    def _reject(self, record: RawRecord, reason: str) -> Reject:
        # The rejects file is stored data too, so it gets the same PII masking; long values are cut.
        mask = self.analyser.mask
        values = {mask(key): mask(str(value))[:500] for key, value in record.values.items()}
        return Reject(record.row, mask(reason), values)  # reasons may quote a value


_worker_processor: ChunkProcessor | None = None  # one per worker process, set by its initializer


def _init_worker(settings: VocSettings, source: str, options: ColumnOptions) -> None:
    global _worker_processor
    # Ctrl-C reaches the whole process group: the parent alone handles it (and ends the pool);
    # workers that also raised KeyboardInterrupt printed a traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_processor = ChunkProcessor(settings, source, options)


def _run_in_worker(records: list[RawRecord]) -> ChunkResult:
    assert _worker_processor is not None
    return _worker_processor(records)


def _chunks(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _bounded_parallel(pool: Any, chunks: Iterator[list[RawRecord]], in_flight: int) -> Iterator[ChunkResult]:
    """Ordered parallel map that never reads more than ``in_flight`` chunks ahead (Pool.imap would
    pull the whole file into memory)."""
    pending: deque[Any] = deque()
    for chunk in chunks:
        pending.append(pool.apply_async(_run_in_worker, (chunk,)))
        if len(pending) >= in_flight:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def check_file(path: Path, fmt: str | None, source: str, options: ColumnOptions,
               limits: ReadLimits | None = None) -> int:
    """Read the whole file once before any work, so that a file that cannot be read to its end
    (damaged bytes past the encoding sample, a broken workbook) fails before anything is stored or
    any pipeline time is spent. Parsing costs a small fraction of the pipeline. Returns the rows read."""
    rows = 0
    columns_checked = False
    for record in read_records(path, fmt, limits):
        rows += 1
        if not columns_checked and not record.problem:
            check_columns(path, source, options, list(record.values))
            columns_checked = True
    if not columns_checked:
        raise UnreadableFileError(f"{path}: no readable rows")
    return rows


def check_columns(path: Path, source: str, options: ColumnOptions, columns: list[str]) -> None:
    """Fail before storing anything when the requested or required columns are not in the file."""
    for flag, column in (("--text-col", options.text_col), ("--id-col", options.id_col),
                         ("--time-col", options.time_col)):
        if column and column not in columns:
            raise UnreadableFileError(f"{path}: {flag} {column!r} is not a column (columns: {columns})")
    mapped = set(canonical_columns(source, columns, options).values())
    if "text" not in mapped and not (source == "hotline" and "turns" in mapped):
        raise UnreadableFileError(
            f"{path}: no text column found among {columns}; name it with --text-col")


class Ingester:
    def __init__(self, settings: VocSettings, store: DocumentStore,
                 pipeline: Callable[[], Pipeline] | None = None,
                 unindex: Callable[[Sequence[str]], object] | None = None,
                 on_committed: Callable[[list[Document]], object] | None = None) -> None:
        """``pipeline`` gives the pipeline for files processed in this process (built only then);
        worker processes build their own. ``unindex`` removes documents from the search index: a
        failed run takes back what a concurrent index sync indexed of it. ``on_committed`` sees each
        batch's newly stored documents right after their commit (alert rules)."""
        self.settings = settings
        self.store = store
        self._pipeline = pipeline
        self._unindex = unindex
        self._on_committed = on_committed

    def ingest(self, path: Path, source: str, *, fmt: str | None = None,
               options: ColumnOptions | None = None,
               progress: Callable[[int], None] | None = None) -> IngestReport:
        options = options or ColumnOptions()
        if source not in SOURCE_KINDS:
            raise UnreadableFileError(f"unknown source {source!r}; use one of {', '.join(SOURCE_KINDS)}")
        started = datetime.now()
        report = IngestReport(path=str(path), source=source)
        limits = ReadLimits.from_settings(self.settings)
        check_file(path, fmt, source, options, limits)
        workers = self.settings.worker_count if path.stat().st_size >= PARALLEL_MIN_BYTES else 1
        rejects = RejectsFile(self._rejects_path(path, started))
        near_duplicates = NearDuplicateDetector(self.settings.near_duplicate_jaccard,
                                                self.settings.near_duplicate_window_days)
        writer = RunWriter.start(self.store, path=str(path), source=source, started=started,
                                 near_duplicates=near_duplicates)
        report.run_id = writer.run_id
        chunks = _chunks(read_records(path, fmt, limits), self.settings.batch_size)
        try:
            with rejects, closing(self._results(chunks, source, options, workers)) as results:
                for result in results:
                    committed = writer.store_batch(result.documents, report)
                    if committed and self._on_committed:
                        self._on_committed(committed)
                    rejects.write(result.rejects)
                    report.rejected += len(result.rejects)
                    if progress:
                        progress(len(result.documents) + len(result.rejects))
                report.rejects_file = str(rejects.path) if rejects.used else None
                report.seconds = (datetime.now() - started).total_seconds()
                writer.finish(report)
        except KeyboardInterrupt:
            # Ctrl-C is the user's choice, not a failure: keep the committed batches, and a re-run resumes
            # (documents already stored count as duplicates, so nothing is stored twice)
            report.rejects_file = None  # removed on the way out: the re-run rejects those rows again
            report.seconds = (datetime.now() - started).total_seconds()
            try:
                writer.interrupt(report)
            except Exception:  # the run stays "running"; what was committed is kept either way
                log.debug("could not mark ingest run %s interrupted", writer.run_id, exc_info=True)
            raise IngestInterrupted(report) from None
        except BaseException:  # any failure: a file stores all of its documents or none
            self._discard(writer)
            raise
        return report

    def _discard(self, writer: RunWriter) -> None:
        """The compensating rollback of a failed run; the original error is what the caller sees."""
        try:
            indexed = writer.discard()
            if indexed and self._unindex:
                self._unindex(indexed)
        except Exception as exc:  # the store or index is unavailable too: say what is left behind
            log.warning("ingest run %s failed and what it stored could not be taken back (%s); "
                        "ingesting the same file again completes it", writer.run_id, type(exc).__name__)

    def _results(self, chunks: Iterator[list[RawRecord]], source: str, options: ColumnOptions,
                 workers: int) -> Iterator[ChunkResult]:
        if workers <= 1:
            processor = ChunkProcessor(self.settings, source, options, self._pipeline() if self._pipeline else None)
            yield from (processor(chunk) for chunk in chunks)
            return
        context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with context.Pool(workers, initializer=_init_worker,
                          initargs=(self.settings, source, options)) as pool:
            yield from _bounded_parallel(pool, chunks, in_flight=workers * 2)

    def _rejects_path(self, path: Path, started: datetime) -> Path:
        stamp = started.strftime("%Y%m%dT%H%M%S%f")
        return self.settings.home / "rejects" / f"{path.stem}.{stamp}.rejects.jsonl"
