"""Persistence of topics and topic builds (tables on the document store's metadata)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, Table, func, select, update
from sqlalchemy.engine import Engine

from voc.store import documents, metadata

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
    Column("status", String(16), nullable=False),
)


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
        metadata.create_all(engine, tables=[topics_table, topic_builds])

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
        with self.engine.begin() as conn:
            result = conn.execute(topic_builds.insert().values(started_at=datetime.now(UTC).replace(tzinfo=None),
                                                               scope=scope, status="running"))
            return int(result.inserted_primary_key[0])

    def finish_build(self, build_id: int, *, status: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(topic_builds).where(topic_builds.c.id == build_id).values(
                finished_at=datetime.now(UTC).replace(tzinfo=None), status=status, **values))

    def latest_build(self) -> dict[str, Any] | None:
        query = (select(topic_builds).where(topic_builds.c.status == "done")
                 .order_by(topic_builds.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return dict(row._mapping) if row else None

    def replace_topics(self, build_id: int, topics: Sequence[Topic]) -> None:
        """The build's topics become the active set; topics it did not carry over are retired."""
        keep = {topic.id for topic in topics}
        with self.engine.begin() as conn:
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
