"""Index benchmark: bulk indexing throughput and search latency, embedded and Elasticsearch side by side.

    .venv/bin/python bench/bench_index.py [--docs 100000] [--queries 1000]

1. Analyse online_shopping_10_cats (normalise + jieba, cached under bench/results/; not timed).
2. Bulk-index the 62,773 non-empty analysed reviews into each backend (documents/s, median of 3):
   Elasticsearch through ``reindex`` (new version, refresh off, alias swap) and through ``index`` in
   2,000-document calls as ``voc index sync`` does; embedded through ``index`` in the same calls.
3. Substring recall on the corpus: 200 random 1-3-character strings cut from the reviews (no
   whitespace, not only punctuation), each searched as a user would type it (normalised, jieba
   terms); recall = hits among the reviews that contain the string (``grep``), over all strings.
4. Replicate the corpus to ``--docs`` documents, report the index size, and time ``--queries`` mixed
   queries on each backend (single term, multi-token, filtered, faceted; 20 hits with highlights)
   and the 200 substring queries: p50 / p99 in ms.
Needs a node at VOC_ES_URL (default the `voc es start` one) unless ``--only embedded``.
Results: bench/results/bench_index[-LABEL].json.
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
CORPUS = Path(os.environ.get("VOC_BENCH_DATA") or ROOT.parent.parent / "shared" / "data"
              ) / "online_shopping_10_cats" / "online_shopping_10_cats.csv"
RESULTS = Path(os.environ.get("VOC_BENCH_RESULTS") or ROOT / "results")
SUBSTRINGS = 200
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


def substrings(docs: list[dict[str, object]], n: int = SUBSTRINGS) -> list[str]:
    """``n`` distinct 1-3-character strings cut from random reviews: no whitespace, not only punctuation."""
    rng = random.Random(2)
    found: dict[str, None] = {}
    while len(found) < n:
        text = str(rng.choice(docs)["text"])
        size = rng.randint(1, 3)
        if len(text) < size:
            continue
        start = rng.randrange(0, len(text) - size + 1)
        piece = text[start:start + size]
        if any(ch.isspace() for ch in piece) or not any(ch.isalnum() for ch in piece):
            continue
        found[piece] = None
    return list(found)


def substring_queries(strings: Sequence[str]) -> list[SearchQuery]:
    """Each string as `voc search` builds it (Voc.query_terms): normalised, jieba terms, and the text
    itself where the query model has a field for it."""
    from voc.settings import VocSettings
    from voc.text.normalize import Normalizer
    from voc.text.tokenize import Tokenizer

    normalizer, tokenizer = Normalizer(), Tokenizer.from_settings(VocSettings())
    queries = []
    for string in strings:
        clean = normalizer(string)
        query = SearchQuery(terms=tokenizer.tokenize(clean) or [clean.strip().lower()], facets=(), limit=20)
        if hasattr(query, "text"):
            query.text = clean.strip()  # type: ignore[attr-defined]
        queries.append(query)
    return queries


def substring_recall(backend: SearchBackend, docs: list[dict[str, object]], strings: Sequence[str],
                     queries: Sequence[SearchQuery], id_of: Callable[[int], str]) -> dict[str, object]:
    """Hits among the documents containing each string (grep), summed over the strings."""
    found = wanted = complete = 0
    worst: list[tuple[float, str]] = []
    for string, query in zip(strings, queries, strict=True):
        expected = {id_of(n) for n, doc in enumerate(docs) if string in str(doc["text"])}
        hits = set(backend.iter_ids(query))
        got = len(expected & hits)
        found, wanted = found + got, wanted + len(expected)
        complete += got == len(expected)
        worst.append((got / len(expected) if expected else 1.0, string))
    worst.sort()
    return {"strings": len(strings), "recall": round(found / max(wanted, 1), 4),
            "strings_fully_recalled": complete, "documents_containing": wanted,
            "worst": [f"{string} {share:.2f}" for share, string in worst[:10]]}


def substring_latencies(backend: SearchBackend, queries: list[SearchQuery]) -> dict[str, float]:
    for query in queries[:20]:
        backend.search(query)
    times = []
    for query in queries:
        started = time.perf_counter()
        backend.search(query)
        times.append((time.perf_counter() - started) * 1000)
    return _stats(times)


def embedded_size(index: EmbeddedIndex) -> int:
    index._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in index.path.parent.glob(index.path.name + "*"))


def es_size(es: SearchBackend) -> int:
    es.client.indices.forcemerge(index=es.alias, max_num_segments=1)  # type: ignore[attr-defined]
    stats = es.client.indices.stats(index=es.alias, metric="store")  # type: ignore[attr-defined]
    return int(stats["_all"]["primaries"]["store"]["size_in_bytes"])


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


def run(total_docs: int, n_queries: int, es_factory: Callable[[], SearchBackend] | None) -> dict[str, object]:
    docs = analysed_corpus()
    corpus = to_records(docs, len(docs))
    scaled = to_records(docs, total_docs)
    queries = mixed_queries(docs, n_queries)
    strings = substrings(docs)
    by_string = substring_queries(strings)
    id_of = (lambda n: f"os{n:07d}")  # noqa: E731 - to_records's ids
    result: dict[str, object] = {"cores": os.cpu_count(), "corpus_docs": len(corpus), "search_docs": total_docs,
                                 "queries": n_queries}
    with tempfile.TemporaryDirectory() as tmp:
        embedded = EmbeddedIndex(Path(tmp) / "bench.sqlite")
        runs = []
        for _ in range(RUNS):
            embedded.clear()
            runs.append(round(timed_index(embedded, corpus)))
        result["embedded_bulk_docs_per_s"] = {"median": statistics.median(runs), "runs": runs}
        result["embedded_substring_recall"] = substring_recall(embedded, docs, strings, by_string, id_of)
        embedded.clear()
        timed_index(embedded, scaled)
        result["embedded_size_bytes"] = embedded_size(embedded)
        result["embedded_search"] = latencies(embedded, queries)
        result["embedded_substring_search"] = substring_latencies(embedded, by_string)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        embedded.close()
    if es_factory is None:
        return result
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
        result["es_substring_recall"] = substring_recall(es, docs, strings, by_string, id_of)
        timed_reindex(es, scaled)
        assert es.count() == total_docs
        result["es_size_bytes"] = es_size(es)
        result["es_search"] = latencies(es, queries)
        result["es_substring_search"] = substring_latencies(es, by_string)
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
    parser.add_argument("--only", choices=("both", "embedded"), default="both")
    parser.add_argument("--label", default="", help="results go to bench_index-LABEL.json (before/after)")
    args = parser.parse_args()
    if not CORPUS.is_file():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    es_factory: Callable[[], SearchBackend] | None = None
    if args.only == "both":
        from indexing.elasticsearch import ElasticsearchIndex
        from indexing.es_testing import node_connection

        connection, why = node_connection()
        if connection is None:
            print(why, file=sys.stderr)
            return 2
        prefix = f"vocbench{os.getpid()}"
        es_factory = lambda: ElasticsearchIndex(connection, prefix)  # noqa: E731
    result = run(args.docs, args.queries, es_factory)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"bench_index-{args.label}.json" if args.label else "bench_index.json"
    (RESULTS / name).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
