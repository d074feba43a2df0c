"""Topics and indicators seen through a scope: figures recomputed over the scope's documents only.

Topic sizes, negative shares, trends and emerging-topic tests are computed from the scope's documents,
and so are a topic's keywords, label and quotes (voc.scopes.topic_terms: c-TF-IDF over the scope's members
of each topic, so no word of another store's documents shows); a topic with none of them is not shown.
Indicator coverage is counted over the scope's documents, and a suggestion's evidence (document ids,
quotes, count, sources) is cut down to them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import case, func, select

from voc.scopes.scope import Scope, ScopeDenied
from voc.scopes.topic_terms import TopicWords, scoped_topic_words
from voc.store import documents
from voc.topics import trends


class ScopedTopics:
    def __init__(self, base: Any, scope: Scope) -> None:
        self.base = base
        self.scope = scope
        self._lock = threading.Lock()
        self._words: tuple[Any, dict[int, TopicWords]] | None = None  # (what they were computed from, words)
        self._labels: tuple[Any, dict[int, str]] | None = None  # (build id, labels) for hits and documents

    @property
    def cleared_builds(self) -> list[dict[str, Any]]:
        return self.base.cleared_builds  # type: ignore[no-any-return]

    def _figures(self) -> dict[int, tuple[int, int]]:
        """Per topic: documents and negative documents within the scope."""
        c = documents.c
        query = (select(c.topic_id, func.count(), func.sum(case((c.sentiment_label == "negative", 1), else_=0)))
                 .where(c.topic_id >= 0, self.scope.sql(documents)).group_by(c.topic_id))
        with self.base.voc.store.engine.connect() as conn:
            return {int(t): (int(n), int(neg or 0)) for t, n, neg in conn.execute(query)}

    def _topic_words(self, figures: dict[int, tuple[int, int]]) -> dict[int, TopicWords]:
        """Keywords, labels and quotes of the scope's topics, recomputed when a build or the scope's
        membership figures change (a request otherwise reuses them)."""
        build = self.base.store.latest_build()
        key = (build["id"] if build else None, tuple(sorted(figures.items())))
        with self._lock:
            if self._words is not None and self._words[0] == key:
                return self._words[1]
        quotes = {topic.id: list(topic.quotes) for topic in self.base.list_topics()}
        words = scoped_topic_words(self.base.voc.store.engine, self.scope, self.base.voc.tokenizer.part_of_speech,
                                   quotes)
        with self._lock:
            self._words = (key, words)
        return words

    def labels(self) -> dict[int, str]:
        """Topic id -> the scope's label, recomputed per topic build (the words come from the scope's
        documents whenever they are computed, so a label a few ingests old still names nothing outside)."""
        build = self.base.store.latest_build()
        build_id = build["id"] if build else None
        with self._lock:
            if self._labels is not None and self._labels[0] == build_id:
                return self._labels[1]
        labels = {topic_id: words.label for topic_id, words in self._topic_words(self._figures()).items()}
        with self._lock:
            self._labels = (build_id, labels)
        return labels

    def _scoped(self, topic: Any, figures: dict[int, tuple[int, int]], words: dict[int, TopicWords]) -> Any | None:
        size, negative = figures.get(topic.id, (0, 0))
        own = words.get(topic.id)
        if not size or own is None:
            return None
        return replace(topic, size=size, negative_share=round(negative / size, 4), label=own.label,
                       keywords=list(own.keywords), quotes=list(own.quotes))

    def list_topics(self) -> list[Any]:
        figures = self._figures()
        words = self._topic_words(figures)
        found = [t for t in (self._scoped(topic, figures, words) for topic in self.base.list_topics()) if t is not None]
        return sorted(found, key=lambda t: (-t.size, t.id))

    def mentions(self, topic_id: int | None = None) -> Iterator[trends.Mention]:
        c = documents.c
        conditions = [c.created_at.is_not(None), c.topic_id >= 0, self.scope.sql(documents)]
        if topic_id is not None:
            conditions.append(c.topic_id == topic_id)
        for row in self.base._rows([c.topic_id, c.created_at, c.sentiment_label], conditions):
            yield trends.Mention(row.topic_id, row.created_at, row.sentiment_label == "negative")

    def topic(self, topic_id: int, interval: str = "week") -> dict[str, Any] | None:
        topic = self.base.store.get(topic_id)
        figures = self._figures()
        scoped = self._scoped(topic, figures, self._topic_words(figures)) if topic is not None else None
        if scoped is None:
            return None
        return {**scoped.to_dict(), "trend": trends.trend(self.mentions(topic_id), interval)}

    def trend(self, topic_id: int, interval: str = "day") -> list[dict[str, Any]]:
        return trends.trend(self.mentions(topic_id), interval)

    def emerging(self, **options: Any) -> list[dict[str, Any]]:
        labels = {topic.id: topic.label for topic in self.list_topics()}  # the scope's own labels
        found = trends.emerging(self.mentions(), **options)
        return [{**item, "label": labels.get(item["topic_id"], "")} for item in found if item["topic_id"] in labels]

    def status(self) -> dict[str, Any]:
        return self.base.status()  # type: ignore[no-any-return]

    def hierarchy(self) -> list[dict[str, Any]]:
        return self.base.hierarchy()  # type: ignore[no-any-return]

    def build(self, *_: Any, **__: Any) -> Any:
        raise ScopeDenied("topics are built over the whole corpus: not by a scoped key")


# Indicator-system reads and reviews that hold no document evidence: the tree is shared by every scope.
# ``store`` holds the tree versions and the mapping (drivers read its version); document reads go through
# the scoped methods below.
_INDICATOR_PASS_THROUGH = frozenset({"show", "tree", "versions", "diff", "audit", "import_tree", "review",
                                     "export", "suggest", "learn_examples", "forget_examples", "map_documents",
                                     "store"})


class ScopedIndicators:
    def __init__(self, base: Any, scope: Scope, visible: Any) -> None:
        self.base = base
        self.scope = scope
        self._visible = lambda ids: set(visible(ids))  # ids -> those the scope sees (ScopedStore.visible)

    def __getattr__(self, name: str) -> Any:
        if name in _INDICATOR_PASS_THROUGH:
            return getattr(self.base, name)
        raise ScopeDenied(f"indicators.{name} is not available to a scoped key yet")

    def coverage(self, *, sources: Sequence[str] = (), industries: Sequence[str] = ()) -> dict[str, Any]:
        from voc.indicators.corpus import scope_conditions
        from voc.indicators.coverage import coverage
        from voc.indicators.tables import indicator_mapped

        tree = self.base.tree()
        self.base.map_documents()
        with self.base.voc.store.engine.connect() as conn:
            mapped_ids = select(indicator_mapped.c.document_id).where(indicator_mapped.c.version == tree.version)
            created = dict(conn.execute(select(documents.c.id, documents.c.created_at).where(
                documents.c.id.in_(mapped_ids), self.scope.sql(documents), *scope_conditions(sources, industries))
            ).all())
            mentions = [m for m in self.base.store.mentions(conn, tree.version) if m["document_id"] in created]
        return coverage(tree, mentions, created, len(created))

    def preview_rule(self, rule: Any, *, limit: int = 20, sources: Sequence[str] = (),
                     industries: Sequence[str] = (), max_documents: int | None = None) -> dict[str, Any]:
        from voc.indicators.corpus import iter_docs
        from voc.indicators.rules import Rule, parse_rule
        from voc.indicators.rules.preview import preview

        parsed = rule if isinstance(rule, Rule) else parse_rule(rule, self.base.voc.tokenizer)

        def batches() -> Iterator[list[Any]]:
            for batch in iter_docs(self.base.voc.store.engine, sources=sources, industries=industries):
                visible = self._visible([doc.id for doc in batch])
                yield [doc for doc in batch if doc.id in visible]

        return preview(parsed, batches(), self.base.voc.tokenizer, limit=limit,  # type: ignore[no-any-return]
                       max_documents=max_documents)

    def _evidence(self, suggestion: dict[str, Any]) -> dict[str, Any]:
        evidence = dict(suggestion.get("evidence") or {})
        ids = list(evidence.get("document_ids") or [])
        visible = self._visible(ids)
        kept = [doc_id for doc_id in ids if doc_id in visible]
        evidence["document_ids"] = kept
        evidence["count"] = len(kept)
        evidence["quotes"] = [q for q in evidence.get("quotes") or [] if q.get("document_id") in visible]
        sources: dict[str, int] = {}
        with self.base.voc.store.engine.connect() as conn:
            for start in range(0, len(kept), 900):  # SQLite's bound-parameter limit
                for source, count in conn.execute(select(documents.c.source, func.count()).where(
                        documents.c.id.in_(kept[start:start + 900])).group_by(documents.c.source)):
                    sources[source] = sources.get(source, 0) + int(count)
        evidence["sources"] = sources
        return {**suggestion, "evidence": evidence}

    def suggestions(self, status: tuple[str, ...] | list[str] = ()) -> list[dict[str, Any]]:
        return [self._evidence(item) for item in self.base.suggestions(status)]

    def suggestion(self, suggestion_id: str) -> dict[str, Any]:
        return self._evidence(self.base.suggestion(suggestion_id))



class ScopedTickets:
    """Tickets of the scope's nodes only: every read and change is limited to owners in the subtrees
    (``owners`` of the ticket service), opening one needs an owner inside and evidence the scope sees."""

    def __init__(self, base: Any, scope: Scope, visible: Any) -> None:
        self.base = base
        self.scope = scope
        self.visible = visible  # ids -> the ones the scope sees (ScopedStore.visible)
        self.clock = base.clock

    def _owners(self, owners: set[str] | None) -> set[str]:
        mine = set(self.scope.owners)
        return mine if owners is None else set(owners) & mine

    def get(self, ticket_id: int, *, owners: set[str] | None = None) -> Any:
        return self.base.get(ticket_id, owners=self._owners(owners))

    def list(self, *, owners: set[str] | None = None, **options: Any) -> Any:
        return self.base.list(owners=self._owners(owners), **options)

    def count(self, *, owners: set[str] | None = None) -> Any:
        return self.base.count(owners=self._owners(owners))

    def detail(self, ticket_id: int, *, owners: set[str] | None = None, **options: Any) -> Any:
        return self.base.detail(ticket_id, owners=self._owners(owners), **options)

    def set_status(self, ticket_id: int, new: str, *, owners: set[str] | None = None, **options: Any) -> Any:
        return self.base.set_status(ticket_id, new, owners=self._owners(owners), **options)

    def comment(self, ticket_id: int, text: str, *, owners: set[str] | None = None, **options: Any) -> Any:
        return self.base.comment(ticket_id, text, owners=self._owners(owners), **options)

    def assign(self, ticket_id: int, owner: str, *, owners: set[str] | None = None, **options: Any) -> Any:
        if not self.scope.allows_owner(owner):
            raise ScopeDenied(f"{owner!r} is outside this key's scope")
        return self.base.assign(ticket_id, owner, owners=self._owners(owners), **options)

    def report(self, *, owners: set[str] | None = None, **options: Any) -> Any:
        return self.base.report(owners=self._owners(owners), **options)

    def find_by_alert(self, alert_id: str) -> Any:
        found = self.base.find_by_alert(alert_id)
        return found if found is not None and self.scope.allows_owner(found.owner) else None

    def open(self, title: str, owner: str, evidence_ids: Sequence[str], **options: Any) -> Any:
        if not self.scope.allows_owner(owner):
            raise ScopeDenied(f"{owner!r} is outside this key's scope")
        outside = set(evidence_ids) - set(self.visible(evidence_ids))
        if outside:
            raise ScopeDenied(f"{len(outside)} evidence document(s) are unknown or outside this key's scope")
        return self.base.open(title, owner, evidence_ids, **options)

    def escalate(self, *_: Any, **__: Any) -> Any:
        raise ScopeDenied("escalation runs over every ticket: not by a scoped key")


class ScopedAlerts:
    """Alerts whose every evidence document the scope sees (an alert about a region's rising store is
    visible to the region, not to another store); an alert without documents only at the top. Rules are
    definitions, shown as they are; running rules and the delivery log stay with unscoped admins."""

    PAGE = 500

    def __init__(self, base: Any, scope: Scope, visible: Any) -> None:
        self.base = base
        self.scope = scope
        self.visible = visible
        self.store = self  # the alert route reads one alert as ``alerts.store.get(id)``

    def _shown(self, alert: dict[str, Any] | None) -> bool:
        ids = list(alert.get("document_ids") or []) if alert else []
        return bool(ids) and len(self.visible(ids)) == len(set(ids))

    def get(self, alert_id: int) -> dict[str, Any] | None:
        found = self.base.store.get(alert_id)
        return found if self._shown(found) else None

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        found = self.base.alert(alert_id)
        return found if self._shown(found) else None

    def alerts(self, *, status: Sequence[str] = (), rule: str | None = None, limit: int = 100,
               offset: int = 0) -> list[dict[str, Any]]:
        shown: list[dict[str, Any]] = []
        start = 0
        while len(shown) < offset + limit:
            page = self.base.alerts(status=status, rule=rule, limit=self.PAGE, offset=start)
            shown += [alert for alert in page if self._shown(alert)]
            if len(page) < self.PAGE:
                break
            start += self.PAGE
        return shown[offset:offset + limit]

    def set_status(self, alert_id: int, status: str) -> dict[str, Any] | None:
        """Acknowledge, close or reopen an alert the scope sees; None (not found) otherwise."""
        return self.base.set_status(alert_id, status) if self.get(alert_id) is not None else None

    def rules(self) -> Any:
        return self.base.rules()

    def public_webhooks(self) -> Any:
        return self.base.public_webhooks()

    def __getattr__(self, name: str) -> Any:
        raise ScopeDenied(f"alerts.{name} is not available to a scoped key")
