"""The Elasticsearch backend: the embedded index's contract on a real node or cluster.

Documents live in versioned indices (``<prefix>-documents-v<N>``) behind one alias that every read
and write uses, so a rebuild fills a new version while search keeps answering from the old one and
then swaps the alias in one atomic ``_aliases`` call. Only core features are used (no painless, no
``_update_by_query`` or ``_reindex``: the integ-test distribution lacks those modules), so tags are
changed by optimistic read-modify-write and rebuilds stream from the document store.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, Literal

from elasticsearch import NotFoundError

from indexing.base import (
    BulkReport,
    CursorKind,
    IndexRecord,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResult,
    decode_cursor,
    encode_cursor,
)
from indexing.es_bulk import (
    RETRY_STATUSES,
    BulkWriter,
    Connection,
    EsUnavailable,
    RetryPolicy,
    call,
    encode_action,
    scrub,
)
from indexing.es_mapping import (
    LAYOUT,
    MAPPING,
    SORTS,
    STALE_FIELDS,
    build_query,
    effective_sort,
    facet_aggs,
    from_source,
    missing_properties,
    read_facets,
    to_source,
)
from indexing.highlight import highlight
from indexing.matching import highlight_strings
from voc.settings import VocSettings

log = logging.getLogger(__name__)
MAX_WINDOW = 10_000  # Elasticsearch's default index.max_result_window
# The sort values Elasticsearch returns for each sort: (score or field value, id); dates are epoch
# milliseconds, and a missing value is Long.MIN/MAX_VALUE or ±Infinity.
_CURSOR_KINDS: dict[str, tuple[CursorKind, CursorKind]] = {
    "relevance": ("float", "str"), "newest": ("int", "str"), "oldest": ("int", "str"),
    "most_negative": ("float", "str"), "most_positive": ("float", "str"),
}
_HIST_INTERVALS = {"day": "day", "week": "week", "month": "month"}


class ElasticsearchIndex(SearchBackend):
    name = "elasticsearch"

    def __init__(self, connection: Connection, prefix: str = "voc", *, shards: int = 1,
                 replicas: int = 0, bulk_bytes: int = 5_000_000,
                 policy: RetryPolicy | None = None, refresh: bool = True) -> None:
        self.connection = connection
        self.client = connection.client()
        self.alias = f"{prefix}-documents"
        self.shards = shards
        self.replicas = replicas
        self.policy = policy or RetryPolicy()
        # read-your-writes like the embedded index; bulk loaders may switch it off and refresh once
        self.refresh = refresh
        self.in_flight = 2  # bulk requests a reindex keeps open at once
        self.stale_fields: tuple[str, ...] = ()  # fields the live version's older documents lack
        self.writer = BulkWriter(self.client, connection, self.policy,
                                 max_bytes=bulk_bytes)
        self._ensure_alias()

    @classmethod
    def from_settings(cls, settings: VocSettings) -> ElasticsearchIndex:
        from voc.es_node import local_credentials

        url = settings.es_url or "http://127.0.0.1:9200"
        password = settings.es_password.get_secret_value() if settings.es_password else None
        api_key = settings.es_api_key.get_secret_value() if settings.es_api_key else None
        connection = Connection.from_url(url, username=settings.es_username, password=password,
                                         api_key=api_key, ca_cert=settings.es_ca_cert,
                                         timeout=settings.es_timeout)
        if not (connection.username or connection.api_key):
            # `voc es start` keeps the local node's generated password; use it for that node only.
            creds = local_credentials(connection.url)
            if creds:
                connection.username, connection.password = creds
        return cls(connection, settings.es_index_prefix, shards=settings.es_shards,
                   replicas=settings.es_replicas, bulk_bytes=settings.es_bulk_bytes,
                   policy=RetryPolicy(max_attempts=settings.es_max_attempts))

    def _call(self, fn: Any, what: str = "request") -> Any:
        return call(fn, self.connection, self.policy, what)

    def close(self) -> None:
        self.client.close()

    # --- index versions and the alias ------------------------------------------------------------
    def _versions(self) -> dict[str, bool]:
        """Every versioned index of this alias -> whether the alias points at it."""
        found = self._call(lambda: self.client.indices.get_alias(index=f"{self.alias}-v*",
                                                                 allow_no_indices=True, ignore_unavailable=True))
        return {name: self.alias in (info.get("aliases") or {}) for name, info in found.items()
                if re.fullmatch(rf"{re.escape(self.alias)}-v\d+", name)}

    def current_index(self) -> str:
        live = [name for name, aliased in self._versions().items() if aliased]
        if len(live) != 1:
            raise RuntimeError(f"alias {self.alias} points at {live or 'nothing'}; run `voc index rebuild`")
        return live[0]

    def _create_version(self, *, bulk_load: bool = False) -> str:
        numbers = [int(name.rsplit("-v", 1)[1]) for name in self._versions()]
        name = f"{self.alias}-v{max(numbers, default=0) + 1}"
        settings = {"number_of_shards": self.shards,
                    "number_of_replicas": 0 if bulk_load else self.replicas,
                    "refresh_interval": "-1" if bulk_load else "1s",
                    # a failed bulk load is thrown away whole, so per-request fsync buys nothing
                    "translog.durability": "async" if bulk_load else "request"}
        self._call(lambda: self.client.indices.create(index=name, settings=settings, mappings=MAPPING,
                                                      wait_for_active_shards="1"), "create index")
        return name

    def _ensure_alias(self) -> None:
        if any(self._versions().values()):
            self._add_new_fields()
            return
        try:
            name = self._create_version()
        except EsUnavailable as exc:
            if "resource_already_exists" in str(exc) and any(self._versions().values()):
                return  # another process created the first version at the same moment
            raise
        actions = [{"add": {"index": name, "alias": self.alias, "is_write_index": True}}]
        self._call(lambda: self.client.indices.update_aliases(actions=actions), "alias")

    def _add_new_fields(self) -> None:
        """A version created by an older release lacks fields added to MAPPING since (it is strict, so
        it would refuse documents carrying them): add them in place; a rebuild is not needed for that."""
        found = self._call(lambda: self.client.indices.get_mapping(index=self.alias), "mapping")
        for name, info in found.items():
            if ((info.get("mappings") or {}).get("_meta") or {}).get("layout", 1) < LAYOUT:
                self.stale_fields = STALE_FIELDS
                log.warning("the search index %s was built before character n-grams, rating and survey score "
                            "were indexed: short strings and those filters miss its older documents until "
                            "`voc index rebuild`", name)
            body = missing_properties(info.get("mappings") or {})
            if body:
                self._call(lambda name=name, body=body: self.client.indices.put_mapping(index=name, **body),
                           "add mapping fields")

    def _swap(self, new: str) -> None:
        old = [name for name, aliased in self._versions().items() if aliased]
        actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
        # One request: readers see the old version or the new one, never neither.
        self._call(lambda: self.client.indices.update_aliases(actions=actions), "swap alias")
        for name in old:
            self._call(lambda name=name: self.client.indices.delete(index=name), "delete old index")
        self.stale_fields = ()  # a new version has the current layout

    def reindex(self, batches: Iterable[Sequence[IndexRecord]]) -> BulkReport:
        """Build a new version from ``batches`` (the whole store) and swap the alias to it.

        Search keeps answering from the current version until the swap. A failed run deletes its
        half-built version and leaves the alias untouched; versions orphaned by a killed run are
        removed when the next one starts.
        """
        for name, aliased in self._versions().items():
            if not aliased:
                self._call(lambda name=name: self.client.indices.delete(index=name), "delete orphan")
        new = self._create_version(bulk_load=True)
        report = BulkReport()

        def collect(outcome: Any) -> None:
            report.indexed += len(outcome.ok)
            report.errors.update(outcome.errors)

        try:
            # Encode the next batch while the node indexes the previous ones: on a small machine
            # that overlap, not either side alone, sets the pace.
            with ThreadPoolExecutor(max_workers=self.in_flight) as pool:
                pending: deque[Future[Any]] = deque()
                for batch in batches:
                    actions = [(r.id, encode_action("index", r.id, to_source(r))) for r in batch]
                    pending.append(pool.submit(self._write, new, actions))
                    while len(pending) >= self.in_flight:
                        collect(pending.popleft().result())
                while pending:
                    collect(pending.popleft().result())
            live = {"number_of_replicas": self.replicas, "refresh_interval": "1s",
                    "translog.durability": "request"}
            self._call(lambda: self.client.indices.put_settings(index=new, settings=live), "settings")
            self._call(lambda: self.client.indices.refresh(index=new), "refresh")
            self._call(lambda: self.client.cluster.health(index=new, wait_for_status="yellow", timeout="60s"))
            self._swap(new)
        except BaseException:
            self._call(lambda: self.client.indices.delete(index=new, ignore_unavailable=True), "cleanup")
            raise
        return report

    # --- writes ---------------------------------------------------------------------------------
    def _write(self, index: str, actions: list[tuple[str, bytes]]) -> Any:
        return self.writer.send(index, actions)

    def _refresh(self) -> None:
        if self.refresh:
            self._call(lambda: self.client.indices.refresh(index=self.alias), "refresh")

    def index(self, records: Sequence[IndexRecord]) -> BulkReport:
        if not records:
            return BulkReport()
        outcome = self._write(self.alias, [(r.id, encode_action("index", r.id, to_source(r))) for r in records])
        self._refresh()
        return BulkReport(indexed=len(outcome.ok), errors=outcome.errors)

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        outcome = self._write(self.alias, [(i, encode_action("delete", i, None)) for i in dict.fromkeys(ids)])
        self._refresh()
        return sum(1 for result in outcome.results.values() if result == "deleted")

    def set_tags(self, tag: str, ids: Sequence[str], present: bool) -> int:
        changed = 0
        pending = list(dict.fromkeys(ids))
        for _ in range(self.policy.max_attempts):
            if not pending:
                break
            conflicts: list[str] = []
            for start in range(0, len(pending), 1000):
                chunk = pending[start:start + 1000]
                docs = self._call(lambda chunk=chunk: self.client.mget(
                    index=self.alias, ids=chunk, source_includes=["tags"]), "mget")["docs"]
                actions = []
                for doc in docs:
                    if not doc.get("found"):
                        continue
                    tags = set((doc.get("_source") or {}).get("tags") or [])
                    if (tag in tags) == present:
                        continue
                    new_tags = sorted(tags | {tag} if present else tags - {tag})
                    # No painless here: guard the read-modify-write with the version we read.
                    actions.append((doc["_id"], encode_action(
                        "update", doc["_id"], {"doc": {"tags": new_tags}},
                        if_seq_no=doc["_seq_no"], if_primary_term=doc["_primary_term"])))
                outcome = self._write(self.alias, actions)
                changed += len(outcome.ok)
                conflicts += [i for i, reason in outcome.errors.items() if "version_conflict" in reason]
            pending = conflicts
        self._refresh()
        return changed

    def drop(self) -> None:
        """Delete every version and the alias (tests, uninstall); the backend is unusable afterwards."""
        for name in self._versions():
            self._call(lambda name=name: self.client.indices.delete(index=name), "drop")

    def clear(self) -> None:
        new = self._create_version()
        self._swap(new)

    # --- reads ----------------------------------------------------------------------------------
    def get(self, doc_id: str) -> dict[str, Any] | None:
        def fetch() -> Any:
            try:
                return self.client.get(index=self.alias, id=doc_id)
            except NotFoundError:
                return None

        found = self._call(fetch, "get")
        return from_source(found["_source"]) if found else None

    def count(self, query: SearchQuery | None = None) -> int:
        body = build_query(query or SearchQuery())
        return int(self._call(lambda: self.client.count(index=self.alias, query=body), "count")["count"])

    def search(self, query: SearchQuery) -> SearchResult:
        sort_name = effective_sort(query)
        sort = SORTS[sort_name]
        body: dict[str, Any] = {
            "query": build_query(query), "sort": sort, "size": query.limit, "track_total_hits": True,
            "track_scores": bool(query.terms), "_source": {"excludes": ["terms", "grams"]},
        }
        if query.cursor:
            body["search_after"] = decode_cursor(query.cursor, _CURSOR_KINDS[sort_name])
        elif query.offset + query.limit <= MAX_WINDOW:
            body["from"] = query.offset
        elif query.offset:
            body["search_after"] = self._position(body, query.offset)
        aggs = facet_aggs(query)
        if aggs:
            # Hits and facets as two searches in one round trip: the node runs them side by side,
            # and the hit-less facet search is answered from the shard request cache when repeated.
            facet_body = {"query": body["query"], "size": 0, "track_total_hits": False, "aggs": aggs}
            response, facet_response = self._msearch([body, facet_body])
            facets = read_facets(query, facet_response["aggregations"])
        else:
            response = self._call(lambda: self.client.search(index=self.alias, **body), "search")
            facets = {}
        rows = response["hits"]["hits"]
        hits = [self._hit(row, query) for row in rows]
        next_cursor = encode_cursor(rows[-1]["sort"]) if rows and len(rows) == query.limit else None
        return SearchResult(total=int(response["hits"]["total"]["value"]), hits=hits, facets=facets,
                            next_cursor=next_cursor)

    def _msearch(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        searches: list[dict[str, Any]] = []
        for body in bodies:
            searches += [{}, body]
        for attempt in range(self.policy.max_attempts):
            answers = self._call(lambda: self.client.msearch(index=self.alias, searches=searches),
                                 "search")["responses"]
            failed = [answer for answer in answers if "error" in answer]
            if not failed:
                return list(answers)
            status = int(failed[0].get("status", 500))
            if status not in RETRY_STATUSES or attempt == self.policy.max_attempts - 1:
                error = failed[0]["error"]
                reason = f"{error.get('type')}: {error.get('reason')}" if isinstance(error, dict) else error
                raise EsUnavailable(scrub(f"Elasticsearch search failed ({status}): {reason}",
                                          self.connection.secrets))
            self.policy.sleep(self.policy.delay(attempt))
        raise AssertionError("unreachable")

    def _position(self, body: dict[str, Any], offset: int) -> list[Any]:
        """Sort values of the hit just before ``offset``, walked with search_after beyond the window."""
        after: list[Any] | None = None
        remaining = offset
        while remaining > 0:
            step = min(remaining, MAX_WINDOW)
            page = {"query": body["query"], "sort": body["sort"], "size": step, "_source": False,
                    "track_total_hits": False}
            if after is not None:
                page["search_after"] = after
            rows = self._call(lambda page=page: self.client.search(index=self.alias, **page))["hits"]["hits"]
            if not rows:
                break
            after = rows[-1]["sort"]
            remaining -= len(rows)
        return after or []

    def _hit(self, row: dict[str, Any], query: SearchQuery) -> SearchHit:
        src = row["_source"]
        created = src.get("created_at")
        return SearchHit(
            id=src["id"], text=src["text"], source=src["source"],
            score=float(row.get("_score") or 0.0) if query.terms else 0.0,
            created_at=datetime.fromisoformat(created) if created else None, channel=src.get("channel"),
            industry=src.get("industry"), product=src.get("product"), store=src.get("store"),
            sentiment=src.get("sentiment"), sentiment_score=src.get("sentiment_score"),
            topic_id=src.get("topic_id"), topic_label=src.get("topic_label"),
            tags=sorted(src.get("tags") or []), near_duplicate_of=src.get("near_duplicate_of"),
            highlight=highlight(src["text"], highlight_strings(query)) if query.highlight and query.terms else None,
            rating=src.get("rating"), survey_score=src.get("survey_score"),
        )

    def date_histogram(self, query: SearchQuery, interval: Literal["day", "week", "month"] = "day"
                       ) -> list[tuple[str, int]]:
        aggs = {"hist": {"date_histogram": {
            "field": "created_at", "calendar_interval": _HIST_INTERVALS[interval], "min_doc_count": 1,
            "format": "yyyy-MM-dd",
        }}}
        response = self._call(lambda: self.client.search(
            index=self.alias, query=build_query(query), size=0, aggs=aggs), "histogram")
        return [(b["key_as_string"], int(b["doc_count"])) for b in response["aggregations"]["hist"]["buckets"]]
