"""Schema migrations of the store (Alembic): every store is brought to the newest revision when it opens.

Revisions live in ``versions/``. A store made before migrations has tables but no ``alembic_version``: its
upgrade starts from the first revision, whose tables are created only where missing, so such a store keeps
its data and gains what it lacks. On PostgreSQL the upgrade holds an advisory lock, so API workers and an
ingest opening one fresh shared store at the same moment migrate it once.

A schema change is a new revision in ``versions/`` (a frozen ``sa.Table`` copy of what it adds, as in the
two here; ``script.py.mako`` is the template); ``tests/test_migrations.py`` fails while the application's
tables and the newest revision differ.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

HERE = Path(__file__).resolve().parent
# pg_advisory_xact_lock key for schema changes ("voc " as a 32-bit number), shared with voc.store
SCHEMA_LOCK = 0x766F6320


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


@cache  # the revisions ship with the code: read their files once per process
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration revisions in {HERE / 'versions'}")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_store(engine: Engine, revision: str = "head") -> None:
    """Bring the store to ``revision`` (default: the newest), in one transaction."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        if revision == "head" and current_revision(conn) == head_revision():
            return  # the common case: opening an up-to-date store costs one query
        command.upgrade(alembic_config(conn), revision)
