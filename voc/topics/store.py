"""Persistence of topics and topic builds (tables on the document store's metadata)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, Table, func, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from voc.store import create_tables, documents, metadata

log = logging.getLogger(__name__)

# A running build owned by another host (a shared PostgreSQL store) cannot be checked for life: it is
# stale once its heartbeat (renewed at every build step) is this old.
STALE_AFTER = timedelta(hours=6)

topics_table = Table(
    "topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("label", String(256), nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("size", Integer, nullable=False),
    Column("negative_share", Float, nullable=False),
    Column("quotes", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # active | retired
    Column("first_build", Integer, nullable=False),
    Column("last_build", Integer, nullable=False),
)

topic_builds = Table(
    "topic_builds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("scope", JSON, nullable=False),
    Column("n_documents", Integer, nullable=False, default=0),
    Column("n_topics", Integer, nullable=False, default=0),
    Column("outlier_share", Float),
    Column("timings", JSON),
    Column("hierarchy", JSON),
    Column("status", String(16), nullable=False),  # running | done | failed; the newest done build is current
    Column("owner", String(300)),  # "host pid" of the process running the build, to tell a dead one
    Column("heartbeat_at", DateTime),
    Column("error", String(500)),  # why a build failed (never document text)
)
# Columns added after the first release: a store created before them gets them on open.
_ADDED_BUILD_COLUMNS = {"owner": "VARCHAR(300)", "heartbeat_at": "TIMESTAMP", "error": "VARCHAR(500)"}


class BuildRunning(ValueError):
    """Another live process is building topics: a second build would race it for the same ids."""


class BuildCleared(RuntimeError):
    """This build was declared stale and cleared while it ran: its results must not be committed."""


def owner_of(pid: int) -> str:
    return f"{socket.gethostname()} {pid}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive, in UTC, like every timestamp of the store


@dataclass(slots=True)
class Topic:
    id: int
    label: str
    keywords: list[str]
    size: int
    negative_share: float
    quotes: list[str]
    status: str = "active"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return {**data, **self.extra}


def _topic(row: Any) -> Topic:
    return Topic(row.id, row.label, list(row.keywords), row.size, row.negative_share, list(row.quotes), row.status)


class TopicStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(engine, [topics_table, topic_builds])
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        present = {column["name"] for column in inspect(self.engine).get_columns(topic_builds.name)}
        missing = {name: kind for name, kind in _ADDED_BUILD_COLUMNS.items() if name not in present}
        if not missing:
            return
        try:
            with self.engine.begin() as conn:
                for name, kind in missing.items():
                    conn.execute(text(f"ALTER TABLE {topic_builds.name} ADD COLUMN {name} {kind}"))
        except SQLAlchemyError as exc:  # a read-only store: topics can still be read, builds wait for a writable one
            log.warning("topic_builds not upgraded (%s)", type(exc).__name__)

    def list_topics(self, include_retired: bool = False) -> list[Topic]:
        query = select(topics_table).order_by(topics_table.c.size.desc(), topics_table.c.id)
        if not include_retired:
            query = query.where(topics_table.c.status == "active")
        with self.engine.connect() as conn:
            return [_topic(row) for row in conn.execute(query)]

    def get(self, topic_id: int) -> Topic | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(topics_table).where(topics_table.c.id == topic_id)).first()
        return _topic(row) if row else None

    def document_ids(self, topic_id: int, limit: int | None = None) -> list[str]:
        query = select(documents.c.id).where(documents.c.topic_id == topic_id).order_by(documents.c.id)
        with self.engine.connect() as conn:
            return list(conn.execute(query.limit(limit) if limit else query).scalars())

    def next_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(topics_table.c.id))).scalar() or 0) + 1

    def start_build(self, scope: dict[str, Any]) -> int:
        """Record a running build owned by this process; refuse while another live process builds.

        The row is written first and the check made after, so of two builds started at once the
        later (higher id) always sees the earlier one and gives way.
        """
        now = _now()
        with self.engine.begin() as conn:
            result = conn.execute(topic_builds.insert().values(started_at=now, heartbeat_at=now, scope=scope,
                                                               status="running", owner=owner_of(os.getpid())))
            build_id = int(result.inserted_primary_key[0])
        self.clear_stale_builds()
        with self.engine.connect() as conn:
            earlier = conn.execute(select(topic_builds.c.id).where(topic_builds.c.status == "running",
                                                                   topic_builds.c.id < build_id)).scalars().first()
        if earlier is not None:
            self.finish_build(build_id, status="failed", error=f"topic build {earlier} was already running")
            raise BuildRunning(f"topic build {earlier} is already running; wait for it to finish "
                               "(`voc topics status` shows it)")
        return build_id

    def heartbeat(self, build_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(topic_builds).where(topic_builds.c.id == build_id).values(heartbeat_at=_now()))

    def finish_build(self, build_id: int, *, status: str, conn: Connection | None = None, **values: Any) -> None:
        """Close a build. Marking it done is its commit (pass the transaction of its topics and assignments
        as ``conn``) and needs it still running: a build cleared as stale meanwhile commits nothing."""
        statement = update(topic_builds).where(topic_builds.c.id == build_id)
        if status == "done":
            statement = statement.where(topic_builds.c.status == "running")
        statement = statement.values(finished_at=_now(), status=status, **values)
        if conn is None:
            with self.engine.begin() as own:
                own.execute(statement)
        elif conn.execute(statement).rowcount != 1:
            raise BuildCleared(f"topic build {build_id} was cleared as stale while it ran; nothing committed")

    def clear_stale_builds(self) -> list[dict[str, Any]]:
        """Mark failed every running build whose process is gone; returns those builds."""
        with self.engine.connect() as conn:
            running = [dict(row._mapping) for row in conn.execute(
                select(topic_builds).where(topic_builds.c.status == "running"))]
        cleared = []
        for build in running:
            reason = _stale_reason(build)
            if reason is None:
                continue
            with self.engine.begin() as conn:
                done = conn.execute(update(topic_builds).where(topic_builds.c.id == build["id"],
                                                               topic_builds.c.status == "running")
                                    .values(status="failed", finished_at=_now(), error=reason))
            if done.rowcount:
                log.warning("topic build %s cleared: %s", build["id"], reason)
                cleared.append({**build, "status": "failed", "error": reason})
        return cleared

    def running_build_ids(self) -> set[int]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(topic_builds.c.id).where(topic_builds.c.status == "running")).scalars())

    def recent_builds(self, limit: int = 10) -> list[dict[str, Any]]:
        query = select(topic_builds).order_by(topic_builds.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def recent_done_ids(self, limit: int = 2) -> list[int]:
        query = (select(topic_builds.c.id).where(topic_builds.c.status == "done")
                 .order_by(topic_builds.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def latest_build(self) -> dict[str, Any] | None:
        query = (select(topic_builds).where(topic_builds.c.status == "done")
                 .order_by(topic_builds.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return dict(row._mapping) if row else None

    def replace_topics(self, conn: Connection, build_id: int, topics: Sequence[Topic]) -> None:
        """The build's topics become the active set; topics it did not carry over are retired.

        Runs in the caller's transaction: the build commits its topics and assignments together."""
        keep = {topic.id for topic in topics}
        existing = {row.id: row.first_build for row in conn.execute(select(topics_table.c.id,
                                                                           topics_table.c.first_build))}
        conn.execute(update(topics_table).where(topics_table.c.id.not_in(keep)).values(status="retired"))
        for topic in topics:
            values = {"label": topic.label, "keywords": topic.keywords, "size": topic.size,
                      "negative_share": topic.negative_share, "quotes": topic.quotes, "status": "active",
                      "last_build": build_id}
            if topic.id in existing:
                conn.execute(update(topics_table).where(topics_table.c.id == topic.id).values(**values))
            else:
                conn.execute(topics_table.insert().values(id=topic.id, first_build=build_id, **values))


def _stale_reason(build: dict[str, Any]) -> str | None:
    """Why a running build is dead, or None while its process may still be working on it."""
    owner = build.get("owner")
    if not owner:
        return "no owner recorded (started by an earlier voc version): its process is gone or unknown"
    host, _, pid_text = owner.rpartition(" ")
    if host == socket.gethostname():
        pid = int(pid_text)
        try:
            started = psutil.Process(pid).create_time()
        except psutil.NoSuchProcess:
            return f"its process ({pid}) has exited without finishing the build"
        # a live process that started after the build is another program that reuses the pid
        if started > build["started_at"].replace(tzinfo=UTC).timestamp() + 1:
            return f"its process ({pid}) has exited without finishing the build"
        return None
    last_seen = build.get("heartbeat_at") or build["started_at"]
    if _now() - last_seen > STALE_AFTER:
        return f"no sign of life from its process on {host} since {last_seen:%Y-%m-%d %H:%M} UTC"
    return None
