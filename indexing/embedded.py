"""The embedded search backend: SQLite FTS5 over pre-tokenised jieba terms and character n-grams
(embedded_schema.py, matching.py), in one local file."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from indexing.base import (
    WORD_TIER,
    BulkReport,
    CursorKind,
    Filters,
    IndexRecord,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResult,
    decode_cursor,
    encode_cursor,
)
from indexing.damage import IndexDamaged, damage_reason, file_identity, reports_damage
from indexing.doc_values import DocValues
from indexing.embedded_schema import SchemaReport, clear_stale, create_schema, match_row
from indexing.highlight import highlight
from indexing.matching import Match, fts_match, highlight_strings
from indexing.pinned import Pin, PinnedFilters
from indexing.sqlite_locks import begin_immediate, retry_busy

_COLUMNS = ("id", "text", "terms", "source", "created_at", "channel", "industry", "product", "store",
            "sentiment", "sentiment_score", "topic_id", "topic_label", "near_duplicate_of", "rating",
            "survey_score")
_FACET_COLUMNS = {"source": "source", "channel": "channel", "industry": "industry", "product": "product",
                  "store": "store", "sentiment": "sentiment", "topic": "topic_id", "rating": "rating_star",
                  "nps": "nps"}
# (sort key expression, direction); NULLs are mapped so they always sort last. Ties go by id, except
# for relevance: by row, so an unfiltered ranked page needs the full-text table alone (ids live in
# doc_meta; the join doubled the cost of ranking a common term).
_SORTS: dict[str, tuple[str, str]] = {
    "relevance": ("m.rank", "asc"),
    "newest": ("coalesce(d.created_at, '')", "desc"),
    "oldest": ("coalesce(d.created_at, '9999-12-31')", "asc"),
    "most_negative": ("coalesce(d.sentiment_score, 2.0)", "asc"),
    "most_positive": ("coalesce(d.sentiment_score, -2.0)", "desc"),
}
# What encode_cursor wrote for each sort: (sort key, tie); relevance ties go by row number.
_CURSOR_KINDS: dict[str, tuple[CursorKind, CursorKind]] = {
    "relevance": ("float", "int"), "newest": ("str", "str"), "oldest": ("str", "str"),
    "most_negative": ("float", "str"), "most_positive": ("float", "str"),
}
_BUCKETS = {
    "day": "substr(d.created_at, 1, 10)",
    "week": "date(d.created_at, '-6 days', 'weekday 1')",
    "month": "substr(d.created_at, 1, 7) || '-01'",
}


def _match(query: SearchQuery) -> Match | None:
    return fts_match(query.terms, query.text) if query.terms else None


Plan = Literal["words", "rest", "page", "every"]
FACET_CACHE_SIZE = 256
# Above this many documents holding a query's strings, those not holding its words are not ranked by
# BM25 among themselves (a common character: ranking them cost 120 ms at 64,000 matches and a term
# that frequent weighs next to nothing); they follow the word matches in row order.
RANK_LIMIT = 10_000
log = logging.getLogger(__name__)


def _has_filters(filters: Filters) -> bool:
    return filters.active()


_COLUMN_FILTERS = {"source": "source", "channel": "channel", "industry": "industry", "product": "product",
                   "store": "store", "sentiment": "sentiment", "topic": "topic_id"}


def _column_filters(filters: Filters) -> dict[str, list[Any]] | None:
    """The filters as {column: values} when they are only exact matches on in-memory facet columns."""
    chosen = {column: getattr(filters, name) for name, column in _COLUMN_FILTERS.items() if getattr(filters, name)}
    rest = replace(filters, **{name: [] for name in _COLUMN_FILTERS})
    return chosen if chosen and not rest.active() else None


def _top(counter: Counter[Any], size: int) -> dict[str, int]:
    """Largest counts first, ties by value, None left out: the facet order every backend shares."""
    ranked = sorted(((value, count) for value, count in counter.items() if value is not None),
                    key=lambda item: (-item[1], item[0]))  # raw values: topic ids sort as numbers
    return {str(value): count for value, count in ranked[:size]}


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Reads inside see one state of the file (a read transaction), unless already inside one."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.commit()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


class EmbeddedIndex(SearchBackend):
    """Safe to share between threads: writes take one connection under a lock; each reading thread
    has its own connection, so in a server a slow query holds up no other (SQLite's WAL lets readers
    run beside the writer)."""

    name = "embedded"

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s  # how long a write waits for another process's write
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        # Facet counts of recent queries, valid for one generation of the data. A reader that sees
        # PRAGMA data_version move (someone committed) starts a new generation; so do our own writes.
        self._cache_lock = threading.Lock()
        self._facet_cache: OrderedDict[tuple[Any, ...], tuple[int, dict[str, dict[str, int]]]] = OrderedDict()
        self._generation = 0
        self._epoch = 0  # which file the connections are on; a reopen after a rebuild moves it on
        self._conn, self._identity = self._open_file()
        self._doc_values = DocValues(sorted(set(_FACET_COLUMNS.values())))
        self._pinned = PinnedFilters()

    def pin_filter(self, field: str, values: Collection[str]) -> None:
        """Many queries will filter ``field`` to exactly ``values`` (a data scope): keep those rows as
        a set per connection (indexing/pinned.py), so the filter costs a probe per match, not a join."""
        self._pinned.pin(field, values)

    def _unpinned(self, filters: Filters) -> tuple[Filters, Pin | None]:
        """The filters less a pinned one, and that pin with its rows current on this thread's
        connection (call inside the query's snapshot)."""
        pin = self._pinned.find(filters)
        if pin is None:
            return filters, None
        PinnedFilters.ensure(self._reader(), pin, self._local.pinned)
        return replace(filters, **{pin.field: []}), pin

    def _open_file(self) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
        """The writer's connection with WAL and the schema in place; IndexDamaged for a bad file."""
        conn = self._connect()
        try:
            retry_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"), self.busy_timeout_s)
            conn.execute("PRAGMA synchronous=NORMAL")
            self.schema = retry_busy(lambda: self._create_schema(conn), self.busy_timeout_s)
        except sqlite3.DatabaseError as exc:
            conn.close()
            reason = damage_reason(exc)
            if reason is None:
                raise
            raise IndexDamaged(self.path, reason) from None
        except BaseException:
            conn.close()
            raise
        return conn, file_identity(self.path)

    def _reopen_if_replaced(self) -> bool:
        """After a damage error: when another file now sits at the path (`voc index rebuild` moved the
        damaged one aside), switch to it and say so; the caller then tries once more."""
        with self._lock:
            current = file_identity(self.path)
            if current is None or current == self._identity:
                return False
            conn, identity = self._open_file()
            old, self._conn, self._identity = self._conn, conn, identity
            old.close()
            with self._cache_lock:
                self._epoch += 1
                self._generation += 1
                self._facet_cache.clear()
            self._doc_values = DocValues(sorted(set(_FACET_COLUMNS.values())))
        log.warning("the search index file %s was replaced; reopened it", self.path.name)
        return True

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=self.busy_timeout_s)
        conn.row_factory = sqlite3.Row
        return conn

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> SchemaReport:
        """Tables, triggers and indexes, a file of an earlier layout upgraded (embedded_schema.py)."""
        return create_schema(conn)

    @property
    def stale_fields(self) -> tuple[str, ...]:
        """Fields the documents indexed by an earlier release lack: `voc index rebuild` fills them."""
        return self.schema.stale_fields

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.epoch != self._epoch:  # on a file since replaced
            with self._cache_lock:
                self._readers.remove(conn)
            conn.close()
            conn = None
        if conn is None:
            conn = self._local.conn = self._connect()
            self._local.data_version = None
            self._local.pinned = {}  # pinned filters' temp tables on this connection (indexing/pinned.py)
            self._local.epoch = self._epoch
            with self._cache_lock:
                self._readers.append(conn)
        return conn

    def close(self) -> None:
        with self._cache_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()
        self._local = threading.local()
        self._conn.close()

    # --- writes -------------------------------------------------------------------------------
    def _written(self) -> None:
        with self._cache_lock:
            self._generation += 1

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (BEGIN IMMEDIATE): whatever it reads stays true until
        it commits, even with other processes (server workers, a CLI run) writing the same file. A
        deferred transaction read first and could then find its ids inserted by another writer, or
        fail to upgrade its lock at all."""
        with self._lock:
            begin_immediate(self._conn, self.busy_timeout_s)
            try:
                yield self._conn
            except BaseException:
                self._conn.rollback()
                raise
            self._conn.commit()
        self._written()

    @reports_damage
    def index(self, records: Sequence[IndexRecord]) -> BulkReport:
        if not records:
            return BulkReport()
        records = list({r.id: r for r in records}.values())  # an id twice in a batch: the last wins, as in ES
        rows = [(r.id, r.text, " ".join(r.terms), r.source, _iso(r.created_at), r.channel, r.industry,
                 r.product, r.store, r.sentiment, r.sentiment_score, r.topic_id, r.topic_label,
                 r.near_duplicate_of, r.rating, r.survey_score) for r in records]
        tag_rows = [(r.id, tag) for r in records for tag in r.tags]
        with self._writing() as conn:
            # Replace by deleting first (the full-text row goes with its old values); only ids
            # already present, as most batches are new documents. Looked up inside the write
            # transaction, so no other process can add one before the insert.
            present = [(row["id"],) for row in self._unmatch([r.id for r in records])]
            conn.executemany("DELETE FROM docs WHERE id = ?", present)
            conn.executemany("DELETE FROM doc_tags WHERE id = ?", present)
            placeholders = ",".join("?" * len(_COLUMNS))
            conn.executemany(f"INSERT INTO docs ({','.join(_COLUMNS)}) VALUES ({placeholders})", rows)
            rid_of = {row["id"]: row["rid"] for row in self._select_ids([r.id for r in records], "rid, id")}
            conn.executemany("INSERT INTO docs_match (rowid, terms, grams) VALUES (?, ?, ?)",
                             [match_row(rid_of[row[0]], row[2], row[1]) for row in rows])
            conn.executemany("INSERT OR IGNORE INTO doc_tags (id, tag) VALUES (?, ?)", tag_rows)
        return BulkReport(indexed=len(records))

    def _unmatch(self, ids: Sequence[str]) -> list[sqlite3.Row]:
        """Take these documents out of the contentless full-text table (it needs their exact values);
        inside a write transaction. Returns the rows found."""
        found = self._select_ids(ids, "rid, id, terms, text")
        self._conn.executemany("INSERT INTO docs_match (docs_match, rowid, terms, grams) VALUES ('delete', ?, ?, ?)",
                               [match_row(row["rid"], row["terms"], row["text"]) for row in found])
        return found

    @reports_damage
    def delete(self, ids: Sequence[str]) -> int:
        with self._writing() as conn:
            self._unmatch(list(dict.fromkeys(ids)))
            # rowcount, unlike total_changes, leaves out the rows the triggers delete
            deleted = conn.executemany("DELETE FROM docs WHERE id = ?", [(i,) for i in ids]).rowcount
            conn.executemany("DELETE FROM doc_tags WHERE id = ?", [(i,) for i in ids])
        return deleted

    @reports_damage
    def set_tags(self, tag: str, ids: Sequence[str], present: bool) -> int:
        with self._writing() as conn:
            known = [(row[0], tag) for row in self._select_ids(ids)]
            sql = ("INSERT OR IGNORE INTO doc_tags (id, tag) VALUES (?, ?)" if present
                   else "DELETE FROM doc_tags WHERE id = ? AND tag = ?")
            changed = conn.executemany(sql, known).rowcount if known else 0
        return changed

    @reports_damage
    def clear(self) -> None:
        with self._writing() as conn:
            conn.execute("DELETE FROM docs")
            conn.execute("DELETE FROM doc_tags")
            conn.execute("INSERT INTO docs_match(docs_match) VALUES ('delete-all')")
            clear_stale(conn)
        self.schema = SchemaReport()

    def _select_ids(self, ids: Sequence[str], columns: str = "id") -> list[sqlite3.Row]:
        found: list[sqlite3.Row] = []
        for start in range(0, len(ids), 900):
            chunk = list(ids[start : start + 900])
            found += self._conn.execute(
                f"SELECT {columns} FROM docs WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
        return found

    # --- reads --------------------------------------------------------------------------------
    @reports_damage
    def get(self, doc_id: str) -> dict[str, Any] | None:
        conn = self._reader()
        row = conn.execute(f"SELECT {','.join(_COLUMNS)} FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        record = dict(row)
        record["terms"] = record["terms"].split()
        record["tags"] = [r[0] for r in conn.execute("SELECT tag FROM doc_tags WHERE id = ? ORDER BY tag", (doc_id,))]
        return record

    def _from_where(self, query: SearchQuery, plan: Plan = "every", rank_strings: bool = True
                    ) -> tuple[str, list[Any]]:
        """FROM and WHERE (always present, so callers append with AND) shared by every read, over
        doc_meta as ``d`` with the match's BM25 rank as ``m.rank``, for one of these uses:

        * ``words`` and ``rest``: the two tiers of a relevance-sorted page (matching.py): documents
          holding every word, ranked by BM25 over the words, then those holding only the strings,
          ranked by BM25 over them (``rank_strings``) or in row order;
        * ``page``: a page in some other order; the match is a membership test, so SQLite can walk
          a sort index and stop at the page instead of visiting every full-text match;
        * ``every``: counts, facets and histograms, which visit every match anyway: a join on the
          full-text rows, without computing ranks.
        """
        params: list[Any] = []
        match = _match(query)
        f, pin = self._unpinned(query.filters)
        # a pinned filter is a probe of the match's own rowid: no doc_meta row needed for it
        pinned = f" AND +rowid IN (SELECT rid FROM temp.{pin.table})" if pin else ""
        if match and plan == "words":
            sql = (f"FROM (SELECT rowid AS rid, bm25(docs_match, 1.0, 0.0) - {WORD_TIER} AS rank "
                   f"FROM docs_match WHERE docs_match MATCH ?{pinned}) m")
            params.append(match.words)
        elif match and plan == "rest":
            rank = "bm25(docs_match, 0.0, 1.0)" if rank_strings else "0.0"
            sql = f"FROM (SELECT rowid AS rid, {rank} AS rank FROM docs_match WHERE docs_match MATCH ?{pinned}"
            params.append(match.strings)
            if match.words:
                sql += " AND rowid NOT IN (SELECT rowid FROM docs_match WHERE docs_match MATCH ?)"
                params.append(match.words)
            sql += ") m"
        if match and plan in ("words", "rest"):
            if _has_filters(f):
                sql += " JOIN doc_meta d ON d.rid = m.rid"
        elif match and plan == "page":
            sql = ("FROM doc_meta d JOIN (SELECT 0.0 AS rank) m "
                   "ON d.rid IN (SELECT rowid FROM docs_match WHERE docs_match MATCH ?)")
            params.append(match.full)
        elif match:
            sql = (f"FROM (SELECT rowid AS rid, 0.0 AS rank FROM docs_match WHERE docs_match MATCH ?{pinned}) m "
                   "JOIN doc_meta d ON d.rid = m.rid")
            params.append(match.full)
        elif query.terms:
            return "FROM doc_meta d JOIN (SELECT 0.0 AS rank) m WHERE 0", []
        else:
            sql = "FROM doc_meta d JOIN (SELECT 0.0 AS rank) m"
        clauses: list[str] = ["1"]
        if pin and (plan == "page" or not match):  # walking doc_meta: the row's own rid, probed
            clauses.append(f"+d.rid IN (SELECT rid FROM temp.{pin.table})")
        # With a full-text match, walking its rows beats any column index; the unary + keeps SQLite
        # from choosing one (a sentiment index lookup per match doubled the cost of a filtered query).
        column_prefix = "+d." if match else "d."
        for column, values in (("source", f.source), ("channel", f.channel), ("industry", f.industry),
                               ("product", f.product), ("store", f.store), ("sentiment", f.sentiment),
                               ("topic_id", f.topic), ("id", f.ids)):
            if values:
                # a column without an index: the + also keeps SQLite from building an automatic index on it
                # for each query (one store's filter walked the whole table: 30 ms, now 4 ms at 100,000)
                prefix = column_prefix if column in ("source", "sentiment", "id") else "+d."
                clauses.append(f"{prefix}{column} IN ({','.join('?' * len(values))})")
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
        if f.nps:
            clauses.append(f"d.nps IN ({','.join('?' * len(f.nps))})")
            params.extend(f.nps)
        for column, low, high in (("rating", f.rating_min, f.rating_max), ("survey_score", f.score_min, f.score_max)):
            if low is not None:
                clauses.append(f"d.{column} >= ?")
                params.append(low)
            if high is not None:
                clauses.append(f"d.{column} <= ?")
                params.append(high)
        return sql + " WHERE " + " AND ".join(clauses), params

    @reports_damage
    def count(self, query: SearchQuery | None = None) -> int:
        query = query or SearchQuery()
        match = _match(query)
        conn = self._reader()
        with _snapshot(conn):  # a pinned filter's rows and the count agree
            if match and not _has_filters(query.filters):  # the full-text index counts on its own
                return int(conn.execute("SELECT count(*) FROM docs_match WHERE docs_match MATCH ?",
                                        (match.full,)).fetchone()[0])
            rest, pin = self._unpinned(query.filters)
            if pin is not None and not _has_filters(rest) and (match or not query.terms):
                sql, params = ((f"SELECT count(*) FROM docs_match WHERE docs_match MATCH ? AND +rowid IN "
                                f"(SELECT rid FROM temp.{pin.table})", [match.full]) if match
                               else (f"SELECT count(*) FROM temp.{pin.table}", []))
            else:
                from_where, params = self._from_where(query)
                sql = f"SELECT count(*) {from_where}"
            return int(conn.execute(sql, params).fetchone()[0])

    @reports_damage
    def search(self, query: SearchQuery) -> SearchResult:
        match = _match(query)
        sort = query.sort if query.sort != "relevance" or match else "newest"
        conn = self._reader()
        generation = self._generation_seen(conn)
        with _snapshot(conn):  # the page, its texts and the counts agree even while another process writes
            page = (self._ranked_page(conn, query, match) if sort == "relevance" and match
                    else self._page(conn, query, sort, "page", query.limit, 0 if query.cursor else query.offset))
            return self._search_result(conn, generation, query, page)

    def _page(self, conn: sqlite3.Connection, query: SearchQuery, sort: str, plan: Plan, limit: int, offset: int,
              *, after_cursor: bool = True, rank_strings: bool = True) -> list[sqlite3.Row]:
        """One tier's (or one sort's) rows of a page: rid, rank, sort_key and tie, in order."""
        from_where, params = self._from_where(query, plan, rank_strings)
        key, direction = _SORTS[sort]
        tie = "m.rid" if sort == "relevance" else "d.id"
        if query.cursor and after_cursor:
            last_key, last_tie = decode_cursor(query.cursor, _CURSOR_KINDS[sort])
            op = ">" if direction == "asc" else "<"
            from_where += f" AND ({key} {op} ? OR ({key} = ? AND {tie} {op} ?))"
            params += [last_key, last_key, last_tie]
        row_id = "m.rid" if sort == "relevance" else "d.rid"  # an unfiltered ranked page has no doc_meta (d)
        # unranked rows share one rank: row order alone, which the full-text index gives without a sort
        order = f"{tie} {direction}" if plan == "rest" and not rank_strings else f"{key} {direction}, {tie} {direction}"
        return conn.execute(f"SELECT {row_id} AS rid, m.rank AS rank, {key} AS sort_key, {tie} AS tie {from_where} "
                            f"ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()

    def _ranked_page(self, conn: sqlite3.Connection, query: SearchQuery, match: Match) -> list[sqlite3.Row]:
        """A relevance page: the word tier first, then the string tier, each its own query, so a page
        among the word matches never ranks the (often far more) documents holding only the strings."""
        in_rest = bool(query.cursor) and float(
            decode_cursor(query.cursor, _CURSOR_KINDS["relevance"])[0]) > -WORD_TIER / 2  # past the word tier
        offset = 0 if query.cursor else query.offset
        page: list[sqlite3.Row] = []
        if match.words and not in_rest:
            page = self._page(conn, query, "relevance", "words", query.limit, offset)
        if len(page) == query.limit or not match.strings:
            return page
        if page or query.cursor or not offset or not match.words:
            offset = 0 if page or query.cursor else offset
        else:  # the offset lies past every word match
            from_where, params = self._from_where(query, "words")
            offset = max(0, offset - int(conn.execute(f"SELECT count(*) {from_where}", params).fetchone()[0]))
        held = int(conn.execute("SELECT count(*) FROM docs_match WHERE docs_match MATCH ?",
                                (match.strings,)).fetchone()[0])
        return page + self._page(conn, query, "relevance", "rest", query.limit - len(page), offset,
                                 after_cursor=in_rest, rank_strings=held <= RANK_LIMIT)

    def _search_result(self, conn: sqlite3.Connection, generation: int, query: SearchQuery, page: list[sqlite3.Row]
                       ) -> SearchResult:
        # the wide rows (texts) only for the page
        columns = ",".join(c for c in _COLUMNS if c != "terms")
        rows = {row["rid"]: row for row in conn.execute(
            f"SELECT rid, {columns} FROM docs WHERE rid IN ({','.join('?' * len(page))})", [p["rid"] for p in page])}
        tags_by_id = self._tags_for(conn, [row["id"] for row in rows.values()])
        hits = [self._hit(rows[p["rid"]], p["rank"], tags_by_id.get(rows[p["rid"]]["id"], []), query) for p in page]
        total, facets = self._cached_total_and_facets(conn, generation, query)
        next_cursor = None
        if page and len(page) == query.limit:
            next_cursor = encode_cursor([page[-1]["sort_key"], page[-1]["tie"]])
        return SearchResult(total=total, hits=hits, facets=facets, next_cursor=next_cursor)

    def _hit(self, row: sqlite3.Row, rank: float | None, tags: list[str], query: SearchQuery) -> SearchHit:
        created = row["created_at"]
        return SearchHit(
            id=row["id"], text=row["text"], source=row["source"], score=-float(rank or 0.0),
            created_at=datetime.fromisoformat(created) if created else None, channel=row["channel"],
            industry=row["industry"], product=row["product"], store=row["store"],
            sentiment=row["sentiment"], sentiment_score=row["sentiment_score"], topic_id=row["topic_id"],
            topic_label=row["topic_label"], tags=tags, near_duplicate_of=row["near_duplicate_of"],
            highlight=highlight(row["text"], highlight_strings(query)) if query.highlight and query.terms else None,
            rating=row["rating"], survey_score=row["survey_score"],
        )

    @staticmethod
    def _tags_for(conn: sqlite3.Connection, ids: list[str]) -> dict[str, list[str]]:
        if not ids:
            return {}
        result: dict[str, list[str]] = {}
        rows = conn.execute(f"SELECT id, tag FROM doc_tags WHERE id IN ({','.join('?' * len(ids))}) ORDER BY tag", ids)
        for doc_id, tag in rows:
            result.setdefault(doc_id, []).append(tag)
        return result

    def _generation_seen(self, conn: sqlite3.Connection) -> int:
        """The data generation as of now, after noting any commit this thread's connection sees."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        with self._cache_lock:
            if version != self._local.data_version:
                if self._local.data_version is not None:
                    self._generation += 1
                self._local.data_version = version
            return self._generation

    def _cached_total_and_facets(self, conn: sqlite3.Connection, generation: int, query: SearchQuery
                                 ) -> tuple[int, dict[str, dict[str, int]]]:
        key = (generation, tuple(query.terms), query.text, repr(query.filters), tuple(query.facets), query.facet_size)
        with self._cache_lock:
            cached = self._facet_cache.get(key)
            if cached is not None:
                self._facet_cache.move_to_end(key)
        if cached is None:
            cached = self._total_and_facets(conn, query)
            with self._cache_lock:
                self._facet_cache[key] = cached
                while len(self._facet_cache) > FACET_CACHE_SIZE:
                    self._facet_cache.popitem(last=False)
        total, facets = cached
        return total, {name: dict(counts) for name, counts in facets.items()}

    def _total_and_facets(self, conn: sqlite3.Connection, query: SearchQuery) -> tuple[int, dict[str, dict[str, int]]]:
        """The match count and every facet: SQL finds the matching rows, the in-memory columns count them."""
        unknown = [name for name in query.facets if name != "tags" and name not in _FACET_COLUMNS]
        if unknown:
            raise ValueError(f"unknown facet {unknown[0]!r}")
        rest, pin = self._unpinned(query.filters)
        columns_only = _column_filters(rest)
        if not query.facets and columns_only is None:
            return self.count(query), {}
        names = [name for name in query.facets if name in _FACET_COLUMNS]
        everything = not query.terms and not _has_filters(query.filters)
        from_where, params = self._from_where(query)
        with _snapshot(conn):  # one for the columns, the matches and the tags
            self._doc_values.refresh(conn)
            if everything:
                rids = None
                total = int(conn.execute("SELECT count(*) FROM doc_meta").fetchone()[0])
            elif pin is not None and (columns_only is not None or not _has_filters(rest)):
                match = _match(query)  # the pinned rows (those matching), the rest filtered in memory
                sql, sql_params = ((f"SELECT rowid FROM docs_match WHERE docs_match MATCH ? AND +rowid IN "
                                    f"(SELECT rid FROM temp.{pin.table})", [match.full]) if match
                                   else (f"SELECT rid FROM temp.{pin.table}", []))
                rids = (np.fromiter((row[0] for row in conn.execute(sql, sql_params)), dtype=np.int64)
                        if match or not query.terms else np.zeros(0, dtype=np.int64))
                rids.sort()
                if columns_only is not None:
                    rids = self._doc_values.keep(rids, columns_only)
                total = len(rids)
            elif columns_only is not None:  # e.g. a data scope's stores: filtered in memory, no join per match
                match = _match(query)
                rids = (np.fromiter((row[0] for row in conn.execute(
                    "SELECT rowid FROM docs_match WHERE docs_match MATCH ?", (match.full,))), dtype=np.int64)
                        if match else None if not query.terms else np.zeros(0, dtype=np.int64))
                if rids is not None:
                    rids.sort()
                rids = self._doc_values.keep(rids, columns_only)
                total = len(rids)
            else:
                match = _match(query)
                sql, sql_params = (("SELECT rowid FROM docs_match WHERE docs_match MATCH ?", [match.full])
                                   if match and not _has_filters(query.filters)  # no need to join doc_meta
                                   else (f"SELECT d.rid {from_where}", params))
                rids = np.fromiter((row[0] for row in conn.execute(sql, sql_params)), dtype=np.int64)
                rids.sort()
                total = len(rids)
            counted = self._doc_values.counts(rids, [_FACET_COLUMNS[name] for name in names])
            counters = {name: Counter(counted[_FACET_COLUMNS[name]]) for name in names}
            if "tags" in query.facets:
                counters["tags"] = Counter(dict(conn.execute(
                    f"SELECT t.tag, count(*) FROM doc_tags t JOIN (SELECT d.id {from_where}) m ON m.id = t.id "
                    "GROUP BY t.tag", params).fetchall()) if self._has_tags(conn) else {})
        return total, {name: _top(counters[name], query.facet_size) for name in query.facets}

    @staticmethod
    def _has_tags(conn: sqlite3.Connection) -> bool:
        return conn.execute("SELECT 1 FROM doc_tags LIMIT 1").fetchone() is not None

    @reports_damage
    def date_histogram(self, query: SearchQuery, interval: Literal["day", "week", "month"] = "day"
                       ) -> list[tuple[str, int]]:
        conn = self._reader()
        with _snapshot(conn):  # a pinned filter's rows and the buckets agree
            from_where, params = self._from_where(query)
            bucket = _BUCKETS[interval]
            rows = conn.execute(
                f"SELECT {bucket} AS bucket, count(*) {from_where} AND d.created_at IS NOT NULL "
                "GROUP BY bucket ORDER BY bucket", params).fetchall()
        return [(row[0], int(row[1])) for row in rows]
