"""Reads and writes of the indicator tables; callers pass a connection so a change and its audit
entry commit together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from voc.indicators.model import IndicatorTree
from voc.indicators.tables import (
    TABLES,
    indicator_audit,
    indicator_mapped,
    indicator_mentions,
    indicator_suggestions,
    indicator_versions,
)
from voc.store import create_tables


class IndicatorStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(engine, TABLES)

    # --- tree versions ------------------------------------------------------------------------
    def latest_version(self, conn: Connection) -> int:
        return int(conn.scalar(select(func.max(indicator_versions.c.version))) or 0)

    def tree(self, conn: Connection, version: int | None = None) -> IndicatorTree | None:
        version = version or self.latest_version(conn)
        row = conn.execute(select(indicator_versions.c.tree).where(indicator_versions.c.version == version)).first()
        return IndicatorTree.from_dict(row.tree) if row else None

    def save_tree(self, conn: Connection, tree: IndicatorTree, author: str, note: str) -> int:
        previous = self.tree(conn)
        version = (previous.version if previous else 0) + 1
        tree.stamp(version, previous)
        conn.execute(insert(indicator_versions).values(
            version=version, name=tree.name, tree=tree.to_dict(), created_at=datetime.now(), author=author,
            note=note))
        return version

    def versions(self, conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(select(indicator_versions.c.version, indicator_versions.c.name,
                                   indicator_versions.c.created_at, indicator_versions.c.author,
                                   indicator_versions.c.note).order_by(indicator_versions.c.version))
        return [{"version": r.version, "name": r.name, "created_at": r.created_at.isoformat(timespec="seconds"),
                 "author": r.author, "note": r.note} for r in rows]

    # --- audit --------------------------------------------------------------------------------
    def audit(self, conn: Connection, actor: str, action: str, target: str | None, version: int | None,
              detail: dict[str, Any]) -> None:
        conn.execute(insert(indicator_audit).values(at=datetime.now(), actor=actor, action=action, target=target,
                                                    version=version, detail=detail))

    def audit_log(self, conn: Connection, limit: int = 200, target: str | None = None) -> list[dict[str, Any]]:
        query = select(indicator_audit).order_by(indicator_audit.c.id.desc()).limit(limit)
        if target:
            query = query.where(indicator_audit.c.target == target)
        return [{"id": r.id, "at": r.at.isoformat(timespec="seconds"), "actor": r.actor, "action": r.action,
                 "target": r.target, "version": r.version, "detail": r.detail} for r in conn.execute(query)]

    # --- suggestions --------------------------------------------------------------------------
    def suggestions(self, conn: Connection, status: Sequence[str] = ()) -> list[dict[str, Any]]:
        query = select(indicator_suggestions).order_by(indicator_suggestions.c.priority.desc(),
                                                       indicator_suggestions.c.id)
        if status:
            query = query.where(indicator_suggestions.c.status.in_(list(status)))
        return [_suggestion(row) for row in conn.execute(query)]

    def suggestion(self, conn: Connection, suggestion_id: str) -> dict[str, Any] | None:
        row = conn.execute(select(indicator_suggestions).where(indicator_suggestions.c.id == suggestion_id)).first()
        return _suggestion(row) if row else None

    def replace_pending(self, conn: Connection, items: Iterable[dict[str, Any]], tree_version: int) -> None:
        """Pending suggestions are recomputed whole; reviewed ones stay as they are."""
        now = datetime.now()
        conn.execute(delete(indicator_suggestions).where(indicator_suggestions.c.status == "pending"))
        reviewed = set(conn.scalars(select(indicator_suggestions.c.id)))
        rows = [{"id": item["id"], "status": "pending", "name": item["name"], "priority": item["priority"],
                 "fingerprint": item["fingerprint"], "payload": item, "created_at": now, "updated_at": now,
                 "tree_version": tree_version} for item in items if item["id"] not in reviewed]
        if rows:
            conn.execute(insert(indicator_suggestions), rows)

    def review(self, conn: Connection, suggestion_id: str, status: str, reviewer: str, reason: str | None,
               target: str | None, tree_version: int | None) -> None:
        now = datetime.now()
        conn.execute(update(indicator_suggestions).where(indicator_suggestions.c.id == suggestion_id).values(
            status=status, reviewer=reviewer, reviewed_at=now, reason=reason, target=target, updated_at=now,
            tree_version=tree_version))

    def clear_suggestions(self, conn: Connection) -> None:
        conn.execute(delete(indicator_suggestions))

    # --- mapping ------------------------------------------------------------------------------
    def mapped_ids(self, conn: Connection, version: int) -> set[str]:
        return set(conn.scalars(select(indicator_mapped.c.document_id).where(indicator_mapped.c.version == version)))

    def write_mapping(self, conn: Connection, version: int, document_ids: Sequence[str],
                      mentions: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(document_ids), 900):
            chunk = list(document_ids[start:start + 900])
            conn.execute(delete(indicator_mentions).where(indicator_mentions.c.document_id.in_(chunk)))
            conn.execute(delete(indicator_mapped).where(indicator_mapped.c.document_id.in_(chunk)))
        if document_ids:
            conn.execute(insert(indicator_mapped), [{"document_id": d, "version": version} for d in document_ids])
        if mentions:
            conn.execute(insert(indicator_mentions), [{**m, "version": version} for m in mentions])

    def mentions(self, conn: Connection, version: int) -> list[dict[str, Any]]:
        query = select(indicator_mentions).where(indicator_mentions.c.version == version)
        return [dict(row._mapping) for row in conn.execute(query)]

    def mapped_count(self, conn: Connection, version: int) -> int:
        query = select(func.count()).select_from(indicator_mapped).where(indicator_mapped.c.version == version)
        return int(conn.scalar(query) or 0)


def _suggestion(row: Any) -> dict[str, Any]:
    data = dict(row.payload)
    data.update(id=row.id, status=row.status, reviewer=row.reviewer, reason=row.reason, target=row.target,
                reviewed_at=row.reviewed_at.isoformat(timespec="seconds") if row.reviewed_at else None,
                created_at=row.created_at.isoformat(timespec="seconds"), tree_version=row.tree_version)
    return data
