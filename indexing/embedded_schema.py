"""The embedded index's tables, and the upgrade of files written by earlier releases.

``docs`` holds each record (its text, for hits and highlights, and its jieba terms); ``docs_match``
is a contentless FTS5 table of two columns: ``terms`` (the jieba terms, as before) and ``grams``
(the text's character n-grams, indexing/grams.py). Contentless keeps the n-grams out of the file
except in the full-text index itself; the price is that a row is deleted from it by handing back
its exact values (docs.terms, and the n-grams recomputed from docs.text), which indexing/embedded.py
does beside every delete from docs. ``index_info`` records the n-gram version the table was filled
with: a file from before (the jieba-only ``docs_fts``), or one filled by another version of
gram_chars, gets its n-grams (re)computed from docs.text when opened, once, in the open's
transaction. Columns added since a file was written (rating, survey score) are added empty: the
documents indexed before have none until `voc index rebuild` (``stale_fields`` says so).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

from indexing.grams import GRAM_MARK, GRAMS_VERSION, grams_text

log = logging.getLogger(__name__)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS docs (
        rid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        terms TEXT NOT NULL,
        source TEXT NOT NULL,
        created_at TEXT,
        channel TEXT, industry TEXT, product TEXT, store TEXT,
        sentiment TEXT, sentiment_score REAL,
        topic_id INTEGER, topic_label TEXT,
        near_duplicate_of TEXT,
        rating REAL, survey_score REAL
    )""",
    """CREATE TABLE IF NOT EXISTS doc_tags (
        id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (tag, id)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS doc_tags_id ON doc_tags(id)",
    "CREATE TABLE IF NOT EXISTS index_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # 'ascii' keeps every non-ASCII character inside a token, so the space-joined jieba terms and
    # n-grams are exactly what gets indexed, as with Elasticsearch's whitespace analyzer.
    "CREATE VIRTUAL TABLE IF NOT EXISTS docs_match USING fts5(terms, grams, content='', tokenize='ascii')",
)
# Added to docs and doc_meta since the first layout: (table, column, type).
_ADDED_COLUMNS = (
    ("docs", "rating", "REAL"), ("docs", "survey_score", "REAL"),
    ("doc_meta", "rating", "REAL"), ("doc_meta", "survey_score", "REAL"),
    ("doc_meta", "rating_star", "INTEGER"), ("doc_meta", "nps", "TEXT"),
)
_META_COLUMNS = ("rid", "id", "source", "created_at", "channel", "industry", "product", "store", "sentiment",
                 "sentiment_score", "topic_id", "near_duplicate_of", "rating", "survey_score")


def _derived(row: str) -> str:
    """rating_star and nps (indexing.base.rating_star / nps_group) from a docs row named ``row``."""
    return (f"CAST({row}.rating AS INTEGER), CASE WHEN {row}.survey_score IS NULL THEN NULL "
            f"WHEN {row}.survey_score < 7 THEN 'detractor' WHEN {row}.survey_score < 9 THEN 'passive' "
            "ELSE 'promoter' END")


# The columns every filter, facet and sort reads, kept narrow and apart from the texts: walking the
# matches of a common term through the wide docs rows costs several times more (as doc values do
# for Lucene). Triggers keep it in step with docs; indexes serve the date sorts without a full sort.
_META_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS doc_meta (
        rid INTEGER PRIMARY KEY, id TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT,
        channel TEXT, industry TEXT, product TEXT, store TEXT,
        sentiment TEXT, sentiment_score REAL, topic_id INTEGER, near_duplicate_of TEXT,
        seq INTEGER NOT NULL DEFAULT 0,  -- doc_meta_changes.value when the row was written
        rating REAL, survey_score REAL, rating_star INTEGER, nps TEXT
    )""",
    # Counts every insert and delete, never reused: how in-memory copies of doc_meta (doc_values.py)
    # tell an append from a replacement, which may reuse a deleted row's rid.
    "CREATE TABLE IF NOT EXISTS doc_meta_changes (value INTEGER NOT NULL)",
    "INSERT INTO doc_meta_changes SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM doc_meta_changes)",
    f"""INSERT INTO doc_meta ({', '.join(_META_COLUMNS)}, rating_star, nps)
        SELECT {', '.join(_META_COLUMNS)}, {_derived('docs')} FROM docs
        WHERE NOT EXISTS (SELECT 1 FROM doc_meta)""",  # only a new table is empty while docs is not
    "CREATE INDEX IF NOT EXISTS doc_meta_id ON doc_meta(id)",
    "CREATE INDEX IF NOT EXISTS doc_meta_newest ON doc_meta(coalesce(created_at, ''), id)",
    "CREATE INDEX IF NOT EXISTS doc_meta_oldest ON doc_meta(coalesce(created_at, '9999-12-31'), id)",
    "CREATE INDEX IF NOT EXISTS doc_meta_source ON doc_meta(source, created_at)",
    "CREATE INDEX IF NOT EXISTS doc_meta_sentiment ON doc_meta(sentiment)",
    "CREATE INDEX IF NOT EXISTS doc_meta_seq ON doc_meta(seq)",
    "DROP TRIGGER IF EXISTS docs_meta_ai",  # the first layout's listed no rating or survey score
    f"""CREATE TRIGGER docs_meta_ai AFTER INSERT ON docs BEGIN
        UPDATE doc_meta_changes SET value = value + 1;
        INSERT INTO doc_meta ({', '.join(_META_COLUMNS)}, rating_star, nps, seq)
        VALUES ({', '.join('new.' + c for c in _META_COLUMNS)}, {_derived('new')},
            (SELECT value FROM doc_meta_changes));
    END""",
    """CREATE TRIGGER IF NOT EXISTS docs_meta_ad AFTER DELETE ON docs BEGIN
        UPDATE doc_meta_changes SET value = value + 1;
        DELETE FROM doc_meta WHERE rid = old.rid;
    END""",
    # the jieba-only full-text table of earlier releases and its triggers (docs_match replaces it)
    "DROP TRIGGER IF EXISTS docs_ai",
    "DROP TRIGGER IF EXISTS docs_ad",
    "DROP TABLE IF EXISTS docs_fts",
    # indexes of the first layout, when the filters still read docs itself
    "DROP INDEX IF EXISTS docs_created",
    "DROP INDEX IF EXISTS docs_newest",
    "DROP INDEX IF EXISTS docs_oldest",
    "DROP INDEX IF EXISTS docs_source",
    "DROP INDEX IF EXISTS docs_sentiment",
)
FILL_BATCH = 2000


