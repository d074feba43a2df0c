"""Creating the API's tables safely when several server workers start at once."""

from __future__ import annotations

from sqlalchemy import Engine, Table, inspect
from sqlalchemy.exc import DBAPIError


def ensure_table(table: Table, engine: Engine) -> None:
    """Create ``table`` unless it exists. Two workers may both see it missing and both create it; the
    loser's "already exists" error is not an error."""
    try:
        table.create(engine, checkfirst=True)
    except DBAPIError:
        if not inspect(engine).has_table(table.name):
            raise
