"""`voc demo`: ingest the bundled sample corpus, run every stage, and report what it found."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from indexing import Filters
from voc.alerts import load_rules
from voc.cli.common import progress_bar
from voc.cli.search import terminal_snippet
from voc.demo import DEMO_FILES, demo_data_dir
from voc.indicators.gaps.background import log_odds
from voc.indicators.gaps.collect import GapSettings
from voc.ingest.records import ColumnOptions
from voc.service import Voc
from voc.text.pii import PLACEHOLDERS

DEMO_SEARCHES: tuple[tuple[str, str | None], ...] = (("快递柜 收费", None), ("宽带 断网", "hotline"), ("物业费", None))
DEMO_TAG = ("快递柜投诉", "快递柜")
DEMO_ALERT_RULES = Path(__file__).parent / "demo" / "alert_rules.yaml"


def run_demo(service: Voc, *, fresh: bool = False, show_progress: bool = True) -> dict[str, Any]:
    settings = service.settings
    if fresh:
        for name in ("voc.sqlite", "voc.sqlite-wal", "voc.sqlite-shm", "index.sqlite", "index.sqlite-wal",
                     "index.sqlite-shm"):
            (settings.home / name).unlink(missing_ok=True)
        shutil.rmtree(settings.home / "rejects", ignore_errors=True)
    data_dir = demo_data_dir()
    files: list[dict[str, Any]] = []
    total_rows = sum(f.rows for f in DEMO_FILES)
    service.alerts.import_rules(load_rules(DEMO_ALERT_RULES))  # before ingest: rules fire as documents are stored
    with progress_bar("demo ingest", total_rows, enabled=show_progress, waiting="loading models") as advance:
        for demo_file in DEMO_FILES:
            options = ColumnOptions(text_col=demo_file.text_col, id_col=demo_file.id_col,
                                    time_col=demo_file.time_col)
            report = service.ingest(data_dir / demo_file.name, demo_file.source, fmt=demo_file.format,
                                    options=options, progress=advance)
            files.append({"file": demo_file.name, "source": demo_file.source, "encoding": demo_file.encoding,
                          **report.summary(), "near_duplicates": report.near_duplicates})
    service.tag(DEMO_TAG[0], query=service.build_query(DEMO_TAG[1], filters=Filters(sentiment=["negative"]))
                if _has_sentiment(service) else service.build_query(DEMO_TAG[1]))
    topics = _topics(service)
    return {
        "home": str(settings.home),
        "files": files,
        "documents": service.store.count(),
        "by_source": service.store.source_counts(),
        "overview": _overview(service),
        "searches": [_search_example(service, query, source) for query, source in DEMO_SEARCHES],
        "topics": topics,
        "drivers": _drivers(service),
        "alerts": _alerts(service),
        "tags": service.tag_counts(),
        "new_words": _new_words(service),
    }


def _topics(service: Voc) -> dict[str, Any]:
    """Cluster the corpus into topics, then say which rose in the newest week (see voc.topics.trends)."""
    build = service.topics.build()
    service.sync_index()
    return {"built": build.to_dict(),
            "largest": [topic.to_dict() for topic in service.topics.list_topics()[:8]],
            "emerging": service.topics.emerging(interval="week", baseline_periods=8)}


def _drivers(service: Voc) -> dict[str, Any]:
    """What drives the surveys' NPS, by the topics just built (see voc.drivers)."""
    from voc.drivers.service import drivers

    result = drivers(service, Filters(source=["survey"]), metric="nps", by="topic", resamples=500)
    return {"status": result.status, "message": result.message, "overall": result.overall,
            "costs": result.top(3), "gains": result.top(2, costs=False)}


def _has_sentiment(service: Voc) -> bool:
    return bool(service.index.search(service.build_query(None, facets=("sentiment",), limit=1)).facets["sentiment"])


