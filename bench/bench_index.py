"""Index benchmark: bulk indexing throughput and search latency, embedded and Elasticsearch side by side.

    .venv/bin/python bench/bench_index.py [--docs 100000] [--queries 1000]

1. Analyse online_shopping_10_cats (normalise + jieba, cached under bench/results/; not timed).
2. Bulk-index the 62,773 non-empty analysed reviews into each backend (documents/s, median of 3):
   Elasticsearch through ``reindex`` (new version, refresh off, alias swap) and through ``index`` in
   2,000-document calls as ``voc index sync`` does; embedded through ``index`` in the same calls.
3. Replicate the corpus to ``--docs`` documents and time ``--queries`` mixed queries on each backend
   (single term, multi-token, filtered, faceted; 20 hits with highlights): p50 / p99 in ms.
Needs a node at VOC_ES_URL (default the `voc es start` one). Results: bench/results/bench_index.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from indexing.base import FACET_FIELDS, Filters, IndexRecord, SearchBackend, SearchQuery
from indexing.embedded import EmbeddedIndex

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT.parent.parent / "shared" / "data" / "online_shopping_10_cats" / "online_shopping_10_cats.csv"
RESULTS = ROOT / "results"
BATCH = 2000
RUNS = 3  # bulk figures are the median of three runs: a shared 2-core machine is noisy


def _analyse_chunk(rows: list[tuple[int, str, str, str]]) -> list[dict[str, object]]:
    from voc.settings import VocSettings
    from voc.text.normalize import Normalizer
    from voc.text.tokenize import Tokenizer

    normalizer, tokenizer = Normalizer(), Tokenizer.from_settings(VocSettings())
    out = []
    for i, cat, label, text in rows:
        clean = normalizer(text)
        out.append({"i": i, "cat": cat, "label": label, "text": clean,
                     "terms": tokenizer.index_terms(tokenizer.tokenize(clean))})
    return out


def analysed_corpus() -> list[dict[str, object]]:
    cache = RESULTS / "online_shopping_analysed.jsonl"
    if cache.is_file():
        return [json.loads(line) for line in cache.open(encoding="utf-8")]
    with CORPUS.open(encoding="utf-8-sig", newline="") as fh:
        rows = [(i, r["cat"], r["label"], (r["review"] or "").lstrip("\ufeff"))
                for i, r in enumerate(csv.DictReader(fh))]
    rows = [row for row in rows if row[3].strip()]
    chunks = [rows[start:start + 2000] for start in range(0, len(rows), 2000)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        analysed = [doc for part in pool.map(_analyse_chunk, chunks) for doc in part]
    print(f"analysed {len(analysed):,} reviews in {time.perf_counter() - started:.1f}s (cached)", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with cache.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(doc, ensure_ascii=False) + "\n" for doc in analysed)
    return analysed


def to_records(docs: list[dict[str, object]], copies: int) -> list[IndexRecord]:
    """``copies`` documents cycling over the corpus, with store, channel, date and score spread out."""
    rng = random.Random(0)
    start = datetime(2025, 1, 1)
    stores = [f"店铺{n:02d}" for n in range(40)]
    records = []
    for n in range(copies):
        doc = docs[n % len(docs)]
        positive = doc["label"] == "1"
        records.append(IndexRecord(
            id=f"os{n:07d}", text=str(doc["text"]), terms=list(doc["terms"]), source="review",  # type: ignore[call-overload]
            created_at=start + timedelta(minutes=rng.randrange(0, 600 * 24 * 60)),
            channel=rng.choice(["app", "web", "mini"]), industry=str(doc["cat"]), product=str(doc["cat"]),
            store=rng.choice(stores), sentiment="positive" if positive else "negative",
            sentiment_score=round(rng.uniform(0.2, 1) if positive else rng.uniform(-1, -0.2), 3),
            topic_id=rng.randrange(0, 30), tags=["复核"] if rng.random() < 0.02 else [],
        ))
    return records


def timed_index(backend: SearchBackend, records: Sequence[IndexRecord]) -> float:
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        report = backend.index(records[start:start + BATCH])
        assert not report.errors, list(report.errors.items())[:3]
    return len(records) / (time.perf_counter() - started)


def timed_reindex(backend: SearchBackend, records: Sequence[IndexRecord]) -> float:
    started = time.perf_counter()
    report = backend.reindex(records[start:start + BATCH] for start in range(0, len(records), BATCH))  # type: ignore[attr-defined]
    assert not report.errors and report.indexed == len(records)
    return len(records) / (time.perf_counter() - started)


def mixed_queries(docs: list[dict[str, object]], n: int) -> list[SearchQuery]:
    rng = random.Random(1)
    vocab = [t for doc in docs[:5000] for t in doc["terms"] if len(t) > 1]  # type: ignore[attr-defined]
    cats = sorted({str(doc["cat"]) for doc in docs})
    queries = []
    for i in range(n):
        kind = i % 4
        doc_terms = [t for t in rng.choice(docs)["terms"] if len(t) > 1] or [rng.choice(vocab)]  # type: ignore[attr-defined]
        if kind == 0:  # single term
            queries.append(SearchQuery(terms=[rng.choice(vocab)], facets=()))
        elif kind == 1:  # multi-token, drawn from one review so it matches something
            queries.append(SearchQuery(terms=rng.sample(doc_terms, min(len(doc_terms), rng.randint(2, 3))),
                                       facets=()))
        elif kind == 2:  # filtered, sorted by time
            since = datetime(2025, 1, 1) + timedelta(days=rng.randrange(0, 500))
            queries.append(SearchQuery(terms=[rng.choice(vocab)], facets=(), sort="newest", filters=Filters(
                industry=[rng.choice(cats)], sentiment=[rng.choice(["positive", "negative"])],
                since=since, until=since + timedelta(days=90))))
        else:  # faceted: every facet, with or without a term
            terms = [rng.choice(vocab)] if rng.random() < 0.7 else []
            queries.append(SearchQuery(terms=terms, facets=FACET_FIELDS))
    return queries


KINDS = ("single_term", "multi_token", "filtered", "faceted")  # mixed_queries cycles through these


def _stats(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 2),
            "mean_ms": round(statistics.fmean(times), 2), "max_ms": round(times[-1], 2)}


def latencies(backend: SearchBackend, queries: list[SearchQuery]) -> dict[str, object]:
    for query in queries[:50]:
        backend.search(query)  # warm caches
    times = []
    for query in queries:
        started = time.perf_counter()
        backend.search(query)
        times.append((time.perf_counter() - started) * 1000)
    by_kind = {kind: _stats(times[i::len(KINDS)]) for i, kind in enumerate(KINDS)}
    return {**_stats(times), "by_kind": by_kind}


def run(total_docs: int, n_queries: int, es_factory: Callable[[], SearchBackend]) -> dict[str, object]:
    docs = analysed_corpus()
    corpus = to_records(docs, len(docs))
    scaled = to_records(docs, total_docs)
    queries = mixed_queries(docs, n_queries)
    result: dict[str, object] = {"cores": os.cpu_count(), "corpus_docs": len(corpus), "search_docs": total_docs,
                                 "queries": n_queries}
    with tempfile.TemporaryDirectory() as tmp:
        embedded = EmbeddedIndex(Path(tmp) / "bench.sqlite")
        runs = []
        for _ in range(RUNS):
            embedded.clear()
            runs.append(round(timed_index(embedded, corpus)))
        result["embedded_bulk_docs_per_s"] = {"median": statistics.median(runs), "runs": runs}
        embedded.clear()
        timed_index(embedded, scaled)
        result["embedded_search"] = latencies(embedded, queries)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        embedded.close()
    es = es_factory()
    try:
        result["es_version"] = es_version(es)
        runs = [round(timed_reindex(es, corpus)) for _ in range(RUNS)]
        result["es_bulk_reindex_docs_per_s"] = {"median": statistics.median(runs), "runs": runs}
        runs = []
        for _ in range(RUNS):
            es.clear()
            runs.append(round(timed_index(es, corpus)))
        result["es_bulk_sync_docs_per_s"] = {"median": statistics.median(runs), "runs": runs}
        timed_reindex(es, scaled)
        assert es.count() == total_docs
        result["es_search"] = latencies(es, queries)
    finally:
        es.drop()  # type: ignore[attr-defined]
        es.close()
    return result


def es_version(es: SearchBackend) -> str:
    nodes = es.client.nodes.info(node_id="_local", filter_path="nodes.*.version")  # type: ignore[attr-defined]
    return next(iter(nodes["nodes"].values()))["version"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    args = parser.parse_args()
    if not CORPUS.is_file():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    from indexing.elasticsearch import ElasticsearchIndex
    from indexing.es_testing import node_connection

    connection, why = node_connection()
    if connection is None:
        print(why, file=sys.stderr)
        return 2
    result = run(args.docs, args.queries, lambda: ElasticsearchIndex(connection, "vocbench"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_index.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
