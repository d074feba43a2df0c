"""Long work (large uploads) as jobs: a row in the store with status and progress, run in a background
thread of the worker that accepted it. Any worker can answer ``GET /v1/jobs/{id}``: the state lives in
the store, not in memory.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    update,
)

from api.db import ensure_table

log = logging.getLogger("voc.api")

# Its own metadata: on SQLite the jobs live in their own file (see `jobs_engine`), so the document
# store's create_all should not make an empty copy of this table.
jobs_metadata = MetaData()
api_jobs = Table(
    "api_jobs",
    jobs_metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # queued | running | succeeded | failed
    Column("owner", String(16)),  # id of the API key that started it
    Column("progress", Integer, nullable=False, default=0),
    Column("total", Integer),
    Column("result", JSON),
    Column("error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
)

JOB_STATUSES = ("queued", "running", "succeeded", "failed")
ProgressFn = Callable[[int], None]
# A failure message can quote its input (a 5 MB header line was once echoed whole); every
# `GET /v1/jobs/{id}` would return it again. What helps a client fits in a few lines.
MAX_ERROR_CHARS = 500


def bounded_error(message: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``message`` as a job stores and shows it: at most ``limit`` characters, then a marker saying
    how much was cut."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}… [{len(message) - limit:,} more characters cut]"


def jobs_engine(store_engine: Engine, home: Path) -> Engine:
    """Where jobs are kept: the store's database, except on SQLite, whose single writer lock a file
    ingest takes for each batch it stores; job progress writes need not queue behind those."""
    if store_engine.dialect.name != "sqlite":
        return store_engine
    home.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{home / 'jobs.sqlite'}")
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class JobFailed(Exception):
    """Raised by a job for an expected failure; its message is shown to the client as is."""


@dataclass(slots=True)
class Job:
    id: str
    kind: str
    status: str
    owner: str | None
    progress: int
    total: int | None
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobRunner:
    """One job at a time per worker (jobs are heavy; queued ones wait their turn)."""

    def __init__(self, engine: Engine, progress_interval: float = 0.5) -> None:
        self.engine = engine
        ensure_table(api_jobs, engine)
        self.progress_interval = progress_interval
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, kind: str, owner: str | None, work: Callable[[ProgressFn], dict[str, Any]],
               total: int | None = None) -> str:
        job_id = uuid.uuid4().hex
        now = datetime.now()
        with self.engine.begin() as conn:
            conn.execute(api_jobs.insert().values(id=job_id, kind=kind, status="queued", owner=owner, progress=0,
                                                  total=total, created_at=now, updated_at=now))
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voc-job")
            self._executor.submit(self._run, job_id, work)
        return job_id

    def get(self, job_id: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_jobs).where(api_jobs.c.id == job_id)).first()
        if row is None:
            return None
        job = Job(**row._mapping)
        job.error = bounded_error(job.error) if job.error else job.error  # rows stored before the bound
        return job

    def wait(self, job_id: str, timeout: float = 60.0) -> Job | None:
        """Poll until the job has finished (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job is None or job.status in ("succeeded", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    def shutdown(self) -> None:
        """Wait for the running job; queued ones are dropped (they stay "queued" in the store)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _update(self, job_id: str, **values: Any) -> None:
        if values.get("error"):
            values["error"] = bounded_error(values["error"])
        with self.engine.begin() as conn:
            conn.execute(update(api_jobs).where(api_jobs.c.id == job_id).values(updated_at=datetime.now(), **values))

    def _run(self, job_id: str, work: Callable[[ProgressFn], dict[str, Any]]) -> None:
        self._update(job_id, status="running")
        done = 0
        last_write = 0.0

        def progress(advance: int) -> None:
            nonlocal done, last_write
            done += advance
            if time.monotonic() - last_write >= self.progress_interval:  # not one write per batch
                last_write = time.monotonic()
                self._update(job_id, progress=done)

        try:
            result = work(progress)
        except JobFailed as exc:
            self._update(job_id, status="failed", error=str(exc), progress=done, finished_at=datetime.now())
        except Exception:
            log.exception("job %s failed", job_id)
            self._update(job_id, status="failed", error="internal error; it has been logged", progress=done,
                         finished_at=datetime.now())
        else:
            self._update(job_id, status="succeeded", result=result, progress=max(done, result.get("processed", 0)),
                         finished_at=datetime.now())