def _overview(service: Voc) -> dict[str, Any]:
    everything = service.index.search(service.build_query(None, limit=1, facet_size=50))
    pii_docs = 0
    negative_terms: Counter[str] = Counter()
    all_terms: Counter[str] = Counter()
    token_counts: Counter[str] = Counter()  # every token, for the specificity test against general Chinese
    negatives = total = 0
    for batch in service.store.iter_documents():
        for doc in batch:
            pii_docs += bool(doc.pii)
            if doc.near_duplicate_of:
                continue
            token_counts.update(doc.tokens)
            terms = {t for t in doc.tokens if len(t) >= 2 and t not in PLACEHOLDER_WORDS}
            all_terms.update(terms)
            total += 1
            if doc.sentiment_label == "negative":
                negative_terms.update(terms)
                negatives += 1
    token_total = sum(token_counts.values())
    near = service.index.count(service.build_query(None, filters=Filters())) - service.index.count(
        service.build_query(None, filters=Filters(exclude_near_duplicates=True)))
    return {
        "industries": everything.facets.get("industry", {}),
        "sentiment": everything.facets.get("sentiment", {}),
        "documents_with_pii_masked": pii_docs,
        "near_duplicates": near,
        "top_negative_terms": [term for term in _distinctive(negative_terms, negatives, all_terms, total, top=60)
                               if _specific(term, token_counts, token_total)][:15],
    }


# PII placeholders ([手机号] …) are what masking wrote, never what a customer said.
PLACEHOLDER_WORDS = frozenset(tag.strip("[]") for tag in PLACEHOLDERS)


def _specific(term: str, token_counts: Counter[str], total: int) -> bool:
    """The suggestions' specificity test (voc.indicators.gaps): the corpus uses the term clearly more often
    than general Chinese does (jieba's dictionary frequencies). Filler words (一下, 还是, 时候) fail it even
    where complaints use them a little more often than praise."""
    return log_odds(token_counts[term], total, term) >= GapSettings().min_log_odds


def _distinctive(part: Counter[str], part_size: int, whole: Counter[str], whole_size: int,
                 top: int = 15, min_count: int = 8) -> list[str]:
    """Terms over-represented in a subset (smoothed log-odds ratio), not merely frequent: “谢谢” is
    frequent in every hotline call, “漏送” only in complaints."""
    if not part_size or part_size == whole_size:
        return []
    rest_size = whole_size - part_size

    def log_odds(term: str) -> float:
        inside, outside = part[term] + 0.5, whole[term] - part[term] + 0.5
        return math.log(inside / (part_size - inside + 1)) - math.log(outside / (rest_size - outside + 1))

    candidates = [term for term, count in part.items() if count >= min_count]
    return sorted(candidates, key=log_odds, reverse=True)[:top]


def _search_example(service: Voc, query: str, source: str | None) -> dict[str, Any]:
    result = service.search(query, filters=Filters(source=[source] if source else []), sort="newest", limit=3,
                            facets=("industry",))
    return {"query": query, "source": source, "total": result.total,
            "weekly": service.index.date_histogram(service.build_query(query), "week")[-6:],
            "hits": [{"id": h.id, "highlight": _one_line(h.highlight or h.text)} for h in result.hits]}


def _print_drivers(found: dict[str, Any], console: Console) -> None:
    overall = found["overall"]
    if overall is None:
        console.print(f"\n[bold]drivers of NPS[/]: {found['message']}", highlight=False)
        return
    console.print(f"\n[bold]drivers of NPS[/] (surveys): NPS {overall['value']:.1f} "
                  f"(95% {overall['low']:.1f} to {overall['high']:.1f}, {overall['n']} surveys)", highlight=False)
    for label, items in (("costs", found["costs"]), ("adds", found["gains"])):
        for item in items:
            console.print(f"  {label} {abs(item['impact']):.1f} points (95% {item['low']:+.1f} to "
                          f"{item['high']:+.1f}): {item['label']} ({item['volume']} surveys)", highlight=False)


def _alerts(service: Voc) -> list[dict[str, Any]]:
    """The alerts the demo rules raised on ingest, each with the ticket it opened."""
    found = []
    for rule in load_rules(DEMO_ALERT_RULES):
        for alert in service.alerts.alerts(rule=rule.name):
            ticket = service.tickets.get(int(alert["ticket_id"])) if alert["ticket_id"] else None
            found.append({**alert, "ticket": None if ticket is None else {
                "id": ticket.id, "owner": ticket.owner, "status": str(ticket.status.value),
                "due_at": ticket.due_at.isoformat(timespec="minutes")}})
    return found


