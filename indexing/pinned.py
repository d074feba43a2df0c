"""Pinned filters of the embedded index: an exact-match filter that many queries share (a data scope's
stores), kept as a set of doc_meta rows in a per-connection temp table.

Checking ``store IN (…)`` costs every full-text match a lookup of its doc_meta row; checking the
match's own rowid against an in-memory table of the allowed rows costs a small B-tree probe and lets
a ranked page skip doc_meta altogether (measured at 100,000 documents, a one-region scope of 25%: a
single-term page 1.17 → 0.64 ms mean, its total 0.99 → 0.47 ms; bench/bench_scopes.py). The table says
exactly what the IN list says: it is filled from doc_meta with that list, inside the query's read
snapshot, and refilled whenever doc_meta has changed (its insert/delete counter moved) since.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from indexing.base import Filters

MAX_PINNED = 32  # distinct pinned filters kept (one per scope in use); the least recently pinned go first
PINNABLE = {"source": "source", "channel": "channel", "industry": "industry", "product": "product",
            "store": "store"}  # Filters field -> doc_meta column


@dataclass(frozen=True, slots=True)
class Pin:
    field: str  # the Filters field it stands for
    table: str  # temp table of the rows (rid) whose column holds one of the values
    values: tuple[str, ...]


class PinnedFilters:
    """The pinned filters of one index; thread-safe. Which tables a connection has filled, and as of
    which doc_meta state, is kept per connection by the caller (``state``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: OrderedDict[tuple[str, frozenset[str]], Pin] = OrderedDict()
        self._serial = 0

    def pin(self, field: str, values: Collection[str]) -> None:
        if field not in PINNABLE or not values:
            return
        key = (field, frozenset(values))
        with self._lock:
            if key in self._pins:
                self._pins.move_to_end(key)
                return
            self._serial += 1
            self._pins[key] = Pin(field, f"pinned_{self._serial}", tuple(sorted(key[1])))
            while len(self._pins) > MAX_PINNED:
                self._pins.popitem(last=False)

    def find(self, filters: Filters) -> Pin | None:
        """The pin standing for one of the filters' value lists exactly, if any."""
        if not self._pins:
            return None
        with self._lock:
            for field in PINNABLE:
                values = getattr(filters, field)
                if values:
                    pin = self._pins.get((field, frozenset(values)))
                    if pin is not None:
                        return pin
        return None

    @staticmethod
    def ensure(conn: sqlite3.Connection, pin: Pin, state: dict[str, Any]) -> None:
        """Fill ``pin``'s temp table on ``conn`` unless it already holds doc_meta as it is now. Call
        inside the read snapshot of the query that uses it."""
        opened = not conn.in_transaction  # else sqlite3 would leave the DELETE's implicit transaction open
        if opened:
            conn.execute("BEGIN")
        try:
            changes = int(conn.execute("SELECT value FROM doc_meta_changes").fetchone()[0])
            if state.get(pin.table) == changes:
                return
            conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {pin.table} (rid INTEGER PRIMARY KEY)")
            conn.execute(f"DELETE FROM temp.{pin.table}")
            conn.execute(f"INSERT INTO temp.{pin.table} SELECT rid FROM doc_meta WHERE {PINNABLE[pin.field]} "
                         f"IN ({','.join('?' * len(pin.values))})", pin.values)
            state[pin.table] = changes
        finally:
            if opened:
                conn.commit()