@dataclass(frozen=True, slots=True)
class SchemaReport:
    grams_filled: int = 0  # documents whose n-grams this open computed (an upgrade)
    stale_fields: tuple[str, ...] = ()  # fields documents indexed before lack: `voc index rebuild`


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _info(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM index_info WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _set_info(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO index_info (key, value) VALUES (?, ?)", (key, value))


def match_row(rid: int, terms: str, text: str) -> tuple[int, str, str]:
    """A docs_match row (insert, or 'delete' with the same values) for a docs row."""
    return rid, terms, grams_text(text, GRAM_MARK)


def fill_grams(conn: sqlite3.Connection) -> int:
    """docs_match from docs, whole (after emptying it)."""
    conn.execute("INSERT INTO docs_match(docs_match) VALUES ('delete-all')")
    filled, last = 0, -1
    while True:
        rows = conn.execute("SELECT rid, terms, text FROM docs WHERE rid > ? ORDER BY rid LIMIT ?",
                            (last, FILL_BATCH)).fetchall()
        if not rows:
            return filled
        conn.executemany("INSERT INTO docs_match (rowid, terms, grams) VALUES (?, ?, ?)",
                         [match_row(*row) for row in rows])
        filled += len(rows)
        last = rows[-1][0]


def create_schema(conn: sqlite3.Connection) -> SchemaReport:
    """Tables, triggers and indexes, upgrading a file of an earlier layout; one transaction, so no
    other process writes docs between a check and what follows from it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        had_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'doc_meta'").fetchone() is not None
        for statement in _SCHEMA:
            conn.execute(statement)
        stale: list[str] = []
        for table, column, kind in _ADDED_COLUMNS:
            if (table == "docs" or had_meta) and column not in _columns(conn, table):
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                if table == "docs" and conn.execute("SELECT 1 FROM docs LIMIT 1").fetchone():
                    stale.append(column)
        for statement in _META_SCHEMA:
            conn.execute(statement)
        filled = 0
        if _info(conn, "grams_version") != str(GRAMS_VERSION):
            filled = fill_grams(conn)
            _set_info(conn, "grams_version", str(GRAMS_VERSION))
        if stale:
            _set_info(conn, "stale_fields", ",".join(stale))
        known = _info(conn, "stale_fields")
        conn.commit()
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    if filled:
        log.warning("upgraded the search index: character n-grams computed for %d documents", filled)
    fields = tuple(known.split(",")) if known else ()
    if fields:
        log.warning("the search index was built before %s were indexed: filters and facets on them miss "
                    "older documents until `voc index rebuild`", " and ".join(fields))
    return SchemaReport(grams_filled=filled, stale_fields=fields)


def clear_stale(conn: sqlite3.Connection) -> None:
    """After a clear (a rebuild starts with one), no document lacks a field any more."""
    conn.execute("DELETE FROM index_info WHERE key = 'stale_fields'")
