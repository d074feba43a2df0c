"""Coverage of the indicator tree by VOC evidence: volume, share, net sentiment, trend, quotes.

A group counts every document that mentions it or anything below it, once. Net sentiment is
(positive − negative) / mentions over those documents, each document taking the polarity of its
best-scoring mention in the subtree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from voc.indicators.model import IndicatorTree

QUOTES = 3


def period_of(moment: datetime, weekly: bool) -> str:
    if weekly:
        return (moment - timedelta(days=moment.weekday())).date().isoformat()
    return moment.strftime("%Y-%m")


def growth(dates: list[datetime], all_dates: list[datetime]) -> float | None:
    """Change of the share of documents between the earlier and the later half of the time span.

    Shares, not counts, so that a corpus that simply grew does not make everything look like a trend.
    None when there is no time span to speak of.
    """
    if len(all_dates) < 4:
        return None
    first, last = min(all_dates), max(all_dates)
    if last - first < timedelta(days=2):
        return None
    middle = first + (last - first) / 2
    early_total = sum(1 for d in all_dates if d < middle)
    late_total = len(all_dates) - early_total
    if not early_total or not late_total:
        return None
    early = sum(1 for d in dates if d < middle) / early_total
    late = sum(1 for d in dates if d >= middle) / late_total
    if early == 0:
        return 1.0 if late > 0 else 0.0
    return round((late - early) / early, 4)


def coverage(tree: IndicatorTree, mentions: list[dict[str, Any]], created: dict[str, datetime | None],
             total_documents: int) -> dict[str, Any]:
    """The coverage report; ``created`` maps every analysed document id to its time (or None)."""
    by_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for mention in mentions:
        by_node[mention["indicator_id"]].append(mention)
    all_dates = [d for d in created.values() if d is not None]
    weekly = bool(all_dates) and (max(all_dates) - min(all_dates)) <= timedelta(days=120)
    rows = []
    for loc in tree.walk():
        subtree = tree.descendants(loc.node.id)
        per_doc: dict[str, dict[str, Any]] = {}
        for node_id in subtree:
            for mention in by_node.get(node_id, ()):
                old = per_doc.get(mention["document_id"])
                if old is None or mention["score"] > old["score"]:
                    per_doc[mention["document_id"]] = mention
        rows.append(_row(loc, per_doc, created, all_dates, weekly, total_documents))
    mapped = {m["document_id"] for m in mentions}
    return {
        "version": tree.version,
        "documents": total_documents,
        "mapped_documents": len(mapped),
        "unmapped_documents": max(total_documents - len(mapped), 0),
        "trend_granularity": "week" if weekly else "month",
        "indicators": rows,
        "no_evidence": [row["id"] for row in rows if row["no_evidence"]],
    }


def _row(loc: Any, per_doc: dict[str, dict[str, Any]], created: dict[str, datetime | None],
         all_dates: list[datetime], weekly: bool, total: int) -> dict[str, Any]:
    node = loc.node
    polarity = Counter(m["polarity"] for m in per_doc.values())
    count = len(per_doc)
    series: dict[str, Counter[str]] = defaultdict(Counter)
    dates = []
    for doc_id, mention in per_doc.items():
        moment = created.get(doc_id)
        if moment is not None:
            dates.append(moment)
            series[period_of(moment, weekly)][mention["polarity"]] += 1
    trend = [{"period": period, "mentions": sum(c.values()),
              "net_sentiment": round((c["positive"] - c["negative"]) / sum(c.values()), 4)}
             for period, c in sorted(series.items())]
    return {
        "id": node.id, "name": node.name, "kind": "group" if node.is_group else "indicator",
        "parent": loc.parent.id if loc.parent else None, "path": loc.path, "level": loc.level,
        "status": node.status,
        "mentions": count, "share": round(count / total, 4) if total else 0.0,
        "positive": polarity["positive"], "negative": polarity["negative"], "neutral": polarity["neutral"],
        "net_sentiment": round((polarity["positive"] - polarity["negative"]) / count, 4) if count else None,
        "via": dict(Counter(m["via"] for m in per_doc.values())),
        "trend": trend, "growth": growth(dates, all_dates),
        "top_quotes": _quotes(list(per_doc.values())),
        "no_evidence": count == 0,
    }


def _quotes(mentions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The clearest evidence first: exact matches over fuzzy ones, opinions over bare mentions."""
    ranked = sorted(mentions, key=lambda m: (-m["score"], not m["opinion"], m["polarity"] == "neutral",
                                             abs(len(m["evidence"]) - 18), m["document_id"]))
    out, seen = [], set()
    for mention in ranked:
        if mention["evidence"] in seen:
            continue
        seen.add(mention["evidence"])
        out.append({"document_id": mention["document_id"], "text": mention["evidence"],
                    "span": [mention["span_start"], mention["span_end"]], "polarity": mention["polarity"],
                    "opinion": mention["opinion"], "term": mention["term"]})
        if len(out) == QUOTES:
            break
    return out
