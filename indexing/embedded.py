"""The embedded search backend: SQLite FTS5 over pre-tokenised jieba terms, in one local file."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from indexing.base import (
    BulkReport,
    Filters,
    IndexRecord,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResult,
    decode_cursor,
    encode_cursor,
    highlight,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    terms TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT,
    channel TEXT, industry TEXT, product TEXT, store TEXT,
    sentiment TEXT, sentiment_score REAL,
    topic_id INTEGER, topic_label TEXT,
    near_duplicate_of TEXT
);
CREATE INDEX IF NOT EXISTS docs_created ON docs(created_at);
-- the exact sort keys of "newest"/"oldest", so a page of a large match needs no full sort
CREATE INDEX IF NOT EXISTS docs_newest ON docs(coalesce(created_at, ''), id);
CREATE INDEX IF NOT EXISTS docs_oldest ON docs(coalesce(created_at, '9999-12-31'), id);
CREATE INDEX IF NOT EXISTS docs_source ON docs(source, created_at);
CREATE INDEX IF NOT EXISTS docs_sentiment ON docs(sentiment);
CREATE TABLE IF NOT EXISTS doc_tags (
    id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (tag, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_tags_id ON doc_tags(id);
-- 'ascii' keeps every non-ASCII character inside a token, so jieba's segmentation (joined by
-- spaces) is exactly what gets indexed, as with Elasticsearch's whitespace analyzer.
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    terms, content='docs', content_rowid='rid', tokenize='ascii'
);
CREATE TRIGGER IF NOT EXISTS docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts(rowid, terms) VALUES (new.rid, new.terms);
END;
CREATE TRIGGER IF NOT EXISTS docs_ad AFTER DELETE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, terms) VALUES ('delete', old.rid, old.terms);
END;
"""
_COLUMNS = ("id", "text", "terms", "source", "created_at", "channel", "industry", "product", "store",
            "sentiment", "sentiment_score", "topic_id", "topic_label", "near_duplicate_of")
_FACET_COLUMNS = {"source": "source", "channel": "channel", "industry": "industry", "product": "product",
                  "store": "store", "sentiment": "sentiment", "topic": "topic_id"}
# (sort key expression, direction); NULLs are mapped so they always sort last.
_SORTS: dict[str, tuple[str, str]] = {
    "relevance": ("m.rank", "asc"),
    "newest": ("coalesce(d.created_at, '')", "desc"),
    "oldest": ("coalesce(d.created_at, '9999-12-31')", "asc"),
    "most_negative": ("coalesce(d.sentiment_score, 2.0)", "asc"),
    "most_positive": ("coalesce(d.sentiment_score, -2.0)", "desc"),
}
_BUCKETS = {
    "day": "substr(d.created_at, 1, 10)",
    "week": "date(d.created_at, '-6 days', 'weekday 1')",
    "month": "substr(d.created_at, 1, 7) || '-01'",
}


def _fts_query(terms: Sequence[str]) -> str | None:
    usable = [term for term in terms if any(ch.isalnum() or ord(ch) > 127 for ch in term)]
    if not usable:
        return None
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in dict.fromkeys(usable))


FACET_CACHE_SIZE = 256


def _has_filters(filters: Filters) -> bool:
    return any(getattr(filters, name.name) for name in fields(filters))


def _top(counter: Counter[Any], size: int) -> dict[str, int]:
    """Largest counts first, ties by value, None left out: the facet order every backend shares."""
    ranked = sorted(((value, count) for value, count in counter.items() if value is not None),
                    key=lambda item: (-item[1], item[0]))  # raw values: topic ids sort as numbers
    return {str(value): count for value, count in ranked[:size]}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