def _print_alerts(alerts: list[dict[str, Any]], console: Console) -> None:
    for alert in alerts:
        console.print(f"\n[bold red]alert[/] #{alert['id']} {escape(alert['title'])} (rule {escape(alert['rule'])})",
                      highlight=False)
        for snippet in alert["snippets"]:
            console.print(f"  {snippet}", highlight=False, markup=False)
        ticket = alert.get("ticket")
        if ticket:
            console.print(f"  opened ticket #{ticket['id']} for {escape(ticket['owner'])}, {ticket['status']}, "
                          f"due {ticket['due_at'].replace('T', ' ')}", highlight=False)


def _one_line(text: str, width: int = 90) -> str:
    flat = " / ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat if len(flat) <= width else flat[:width] + "…"


def _new_words(service: Voc) -> list[str]:
    from voc.text.words import discover_words

    texts = (doc.text for batch in service.store.iter_documents() for doc in batch)
    return [c.word for c in discover_words(texts, service.tokenizer, min_count=5, top=10)]


def print_report(report: dict[str, Any], console: Console) -> None:
    table = Table(title="voc demo: sample corpus ingested", show_lines=False)
    # The counts are what the table is for: never shortened to "…"; at 80 columns names fold instead.
    table.add_column("file", overflow="fold", ratio=1)
    for column in ("source", "encoding"):
        table.add_column(column, overflow="fold")
    for column in ("new", "dup", "rejected", "near-dup"):
        table.add_column(column, no_wrap=True, justify="right", min_width=len(column))
    for f in report["files"]:
        table.add_row(f["file"], f["source"], f["encoding"], str(f["accepted"]), str(f["duplicates"]),
                      str(f["rejected"]), str(f["near_duplicates"]))
    console.print(table)
    overview = report["overview"]
    console.print(f"[bold]{report['documents']}[/] documents in {report['home']}: "
                  + ", ".join(f"{k} {v}" for k, v in report["by_source"].items()), highlight=False)
    console.print("industries: " + ", ".join(f"{k} {v}" for k, v in overview["industries"].items()),
                  highlight=False)
    if overview["sentiment"]:
        console.print("sentiment: " + ", ".join(f"{k} {v}" for k, v in overview["sentiment"].items()),
                      highlight=False)
        console.print("terms that set negative feedback apart: " + " ".join(overview["top_negative_terms"]),
                      highlight=False)
    console.print(f"PII masked in {overview['documents_with_pii_masked']} documents; "
                  f"{overview['near_duplicates']} near-duplicate copies flagged (kept, not deleted)")
    for example in report["searches"]:
        where = f" in {example['source']}" if example["source"] else ""
        console.print(f"\n[bold]search[/] “{example['query']}”{where}: {example['total']} hits; last weeks "
                      + " ".join(f"{week[5:]}:{n}" for week, n in example["weekly"]), highlight=False)
        for hit in example["hits"]:
            text = terminal_snippet(hit["highlight"])  # an HTML snippet: shown as text, matches in bold
            console.print(f"  [dim]{hit['id']}[/] {text}", highlight=False)
    topics = report["topics"]
    console.print(f"\n[bold]topics[/]: {topics['built']['n_topics']} over {topics['built']['n_documents']} documents "
                  f"(outliers {topics['built']['outlier_share']:.0%}); largest:", highlight=False)
    for topic in topics["largest"]:
        console.print(f"  {topic['id']:>3} {topic['label']:<24} {topic['size']:>4} docs, "
                      f"negative {topic['negative_share']:.0%}", highlight=False)
    for item in topics["emerging"]:
        console.print(f"  [bold red]emerging[/] {item['topic_id']} {item['label']}: {item['count']} in the newest week "
                      f"vs {item['baseline_mean']}/week before (p={item['p_value']:.1e})", highlight=False)
    _print_drivers(report["drivers"], console)
    _print_alerts(report.get("alerts", []), console)
    console.print("\ntags: " + ", ".join(f"{k} ({v})" for k, v in report["tags"].items()), highlight=False)
    console.print("new-word candidates for the user dictionary: " + " ".join(report["new_words"]),
                  highlight=False)
    console.print("\nnext: voc search 快递柜 --sentiment negative · voc show ID · voc topics list · "
                  "voc topics emerging · voc drivers · voc tag list")
