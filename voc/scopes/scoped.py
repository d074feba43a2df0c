"""The facade as a scoped key sees it: the one place where a scope becomes a restriction.

``ScopedVoc`` wraps a :class:`voc.service.Voc` and exposes only what has been made scope-aware:
every index read goes through ``ScopedIndex`` (the restriction ANDed into the query's filters, so
hits, totals, facets, highlights, cursors, exports and tag-by-query all obey it on every backend),
reads by id go through ``ScopedStore`` (outside the scope a document does not exist), and topics and
indicators get scoped views. Anything else raises ``ScopeDenied`` rather than answer unscoped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any, Literal

from sqlalchemy import select

from indexing import BulkReport, Filters, IndexRecord, SearchBackend, SearchQuery, SearchResult
from voc.scopes.scope import Scope, ScopeDenied
from voc.store import documents

ID_CHUNK = 900  # SQLite's bound-parameter limit is 999 on old builds


class ScopedIndex(SearchBackend):
    """A read-only view of a backend in which only the scope's documents exist."""

    def __init__(self, inner: SearchBackend, scope: Scope,
                 topic_labels: Callable[[], dict[int, str]] | None = None) -> None:
        self.inner = inner
        self.scope = scope
        self.name = inner.name
        # the scope's own topic labels (ScopedTopics.labels): a hit never shows the corpus-wide label
        self.topic_labels = topic_labels
        if scope.values:  # every query of this view carries this filter: let the backend prepare it
            inner.pin_filter(scope.field, scope.values)

    @property
    def stale_fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.inner.stale_fields

    def _narrowed(self, query: SearchQuery | None) -> SearchQuery | None:
        query = query or SearchQuery(facets=(), highlight=False)
        filters = self.scope.narrow(query.filters)
        return None if filters is None else replace(query, filters=filters)

    def search(self, query: SearchQuery) -> SearchResult:
        narrowed = self._narrowed(query)
        if narrowed is None:
            return SearchResult(total=0, hits=[], facets={name: {} for name in query.facets})
        result = self.inner.search(narrowed)
        if self.topic_labels is not None and any(hit.topic_label for hit in result.hits):
            labels = self.topic_labels()
            result.hits = [replace(hit, topic_label=labels.get(hit.topic_id)) if hit.topic_label else hit
                           for hit in result.hits]
        return result

    def count(self, query: SearchQuery | None = None) -> int:
        narrowed = self._narrowed(query)
        return 0 if narrowed is None else self.inner.count(narrowed)

    def date_histogram(self, query: SearchQuery, interval: Literal["day", "week", "month"] = "day"
                       ) -> list[tuple[str, int]]:
        narrowed = self._narrowed(query)
        return [] if narrowed is None else self.inner.date_histogram(narrowed, interval)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        record = self.inner.get(doc_id)
        if record is None or not self.scope.allows_fields(record.get):
            return None
        if self.topic_labels is not None and record.get("topic_label"):
            record["topic_label"] = self.topic_labels().get(record.get("topic_id"))  # type: ignore[arg-type]
        return record

    def visible(self, ids: Sequence[str]) -> list[str]:
        """The given ids that the scope sees, in their order."""
        if self.scope.unrestricted:
            return list(ids)
        seen: set[str] = set()
        for start in range(0, len(ids), ID_CHUNK):
            chunk = list(ids[start:start + ID_CHUNK])
            seen.update(self.iter_ids(SearchQuery(filters=Filters(ids=chunk))))
        return [doc_id for doc_id in ids if doc_id in seen]

    def set_tags(self, tag: str, ids: Sequence[str], present: bool) -> int:
        return self.inner.set_tags(tag, self.visible(ids), present)

    # Writes of whole records belong to ingest and rebuilds, which run unscoped.
    def index(self, records: Sequence[IndexRecord]) -> BulkReport:
        raise ScopeDenied("a scoped key cannot write the index")

    def delete(self, ids: Sequence[str]) -> int:
        raise ScopeDenied("a scoped key cannot delete from the index")

    def clear(self) -> None:
        raise ScopeDenied("a scoped key cannot clear the index")

    def reindex(self, batches: Iterable[Sequence[IndexRecord]]) -> BulkReport:
        raise ScopeDenied("a scoped key cannot rebuild the index")

    def close(self) -> None:
        """The wrapped backend belongs to the unscoped facade."""


