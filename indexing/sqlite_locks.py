"""Taking SQLite's locks on the embedded index when other processes use the same file."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from indexing import BackendUnavailable

SQLITE_BUSY, SQLITE_LOCKED = 5, 6
T = TypeVar("T")


class IndexBusy(BackendUnavailable):
    """Another process held the embedded index for longer than the busy timeout."""

    def __init__(self) -> None:
        super().__init__("the search index is busy: another process kept it locked for too long; try again")


def is_busy(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


def retry_busy(work: Callable[[], T], timeout_s: float) -> T:
    """``work()``, again while SQLite answers BUSY, for up to ``timeout_s``. The connection's busy
    handler waits for most locks by itself; not for all: switching a new file to WAL while another
    process opens it, or a writer finishing WAL recovery, answer BUSY at once."""
    deadline = time.monotonic() + timeout_s
    pause = 0.01
    while True:
        try:
            return work()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise IndexBusy from None
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def begin_immediate(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Start a write transaction now (waiting for other writers), not at the first write."""
    retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"), timeout_s)
