"""Files and folders under VOC_HOME readable by their owner only.

The store holds customer texts and API key hashes; other local users must not read it. Folders voc
creates are 0700 and the store database (with SQLite's -wal/-shm companions, which SQLite creates
with the database's own mode) is 0600, whatever the umask. Folders that existed before are left
alone: VOC_HOME may point into a directory the user shares on purpose.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents as 0700; an existing folder keeps its mode."""
    missing: list[Path] = []
    current = path.absolute()
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)  # the mode at creation: no window where others can look in
        except FileExistsError:
            continue  # another process made it first


def ensure_private_sqlite_file(path: Path) -> None:
    """Create an empty database file as 0600 (SQLite treats an empty file as a new database), or
    tighten an existing one and its companions when they are ours and readable by others."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE))
        return
    except FileExistsError:
        pass
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        _tighten(candidate)


def _tighten(path: Path) -> None:
    try:
        info = path.stat()
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            path.chmod(stat.S_IMODE(info.st_mode) & PRIVATE_FILE_MODE)
    except OSError:
        pass  # missing (no WAL yet), or a read-only file system where it cannot change and reading still works