class ScopedStore:
    """The document store seen through a scope: reads by id and tag changes; the rest delegated
    (engine, counts of the index's progress), which the scoped views below use with the scope's SQL."""

    def __init__(self, inner: Any, scope: Scope, topic_labels: Callable[[], dict[int, str]] | None = None) -> None:
        self.inner = inner
        self.scope = scope
        self.topic_labels = topic_labels

    def __getattr__(self, name: str) -> Any:
        if name in ("engine", "unindexed_count", "indexed_count", "count"):
            return getattr(self.inner, name)
        raise ScopeDenied(f"store.{name} is not available to a scoped key")

    def visible(self, ids: Sequence[str]) -> list[str]:
        """The ids (existing documents) within the scope, in their order, from the store itself."""
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        with self.inner.engine.connect() as conn:
            for start in range(0, len(wanted), ID_CHUNK):
                chunk = wanted[start:start + ID_CHUNK]
                found.update(conn.scalars(select(documents.c.id).where(documents.c.id.in_(chunk),
                                                                        self.scope.sql(documents))))
        return [doc_id for doc_id in wanted if doc_id in found]

    def get(self, doc_id: str) -> Any:
        doc = self.inner.get(doc_id)
        if doc is None or not self.scope.allows_fields(lambda field: getattr(doc, field, None)):
            return None
        if self.topic_labels is not None and doc.topic_label:
            doc.topic_label = self.topic_labels().get(doc.topic_id)  # the scope's label, not the corpus's
        return doc

    def add_tag(self, tag: str, ids: Sequence[str]) -> list[str]:
        return self.inner.add_tag(tag, self.visible(ids))  # type: ignore[no-any-return]

    def remove_tag(self, tag: str, ids: Sequence[str]) -> list[str]:
        return self.inner.remove_tag(tag, self.visible(ids))  # type: ignore[no-any-return]


# What a scoped facade passes through untouched: these read or compute nothing stored.
_PASS_THROUGH = frozenset({"settings", "tokenizer", "normalizer", "pipeline", "query_terms", "build_query"})


