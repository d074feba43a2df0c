"""Facet columns of the embedded index held in memory as integer codes, as Lucene's doc values.

Counting a facet over the matches of a common term is then one numpy bincount over their rows,
where an SQL GROUP BY sorts every match through a temporary B-tree (measured: 7 facets over the
17,000 matches of 不错 in 100,000 documents took 80 ms in SQL). The arrays follow doc_meta by its
change counter: rows only added are appended; anything else (a delete, a replacement, a clear)
reloads the columns whole.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class _Columns:
    """One immutable state of the columns: readers keep using it while a refresh builds the next."""

    changes: int  # doc_meta_changes.value when loaded
    rids: np.ndarray  # ascending: rows are only ever appended with larger rids between reloads
    codes: dict[str, np.ndarray]  # column -> code per row (0 stands for NULL)
    values: dict[str, list[Any]]  # column -> value per code (index 0 is None)

    @classmethod
    def empty(cls, columns: Sequence[str]) -> _Columns:
        return cls(-1, np.zeros(0, dtype=np.int64), {c: np.zeros(0, dtype=np.int32) for c in columns},
                   {c: [None] for c in columns})


class DocValues:
    """Facet counts for sets of doc_meta rows; safe to share between threads."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self._lock = threading.Lock()
        self._state = _Columns.empty(self.columns)

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Bring the columns up to date with what ``conn`` sees (cheap when nothing changed)."""
        changes = int(conn.execute("SELECT value FROM doc_meta_changes").fetchone()[0])
        if changes <= self._state.changes:  # unchanged, or this snapshot is older than the columns
            return
        with self._lock:  # one thread loads; the others wait for its result instead of loading too
            state = self._state
            if changes <= state.changes:
                return
            count = int(conn.execute("SELECT count(*) FROM doc_meta").fetchone()[0])
            rows: list[Any] = []
            if state.changes >= 0:
                rows = conn.execute(f"SELECT rid, {', '.join(self.columns)} FROM doc_meta WHERE seq > ? "
                                    "ORDER BY rid", (state.changes,)).fetchall()
            appended_only = state.changes >= 0 and len(state.rids) + len(rows) == count and (
                not rows or not len(state.rids) or rows[0][0] > state.rids[-1])
            if not appended_only:
                rows = conn.execute(f"SELECT rid, {', '.join(self.columns)} FROM doc_meta ORDER BY rid").fetchall()
                state = _Columns.empty(self.columns)
            self._state = self._extend(state, changes, rows)

    def _extend(self, state: _Columns, changes: int, rows: list[Any]) -> _Columns:
        columns = list(zip(*rows, strict=True)) if rows else [()] * (len(self.columns) + 1)
        rids = np.fromiter(columns[0], dtype=np.int64, count=len(rows))
        codes, values = {}, {}
        for column, cells in zip(self.columns, columns[1:], strict=True):
            known = list(state.values[column])
            code_of = {value: code for code, value in enumerate(known)}
            for value in dict.fromkeys(cells):  # new values get the next codes, in order of appearance
                if value not in code_of:
                    code_of[value] = len(known)
                    known.append(value)
            new = np.fromiter(map(code_of.__getitem__, cells), dtype=np.int32, count=len(rows))
            codes[column] = np.concatenate([state.codes[column], new])
            values[column] = known
        return _Columns(changes, np.concatenate([state.rids, rids]), codes, values)

    def keep(self, rids: np.ndarray | None, wanted: dict[str, Sequence[Any]]) -> np.ndarray:
        """The given rows (every row when ``rids`` is None) whose value of each column is one of its
        wanted values: exact-match filters applied in memory, without a join per row."""
        state = self._state
        positions = np.arange(len(state.rids)) if rids is None else self._positions(state, rids)
        for column, values in wanted.items():
            code_of = {value: code for code, value in enumerate(state.values[column]) if code}
            codes = np.fromiter((code_of[v] for v in values if v in code_of), dtype=np.int32)
            positions = positions[np.isin(state.codes[column][positions], codes)]
        return state.rids[positions]

    @staticmethod
    def _positions(state: _Columns, rids: np.ndarray) -> np.ndarray:
        positions = np.searchsorted(state.rids, rids)
        inside = positions < len(state.rids)
        positions = positions[inside]
        return positions[state.rids[positions] == rids[inside]]

    def counts(self, rids: np.ndarray | None, columns: Sequence[str]) -> dict[str, dict[Any, int]]:
        """Per column, value -> number of the given rows holding it (NULLs left out); every row
        when ``rids`` is None. Rows the columns do not hold yet are not counted."""
        state = self._state
        positions = None if rids is None else self._positions(state, rids)
        result: dict[str, dict[Any, int]] = {}
        for column in columns:
            codes = state.codes[column] if positions is None else state.codes[column][positions]
            tally = np.bincount(codes, minlength=len(state.values[column]))
            result[column] = {state.values[column][code]: int(tally[code]) for code in np.flatnonzero(tally)
                              if code != 0}
        return result
