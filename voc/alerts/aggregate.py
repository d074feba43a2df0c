"""Aggregate rules, evaluated on a schedule: a topic, store or indicator whose volume or negative share
rose beyond chance, and newly emerging topics. The statistics are those of the topic trends
(`voc.topics.trends.emerging`: a one-sided Poisson test on volume, a two-proportion z-test on the
negative share), applied to whichever subject the rule groups by.

Only the columns the tests need are read, for the window the rule looks at; snippets are read for
the evidence documents alone (the store's masked ``text``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from voc.alerts.evaluate import Firing, snippet
from voc.alerts.rules import AlertRule
from voc.indicators.tables import indicator_mentions
from voc.store import documents
from voc.topics.trends import INTERVALS, Mention, emerging

MAX_EVIDENCE = 10
MAX_SNIPPETS = 3
_COLUMNS = (documents.c.id, documents.c.created_at, documents.c.source, documents.c.channel, documents.c.industry,
            documents.c.product, documents.c.store, documents.c.sentiment_label, documents.c.topic_id,
            documents.c.meta)


def newest_document(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        return conn.scalar(select(func.max(documents.c.created_at)))


def evaluate_aggregate(rule: AlertRule, engine: Engine, *, at: datetime,
                       topic_labels: Callable[[], dict[int, str]] | None = None) -> list[Firing]:
    """Firings of one rising / emerging_topic rule for the period ending at ``at``."""
    sens = rule.sensitivity
    length = timedelta(days=INTERVALS[sens.interval])
    start = at - length * (sens.baseline_periods + 1)
    by = "topic" if rule.kind == "emerging_topic" else sens.by
    query = select(*_COLUMNS).where(documents.c.created_at > start, documents.c.created_at <= at,
                                    documents.c.near_duplicate_of.is_(None))
    if rule.scope.source:
        query = query.where(documents.c.source.in_(rule.scope.source))
    if rule.scope.store:
        query = query.where(documents.c.store.in_(rule.scope.store))
    with engine.connect() as conn:
        rows = list(conn.execute(query))
        mapped = _indicators(conn, [row.id for row in rows]) if by == "indicator" or rule.scope.indicator else {}
    keys: dict[str, int] = {}
    mentions: list[Mention] = []
    members: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if not rule.scope.admits(row, mapped.get(row.id)):
            continue
        negative = row.sentiment_label == "negative"
        for subject in _subjects(row, by, mapped):
            mentions.append(Mention(keys.setdefault(subject, len(keys)), row.created_at, negative))
            if row.created_at > at - length:
                members[subject].append(row)
    names = {index: subject for subject, index in keys.items()}
    found = emerging(mentions, interval=sens.interval, at=at, baseline_periods=sens.baseline_periods,
                     alpha=sens.alpha, z_threshold=sens.z_threshold, min_count=sens.min_count)
    labels = topic_labels() if by == "topic" and topic_labels else {}
    firings = []
    for item in found:
        reasons = [r for r in item["reasons"] if sens.measure == "both" or r == sens.measure]
        if rule.kind == "emerging_topic":
            reasons = ["new"] if item["baseline_mean"] == 0 and "volume" in item["reasons"] else []
        if not reasons:
            continue
        subject = names[item["topic_id"]]
        evidence = sorted(members[subject], key=lambda r: (r.sentiment_label != "negative", r.created_at),
                          reverse=False)[:MAX_EVIDENCE]
        name = labels.get(int(subject.split(":", 1)[1]), "") if by == "topic" else ""
        shown = f"{subject} {name}".strip()
        what = "新话题 new topic" if rule.kind == "emerging_topic" else f"上升 rising {'+'.join(reasons)}"
        detail = {key: item[key] for key in ("count", "baseline_mean", "p_value", "negative_share",
                                              "baseline_negative_share", "z", "period")}
        firings.append(Firing(rule, subject, f"{what}: {shown} ({item['count']} docs, p={item['p_value']:.2g})",
                              [r.id for r in evidence], [], {**detail, "reasons": reasons, "label": name}))
    if firings:
        _add_snippets(engine, firings)
    return firings


def _subjects(row: Any, by: str, mapped: dict[str, set[str]]) -> list[str]:
    if by == "store":
        return [f"store:{row.store}"] if row.store else []
    if by == "indicator":
        return [f"indicator:{indicator}" for indicator in sorted(mapped.get(row.id, ()))]
    return [f"topic:{row.topic_id}"] if row.topic_id is not None and row.topic_id >= 0 else []


def _indicators(conn: Any, ids: list[str]) -> dict[str, set[str]]:
    mapped: dict[str, set[str]] = defaultdict(set)
    for offset in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        chunk = ids[offset:offset + 900]
        query = select(indicator_mentions.c.document_id, indicator_mentions.c.indicator_id)
        for doc_id, indicator in conn.execute(query.where(indicator_mentions.c.document_id.in_(chunk))):
            mapped[doc_id].add(indicator)
    return mapped


def _add_snippets(engine: Engine, firings: list[Firing]) -> None:
    wanted = {doc_id for firing in firings for doc_id in firing.document_ids[:MAX_SNIPPETS]}
    with engine.connect() as conn:
        texts = dict(conn.execute(select(documents.c.id, documents.c.text).where(documents.c.id.in_(wanted))).all())
    for firing in firings:
        firing.snippets = [snippet(texts[doc_id]) for doc_id in firing.document_ids[:MAX_SNIPPETS] if doc_id in texts]