class ScopedVoc:
    """``Voc`` for a scoped caller. Built per scope (cheap: the heavy parts are the wrapped facade's)."""

    def __init__(self, base: Any, scope: Scope) -> None:
        self.base = base
        self.scope = scope

    @property
    def unscoped(self) -> Any:
        """The wrapped facade, for the index health check only (it compares whole-index counts)."""
        return self.base

    def __getattr__(self, name: str) -> Any:
        if name in _PASS_THROUGH:
            return getattr(self.base, name)
        if name.startswith("__"):
            raise AttributeError(name)
        raise ScopeDenied(f"{name} is not available to a scoped key yet")

    @cached_property
    def index(self) -> ScopedIndex:
        return ScopedIndex(self.base.index, self.scope, self.topics.labels)

    @cached_property
    def store(self) -> ScopedStore:
        return ScopedStore(self.base.store, self.scope, self.topics.labels)

    def analyze_many(self, texts: Sequence[str], source: str = "review") -> list[dict[str, Any]]:
        """As ``Voc.analyze_many``, a text's topic named as the scope names it (no corpus-wide label)."""
        results: list[dict[str, Any]] = self.base.analyze_many(texts, source)
        if any(result.get("topic") for result in results):
            labels = self.topics.labels()
            for result in results:
                if result.get("topic"):
                    result["topic"] = {**result["topic"], "label": labels.get(result["topic"]["id"])}
        return results

    def analyze(self, text: str, source: str = "review") -> dict[str, Any]:
        return self.analyze_many([text], source)[0]

    @cached_property
    def topics(self) -> Any:
        from voc.scopes.views import ScopedTopics

        return ScopedTopics(self.base.topics, self.scope)

    @cached_property
    def indicators(self) -> Any:
        from voc.scopes.views import ScopedIndicators

        return ScopedIndicators(self.base.indicators, self.scope, self.store.visible)

    @cached_property
    def alerts(self) -> Any:
        from voc.scopes.views import ScopedAlerts

        return ScopedAlerts(self.base.alerts, self.scope, self.store.visible)

    @cached_property
    def tickets(self) -> Any:
        from voc.scopes.views import ScopedTickets

        return ScopedTickets(self.base.tickets, self.scope, self.store.visible)

    def close(self) -> None:
        """Resources belong to the wrapped facade."""

    def restriction(self) -> Filters | None:
        """For drivers, alerts and tickets: the scope's filters (None: nothing is visible)."""
        return self.scope.filters()

    def search(self, text: str | None = None, *, filters: Filters | None = None, **options: Any) -> SearchResult:
        return self.index.search(self.base.build_query(text, filters=filters, **options))

    def tag(self, tag: str, *, ids: Sequence[str] = (), query: SearchQuery | None = None,
            remove: bool = False) -> int:
        """As ``Voc.tag``; ids outside the scope are ignored like unknown ids (see ``outside``)."""
        tag = tag.strip()
        if not tag:
            raise ValueError("a tag cannot be empty")
        targets = self.store.visible(ids) if ids else self.index.ids_for(query) if query else []
        changed = self.store.remove_tag(tag, targets) if remove else self.store.add_tag(tag, targets)
        self.base.index.set_tags(tag, changed, present=not remove)
        return len(changed)

    def outside(self, ids: Sequence[str]) -> list[str]:
        """The given ids this scope does not see (unknown ones included: to a scope they are the same)."""
        visible = set(self.store.visible(ids))
        return [doc_id for doc_id in dict.fromkeys(ids) if doc_id not in visible]

    def tag_counts(self) -> dict[str, int]:
        result = self.index.search(SearchQuery(facets=("tags",), facet_size=10_000, limit=1, highlight=False))
        return dict(result.facets.get("tags", {}))

    def ingest_records(self, items: Sequence[Any], origin: str = "api") -> list[Any]:
        """Only documents the scope would see are taken; the others are rejected with the reason."""
        from voc.ingest.batch import ItemResult

        fields = ", ".join(field for field, _ in self.scope.restrictions)
        inside = [i for i, item in enumerate(items)
                  if self.scope.allows_fields(lambda field, item=item: _field_value(item.fields.get(field)))]
        results = self.base.ingest_records([items[i] for i in inside], origin=origin) if inside else []
        out: list[Any] = [ItemResult(index=i, status="rejected",
                                     reason=f"{fields} is outside this key's scope") for i in range(len(items))]
        for position, result in zip(inside, results, strict=True):
            out[position] = replace(result, index=position)
        return out

    def ingest(self, *_: Any, **__: Any) -> Any:
        raise ScopeDenied("file ingest is not available to a scoped key (send JSON documents instead)")


def restrict(voc: Any, filters: Filters | None) -> Filters:
    """``filters`` as ``voc`` may use them on the store (drivers choose their population this way): as
    given for the unscoped facade, ANDed with the scope for a scoped one; a scope that leaves nothing
    gives an id no document has (an empty list would mean "no filter")."""
    scope = voc.scope if isinstance(voc, ScopedVoc) else None
    if scope is None:
        return filters or Filters()
    narrowed = scope.narrow(filters)
    return narrowed if narrowed is not None else Filters(ids=["\x00"])


def _field_value(value: Any) -> str | None:
    return None if value is None else str(value).strip()


class ScopeViews:
    """One ``ScopedVoc`` per (tree version, scope), so each request does not rebuild one; a new tree
    version (checked on every call: one small query) drops the old views."""

    def __init__(self, voc: Any) -> None:
        from voc.scopes.store import OrgStore

        self.voc = voc
        self.orgs = OrgStore(voc.store.engine)
        self._views: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._lock = threading.Lock()

    def view(self, refs: Sequence[str]) -> Any:
        """The facade for these nodes: the unscoped one for no nodes or the root."""
        refs = tuple(refs)
        if not refs:
            return self.voc
        version = self.orgs.latest_version()
        key = (version, refs)
        with self._lock:
            found = self._views.get(key)
        if found is not None:
            return found
        scope = Scope.resolve(self.orgs.tree(version) if version else None, refs)
        view = self.voc if scope.unrestricted else ScopedVoc(self.voc, scope)
        with self._lock:
            if any(v != version for v, _ in self._views):
                self._views = {k: v for k, v in self._views.items() if k[0] == version}
            self._views[key] = view
        return view
