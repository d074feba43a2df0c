"""A damaged embedded index file: saying so clearly, and moving it aside for a rebuild.

The document store is the truth and the index is derived from it, so a damaged index loses nothing:
`voc index rebuild` moves the file aside (kept for a post-mortem, never deleted) and builds a new
one. Until then every use of the index raises IndexDamaged, which the CLI prints as one line and the
API answers with 503 and the reason, instead of a traceback or a 500.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from indexing import BackendUnavailable

SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_NOTADB = 10, 11, 26
_DAMAGE_CODES = {SQLITE_IOERR: "unreadable", SQLITE_CORRUPT: "malformed", SQLITE_NOTADB: "not a database"}
SIDE_FILES = ("-wal", "-shm")


class IndexDamaged(BackendUnavailable):
    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"the search index file {path.name} is damaged ({why}); run `voc index rebuild` "
                         "to rebuild it from the document store (nothing stored is lost)")
        self.why = why


def damage_reason(exc: BaseException) -> str | None:
    """Why SQLite could not use the file, when the error says the file itself is bad."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    return _DAMAGE_CODES.get(getattr(exc, "sqlite_errorcode", 0) & 0xFF)


def file_identity(path: Path) -> tuple[int, int] | None:
    """Which file sits at ``path`` (device, inode), to notice it was replaced, e.g. by a rebuild."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def check_file(path: Path) -> str | None:
    """None when the index file is sound (or absent); else why not. Reads every page (quick_check)."""
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(path, timeout=30)) as conn:
            result = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        reason = damage_reason(exc)
        if reason is None:
            raise
        return reason
    return None if result == "ok" else "malformed"


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename the index file (and its WAL files) to ``<name>.damaged-<time>``; returns the new path."""
    stamp = (now or datetime.now()).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", *SIDE_FILES):
        source = path.with_name(path.name + suffix)
        if source.exists():
            os.replace(source, target.with_name(target.name + suffix))
    return target


class _Reopens(Protocol):
    path: Path

    def _reopen_if_replaced(self) -> bool: ...


Self = TypeVar("Self", bound=_Reopens)
P = ParamSpec("P")
R = TypeVar("R")


def reports_damage(method: Callable[Concatenate[Self, P], R]) -> Callable[Concatenate[Self, P], R]:
    """A damaged file raises IndexDamaged (a clear reason, then `voc index rebuild`), not a raw SQLite
    error; if the file was replaced meanwhile (rebuilt by another process), the call runs again on it."""

    @functools.wraps(method)
    def guarded(self: Self, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            reason = damage_reason(exc)
            if reason is None:
                raise
            if not self._reopen_if_replaced():
                raise IndexDamaged(self.path, reason) from None
        return method(self, *args, **kwargs)

    return guarded
