"""Schema migrations (Alembic): a store made by the release before migrations is upgraded in place and keeps
its data; a fresh store gets exactly the application's tables; the revisions never drift from the tables.

The store is SQLite here and PostgreSQL in scripts/test.sh's PostgreSQL pass (VOC_DATABASE_URL)."""

from __future__ import annotations

import importlib
import os
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, func, insert, inspect, select, text

from voc.migrations import current_revision, head_revision, upgrade_store
from voc.store import DocumentStore, documents, metadata

TABLE_MODULES = ("api.auth", "voc.alerts.tables", "voc.indicators.tables", "voc.scopes.store", "voc.tickets.tables",
                 "voc.topics.store")


def _url(tmp_path: Path) -> str:
    return os.environ.get("VOC_DATABASE_URL") or f"sqlite:///{tmp_path / 'voc.sqlite'}"


def _previous_release_store(url: str) -> Engine:
    """A store as the release before migrations left it: its tables, no alembic_version, and (because that
    release created a table only once its module was used) no topic tables yet."""
    engine = create_engine(url)
    upgrade_store(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("DROP TABLE topics"))
        conn.execute(insert(documents).values(
            id="d" * 24, source="review", external_id="r1", text="快递太慢了", text_original="快递太慢了",
            ingested_at=datetime(2026, 11, 1), meta={}, turns=[], tokens="快递 太 慢", search_terms="快递",
            pii=[], analysis={}, indexed=True))
        conn.execute(text("INSERT INTO api_keys (id, key_hash, role, name, created_at) "
                          "VALUES ('k1', 'h', 'researcher', 'old key', '2026-11-01 00:00:00')"))
    return engine


def test_a_store_from_the_release_before_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    url = _url(tmp_path)
    old = _previous_release_store(url)
    assert "alert_rules" not in inspect(old).get_table_names()
    store = DocumentStore(url)  # opening it migrates it
    try:
        names = set(inspect(store.engine).get_table_names())
        assert {"alerts", "tickets", "org_versions", "topics"} <= names
        assert "scope" in {c["name"] for c in inspect(store.engine).get_columns("api_keys")}
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert conn.scalar(select(documents.c.text).where(documents.c.external_id == "r1")) == "快递太慢了"
            assert conn.execute(text("SELECT name, scope FROM api_keys")).one() == ("old key", None)
    finally:
        store.close()
        old.dispose()
    again = DocumentStore(url)  # an up-to-date store is left as it is
    try:
        with again.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(documents)) == 1
    finally:
        again.close()


def test_fresh_store_matches_the_application_tables(tmp_path: Path) -> None:
    for module in TABLE_MODULES:  # every module that puts tables on the store's metadata
        importlib.import_module(module)

    engine = create_engine(_url(tmp_path))
    upgrade_store(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == [], f"the tables and the newest migration differ; add a revision in voc/migrations: {diff}"


def test_a_store_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    engine = create_engine(_url(tmp_path))
    upgrade_store(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(Exception, match="9999"):
        upgrade_store(engine)
    engine.dispose()