class EmbeddedIndex(SearchBackend):
    name = "embedded"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        # Facet counts of recent queries, valid while the data is unchanged: our own writes bump
        # _writes, other processes' commits change PRAGMA data_version.
        self._facet_cache: OrderedDict[tuple[Any, ...], tuple[int, dict[str, dict[str, int]]]] = OrderedDict()
        self._writes = 0

    def close(self) -> None:
        self._conn.close()

    # --- writes -------------------------------------------------------------------------------
    def index(self, records: Sequence[IndexRecord]) -> BulkReport:
        if not records:
            return BulkReport()
        rows = [(r.id, r.text, " ".join(r.terms), r.source, _iso(r.created_at), r.channel, r.industry,
                 r.product, r.store, r.sentiment, r.sentiment_score, r.topic_id, r.topic_label,
                 r.near_duplicate_of) for r in records]
        tag_rows = [(r.id, tag) for r in records for tag in r.tags]
        self._writes += 1
        with self._lock, self._conn:
            # Replace by deleting first, so the FTS delete trigger sees the old terms (INSERT OR REPLACE
            # would not fire it); only ids already present, as most batches are new documents.
            present = [(row[0],) for row in self._select_ids([r.id for r in records])]
            self._conn.executemany("DELETE FROM docs WHERE id = ?", present)
            self._conn.executemany("DELETE FROM doc_tags WHERE id = ?", present)
            placeholders = ",".join("?" * len(_COLUMNS))
            self._conn.executemany(f"INSERT INTO docs ({','.join(_COLUMNS)}) VALUES ({placeholders})", rows)
            self._conn.executemany("INSERT OR IGNORE INTO doc_tags (id, tag) VALUES (?, ?)", tag_rows)
        return BulkReport(indexed=len(records))

    def delete(self, ids: Sequence[str]) -> int:
        self._writes += 1
        with self._lock, self._conn:
            # rowcount, unlike total_changes, leaves out the FTS rows the trigger deletes
            deleted = self._conn.executemany("DELETE FROM docs WHERE id = ?", [(i,) for i in ids]).rowcount
            self._conn.executemany("DELETE FROM doc_tags WHERE id = ?", [(i,) for i in ids])
        return deleted

    def set_tags(self, tag: str, ids: Sequence[str], present: bool) -> int:
        self._writes += 1
        with self._lock, self._conn:
            known = [(row[0], tag) for row in self._select_ids(ids)]
            sql = ("INSERT OR IGNORE INTO doc_tags (id, tag) VALUES (?, ?)" if present
                   else "DELETE FROM doc_tags WHERE id = ? AND tag = ?")
            return self._conn.executemany(sql, known).rowcount if known else 0

    def clear(self) -> None:
        self._writes += 1
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM docs")
            self._conn.execute("DELETE FROM doc_tags")
            self._conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('rebuild')")

    def _select_ids(self, ids: Sequence[str]) -> list[sqlite3.Row]:
        found: list[sqlite3.Row] = []
        for start in range(0, len(ids), 900):
            chunk = list(ids[start : start + 900])
            found += self._conn.execute(
                f"SELECT id FROM docs WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
        return found

    # --- reads --------------------------------------------------------------------------------
    def get(self, doc_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(f"SELECT {','.join(_COLUMNS)} FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        record = dict(row)
        record["terms"] = record["terms"].split()
        record["tags"] = [r[0] for r in self._conn.execute(
            "SELECT tag FROM doc_tags WHERE id = ? ORDER BY tag", (doc_id,))]
        return record

    def _from_where(self, query: SearchQuery, extra_join: str = "", *, ranked: bool = False
                    ) -> tuple[str, list[Any]]:
        """FROM and WHERE (always present, so callers append with AND) shared by every read.

        ``ranked`` joins the BM25 rank of each match (only a relevance-sorted page needs it).
        """
        params: list[Any] = []
        match = _fts_query(query.terms)
        if match and ranked:
            sql = ("FROM docs d JOIN (SELECT rowid AS rid, bm25(docs_fts) AS rank FROM docs_fts "
                   "WHERE docs_fts MATCH ?) m ON m.rid = d.rid")
            params.append(match)
        elif match:
            # No ranking needed: a membership test lets SQLite walk a filter or sort index and stop at
            # the page, instead of joining every full-text match.
            sql = ("FROM docs d JOIN (SELECT 0.0 AS rank) m "
                   "ON d.rid IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)")
            params.append(match)
        elif query.terms:
            return f"FROM docs d JOIN (SELECT 0.0 AS rank) m{extra_join} WHERE 0", []
        else:
            sql = "FROM docs d JOIN (SELECT 0.0 AS rank) m"
        sql += extra_join
        clauses: list[str] = ["1"]
        f = query.filters
        for column, values in (("source", f.source), ("channel", f.channel), ("industry", f.industry),
                               ("product", f.product), ("store", f.store), ("sentiment", f.sentiment),
                               ("topic_id", f.topic), ("id", f.ids)):
            if values:
                clauses.append(f"d.{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        for tag in f.tags:
            clauses.append("EXISTS (SELECT 1 FROM doc_tags t WHERE t.id = d.id AND t.tag = ?)")
            params.append(tag)
        if f.since:
            clauses.append("d.created_at >= ?")
            params.append(_iso(f.since))
        if f.until:
            clauses.append("d.created_at <= ?")
            params.append(_iso(f.until))
        if f.exclude_near_duplicates:
            clauses.append("d.near_duplicate_of IS NULL")
        return sql + " WHERE " + " AND ".join(clauses), params

    def count(self, query: SearchQuery | None = None) -> int:
        from_where, params = self._from_where(query or SearchQuery())
        return int(self._conn.execute(f"SELECT count(*) {from_where}", params).fetchone()[0])

    def search(self, query: SearchQuery) -> SearchResult:
        sort = query.sort if query.sort != "relevance" or _fts_query(query.terms) else "newest"
        from_where, params = self._from_where(query, ranked=sort == "relevance")
        key, direction = _SORTS[sort]
        page_sql, page_params = from_where, list(params)
        if query.cursor:
            last_key, last_id = decode_cursor(query.cursor)
            op = ">" if direction == "asc" else "<"
            page_sql += f" AND ({key} {op} ? OR ({key} = ? AND d.id {op} ?))"
            page_params += [last_key, last_key, last_id]
        columns = ",".join(f"d.{c}" for c in _COLUMNS if c != "terms")
        rows = self._conn.execute(
            f"SELECT {columns}, m.rank AS rank, {key} AS sort_key {page_sql} "
            f"ORDER BY {key} {direction}, d.id {direction} LIMIT ? OFFSET ?",
            [*page_params, query.limit, 0 if query.cursor else query.offset],
        ).fetchall()
        tags_by_id = self._tags_for([row["id"] for row in rows])
        hits = [self._hit(row, tags_by_id.get(row["id"], []), query) for row in rows]
        total, facets = self._cached_total_and_facets(query)
        next_cursor = None
        if rows and len(rows) == query.limit:
            next_cursor = encode_cursor([rows[-1]["sort_key"], rows[-1]["id"]])
        return SearchResult(total=total, hits=hits, facets=facets, next_cursor=next_cursor)

    def _hit(self, row: sqlite3.Row, tags: list[str], query: SearchQuery) -> SearchHit:
        created = row["created_at"]
        return SearchHit(
            id=row["id"], text=row["text"], source=row["source"], score=-float(row["rank"] or 0.0),
            created_at=datetime.fromisoformat(created) if created else None, channel=row["channel"],
            industry=row["industry"], product=row["product"], store=row["store"],
            sentiment=row["sentiment"], sentiment_score=row["sentiment_score"], topic_id=row["topic_id"],
            topic_label=row["topic_label"], tags=tags, near_duplicate_of=row["near_duplicate_of"],
            highlight=highlight(row["text"], query.terms) if query.highlight and query.terms else None,
        )

    def _tags_for(self, ids: list[str]) -> dict[str, list[str]]:
        if not ids:
            return {}
        result: dict[str, list[str]] = {}
        rows = self._conn.execute(
            f"SELECT id, tag FROM doc_tags WHERE id IN ({','.join('?' * len(ids))}) ORDER BY tag", ids)
        for doc_id, tag in rows:
            result.setdefault(doc_id, []).append(tag)
        return result

    def _cached_total_and_facets(self, query: SearchQuery) -> tuple[int, dict[str, dict[str, int]]]:
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        key = (version, self._writes, tuple(query.terms), repr(query.filters), tuple(query.facets), query.facet_size)
        cached = self._facet_cache.get(key)
        if cached is None:
            cached = self._facet_cache[key] = self._total_and_facets(query)
            while len(self._facet_cache) > FACET_CACHE_SIZE:
                self._facet_cache.popitem(last=False)
        else:
            self._facet_cache.move_to_end(key)
        total, facets = cached
        return total, {name: dict(counts) for name, counts in facets.items()}

    def _total_and_facets(self, query: SearchQuery) -> tuple[int, dict[str, dict[str, int]]]:
        """The match count and every facet from one statement.

        The match is materialised once and grouped per facet in SQL; a GROUP BY per facet would run
        the full-text match again each time, and counting rows in Python is slower still.
        """
        unknown = [name for name in query.facets if name != "tags" and name not in _FACET_COLUMNS]
        if unknown:
            raise ValueError(f"unknown facet {unknown[0]!r}")
        names = [name for name in query.facets if name in _FACET_COLUMNS]
        # Without filters, joining the matches is cheaper than a membership test over every row.
        from_where, params = self._from_where(query, ranked=not _has_filters(query.filters))
        columns = ", ".join(["d.id AS id", *(f"d.{_FACET_COLUMNS[name]} AS f{i}" for i, name in enumerate(names))])
        parts = ["SELECT '', NULL, count(*) FROM m"]
        parts += [f"SELECT '{name}', f{i}, count(*) FROM m WHERE f{i} IS NOT NULL GROUP BY f{i}"
                  for i, name in enumerate(names)]
        if "tags" in query.facets:
            parts.append("SELECT 'tags', t.tag, count(*) FROM m JOIN doc_tags t ON t.id = m.id GROUP BY t.tag")
        rows = self._conn.execute(
            f"WITH m AS MATERIALIZED (SELECT {columns} {from_where}) {' UNION ALL '.join(parts)}", params)
        counters: dict[str, Counter[Any]] = {name: Counter() for name in query.facets}
        total = 0
        for name, value, count in rows:
            if name:
                counters[name][value] = count
            else:
                total = int(count)
        return total, {name: _top(counters[name], query.facet_size) for name in query.facets}

    def date_histogram(self, query: SearchQuery, interval: Literal["day", "week", "month"] = "day"
                       ) -> list[tuple[str, int]]:
        from_where, params = self._from_where(query)
        bucket = _BUCKETS[interval]
        rows = self._conn.execute(
            f"SELECT {bucket} AS bucket, count(*) {from_where} AND d.created_at IS NOT NULL "
            "GROUP BY bucket ORDER BY bucket", params).fetchall()
        return [(row[0], int(row[1])) for row in rows]
