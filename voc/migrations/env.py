"""Alembic's entry point: migrations run on the connection voc.migrations.upgrade_store hands over."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("voc's migrations run through voc.migrations.upgrade_store (a store connection)")
# render_as_batch: SQLite cannot ALTER most things in place; batch mode copies the table instead
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
