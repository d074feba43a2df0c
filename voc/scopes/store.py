"""Versions and audit of the organisation tree, on the document store's ``metadata``.

Like indicator versions (voc.indicators.tables), each version keeps the whole tree as JSON: a tree is
small and every reader wants it whole. A change and its audit entry commit in one transaction.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Engine, Integer, String, Table, Text, func, insert, select

from voc.scopes.tree import OrgTree
from voc.store import create_tables, metadata

org_versions = Table(
    "org_versions",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(256), nullable=False),
    Column("tree", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("author", String(128), nullable=False),
    Column("note", Text, nullable=False, default=""),
)

org_audit = Table(
    "org_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("version", Integer),
    Column("detail", JSON, nullable=False),
)


class OrgStore:
    """The stored trees. ``current()`` is cached by version number, so a request costs one tiny query."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(engine, [org_versions, org_audit])  # safe when several processes open a fresh store
        self._lock = threading.Lock()
        self._cached: OrgTree | None = None

    def latest_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.max(org_versions.c.version))) or 0)

    def tree(self, version: int | None = None) -> OrgTree | None:
        version = version or self.latest_version()
        if not version:
            return None
        with self._lock:
            if self._cached is not None and self._cached.version == version:
                return self._cached
        with self.engine.connect() as conn:
            row = conn.execute(select(org_versions.c.tree).where(org_versions.c.version == version)).first()
        if row is None:
            return None
        tree = OrgTree.from_dict({**row.tree, "version": version})
        with self._lock:
            if self._cached is None or self._cached.version <= version:
                self._cached = tree
        return tree

    def save(self, tree: OrgTree, *, author: str, note: str = "") -> int:
        """Store a new version; returns its number. The audit entry says what changed."""
        previous = self.tree()
        with self.engine.begin() as conn:
            version = int(conn.scalar(select(func.max(org_versions.c.version))) or 0) + 1
            tree.version = version
            data = tree.to_dict()
            conn.execute(insert(org_versions).values(version=version, name=tree.name, tree=data,
                                                     created_at=datetime.now(), author=author, note=note))
            conn.execute(insert(org_audit).values(at=datetime.now(), actor=author, action="import", version=version,
                                                  detail={"note": note, **_diff(previous, tree)}))
        return version

    def versions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(org_versions.c.version, org_versions.c.name, org_versions.c.created_at,
                                       org_versions.c.author, org_versions.c.note).order_by(org_versions.c.version))
            return [{"version": r.version, "name": r.name, "created_at": r.created_at.isoformat(timespec="seconds"),
                     "author": r.author, "note": r.note} for r in rows]

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(org_audit).order_by(org_audit.c.id.desc()).limit(limit))
            return [{"id": r.id, "at": r.at.isoformat(timespec="seconds"), "actor": r.actor, "action": r.action,
                     "version": r.version, "detail": r.detail} for r in rows]


def _diff(old: OrgTree | None, new: OrgTree) -> dict[str, Any]:
    """Nodes added, removed and moved or changed (ids), for the audit trail."""
    def flat(tree: OrgTree | None) -> dict[str, tuple[Any, ...]]:
        if tree is None:
            return {}
        return {node.id: (node.name, node.kind, tuple(node.values), getattr(tree.parent(node.id), "id", None))
                for node, _ in tree.walk()}

    before, after = flat(old), flat(new)
    return {"added": sorted(after.keys() - before.keys()), "removed": sorted(before.keys() - after.keys()),
            "changed": sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
            "nodes": len(after), "field": new.mapping_field}
