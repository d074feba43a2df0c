"""One clear line for a store or file system that refuses: disk full, read-only, no permission, busy.

Such a failure is no bug to debug from a traceback, and a traceback would quote SQL and, before the
engine hid them, its parameters (document text). The line says what failed, why, where, and what to
do; the command exits with ``EXIT_STORAGE``.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from pathlib import Path

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

EXIT_STORAGE = 4  # the same code `voc ingest` uses when the store refuses a write
STORAGE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, sqlite3.Error, OSError)

_ERRNO_REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "no such file or folder",
}
# SQLite's result codes (extended ones such as SQLITE_READONLY_DBMOVED share a prefix)
_SQLITE_REASONS = (
    ("SQLITE_FULL", "disk full"),
    ("SQLITE_READONLY", "read-only: the database file or its folder cannot be written"),
    ("SQLITE_CANTOPEN", "cannot open the database file (missing folder, or no permission)"),
    ("SQLITE_BUSY", "busy: another process holds the write lock"),
    ("SQLITE_LOCKED", "busy: another process holds the write lock"),
    ("SQLITE_IOERR", "disk I/O error (often a full or read-only disk)"),
    ("SQLITE_CORRUPT", "the database file is damaged"),
    ("SQLITE_NOTADB", "the file is not a database"),
    ("SQLITE_PERM", "permission denied"),
)
_HINTS = {
    "disk full": "free some space and run the command again",
    "disk quota exceeded": "free some space and run the command again",
    "read-only file system": "point VOC_HOME at a writable folder, or use a command that only reads",
    "permission denied": "check who owns VOC_HOME, or point VOC_HOME at a folder you can write",
}
# What SQLite and the OS answer when a file cannot be created or written in a read-only place
_WRITE_REFUSALS = frozenset({
    "read-only: the database file or its folder cannot be written",
    "cannot open the database file (missing folder, or no permission)",
    "disk I/O error (often a full or read-only disk)", "read-only file system", "permission denied",
})
_CREDENTIALS_IN_URL = re.compile(r"([a-zA-Z][\w+.-]*://[^:/@\s]*):[^@\s]*@")
_WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "REPLACE", "PRAGMA")


def storage_failure_message(exc: BaseException, home: Path | None = None) -> str:
    """``exc`` as one line without SQL, parameters or credentials."""
    what = _what_failed(exc)
    reason = _reason(exc)
    if home is not None and reason in _WRITE_REFUSALS and _read_only(home):
        return (f"{what} failed: VOC_HOME {home} is read-only here; commands that only read the document store "
                "work (show, tag list, keys list, topics list, config), this one needs to write: point VOC_HOME "
                "at a writable folder")
    where = f" (VOC_HOME {home})" if home is not None else ""
    hint = _HINTS.get(reason.split(":")[0])
    return f"{what} failed{where}: {reason}" + (f"; {hint}" if hint else "")


def _read_only(home: Path) -> bool:
    """A read-only mount, or a folder this user may not write (``access`` answers both, for root too)."""
    return home.is_dir() and not os.access(home, os.W_OK)


def _what_failed(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError):
        statement = (exc.statement or "").lstrip().upper()
        if statement.startswith("SELECT"):
            return "reading the database"
        return "writing to the database" if statement.startswith(_WRITES) else "opening the database"
    if isinstance(exc, sqlite3.Error):
        return "the search index database"
    if isinstance(exc, OSError) and exc.filename:
        return f"writing or reading {exc.filename}"
    return "a storage operation"


def _reason(exc: BaseException) -> str:
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(cause, sqlite3.Error):
        name = getattr(cause, "sqlite_errorname", "") or ""
        for prefix, reason in _SQLITE_REASONS:
            if name.startswith(prefix):
                return reason
    if isinstance(cause, OSError) and cause.errno in _ERRNO_REASONS:
        return _ERRNO_REASONS[cause.errno]
    # The driver's own first line ("database is locked", "could not connect to server"); a database
    # server's DETAIL lines, which may quote row values, are dropped.
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return _CREDENTIALS_IN_URL.sub(r"\1:***@", first)[:200]
