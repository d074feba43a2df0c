"""The PostgreSQL server tests use: the `voc pg` node named by VOC_PG_* (scripts/test.sh starts one per
checkout), read once at import time because the suite's autouse fixture clears VOC_* per test.

``VOC_TEST_STORE=postgres`` runs a test module with every store on that server instead of SQLite: each
test gets a database of its own (created before, dropped after), so tests stay independent.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from voc.pg_node import PgConfig, PgNode, PgNodeError

_ENV = {key: value for key, value in os.environ.items() if key.startswith("VOC_PG_") or key == "XDG_CACHE_HOME"}
STORE = os.environ.get("VOC_TEST_STORE", "sqlite")
_probe: tuple[PgNode | None, str] | None = None


def pg_node() -> tuple[PgNode | None, str]:
    """(node, "") when the local server answers; (None, why) otherwise. Cached per process."""
    global _probe
    if _probe is None:
        try:
            node = PgNode(PgConfig.from_env(_ENV))
            if node.saved_password() is None or not node.running():
                _probe = (None, f"no local PostgreSQL server at {node.node_dir} (run `voc pg start`)")
            else:
                _probe = (node, "")
        except PgNodeError as exc:
            _probe = (None, str(exc))
    return _probe


@contextmanager
def fresh_database(node: PgNode) -> Iterator[str]:
    """A new empty database on the node, dropped afterwards; yields its store URL (with password)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    node.create_database(name)
    try:
        yield node.url(database=name)
    finally:
        node.drop_database(name)
