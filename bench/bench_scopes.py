"""Scope benchmark: the same searches with and without a data scope, embedded and Elasticsearch.

    .venv/bin/python bench/bench_scopes.py [--docs 100000] [--queries 400] [--only embedded|elasticsearch]

The corpus and queries are bench_index.py's (online_shopping_10_cats, analysed once and cached,
replicated to ``--docs`` documents over 40 stores; single-term, multi-token, filtered and faceted
queries with 20 hits and highlights). The organisation tree puts the 40 stores in 4 regions of 10.
Each query runs unscoped and through ``ScopedIndex`` for a one-store, a one-region and a two-region
scope, alternating (so drift on a shared machine hits both sides alike); the figure is the ratio of
scoped to unscoped time (p50 and mean over all queries), target ≤ 1.2. Embedded: CPU time of the
searching thread (``embedded``; steady on a busy machine) and wall-clock (``embedded_wall``);
Elasticsearch: wall-clock (the node works in its own process).
Results: bench/results/bench_scopes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_index import CORPUS, KINDS, RESULTS, _stats, analysed_corpus, mixed_queries, timed_index, to_records

from indexing.base import SearchBackend, SearchQuery
from indexing.embedded import EmbeddedIndex
from voc.scopes import Scope, ScopedIndex, parse_tree

REGIONS = {f"大区{r}": [f"店铺{n:02d}" for n in range(r * 10, r * 10 + 10)] for r in range(4)}
TREE = parse_tree({"root": {"name": "总部", "children": [
    {"name": region, "children": [{"name": store} for store in stores]} for region, stores in REGIONS.items()]}})
SCOPES = {"one_store": ["店铺07"], "one_region": ["大区1"], "two_regions": ["大区2", "大区3"]}


def compare(backend: SearchBackend, queries: list[SearchQuery], clock: Callable[[], float] = time.perf_counter
            ) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, nodes in SCOPES.items():
        scoped = ScopedIndex(backend, Scope.resolve(TREE, nodes))
        for query in queries[:40]:  # warm both paths
            backend.search(query)
            scoped.search(query)
        plain_ms: list[float] = []
        scoped_ms: list[float] = []
        for i, query in enumerate(queries):
            pair: list[tuple[list[float], Callable[[SearchQuery], object]]] = [
                (plain_ms, backend.search), (scoped_ms, scoped.search)]
            for times, search in (pair if i % 2 == 0 else pair[::-1]):
                started = clock()
                search(query)
                times.append((clock() - started) * 1000)
        plain, scoped_stats = _stats(plain_ms), _stats(scoped_ms)
        by_kind = {kind: round(statistics.median(scoped_ms[k::len(KINDS)]) / statistics.median(plain_ms[k::len(KINDS)]),
                               3) for k, kind in enumerate(KINDS)}
        out[name] = {"unscoped": plain, "scoped": scoped_stats,
                     "ratio_p50": round(scoped_stats["p50_ms"] / plain["p50_ms"], 3),
                     "ratio_mean": round(scoped_stats["mean_ms"] / plain["mean_ms"], 3),
                     "ratio_p50_by_kind": by_kind}
        print(name, json.dumps(out[name]), flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--only", choices=("both", "embedded", "elasticsearch"), default="both")
    args = parser.parse_args()
    if not CORPUS.is_file():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    docs = analysed_corpus()
    records = to_records(docs, args.docs)
    queries = mixed_queries(docs, args.queries)
    result: dict[str, object] = {"cores": os.cpu_count(), "docs": args.docs, "queries": args.queries,
                                 "stores": 40, "regions": 4}
    if args.only != "elasticsearch":
        with tempfile.TemporaryDirectory() as tmp:
            embedded = EmbeddedIndex(Path(tmp) / "index.db")
            result["embedded_index_docs_per_s"] = round(timed_index(embedded, records))
            # the embedded index works in this thread: its CPU time is what a query costs, whatever else
            # the (shared) machine is doing; Elasticsearch works in its own process: wall-clock time there
            result["embedded"] = compare(embedded, queries, clock=time.thread_time)
            result["embedded_wall"] = compare(embedded, queries)
            embedded.close()
    if args.only != "embedded":
        from indexing.elasticsearch import ElasticsearchIndex
        from indexing.es_testing import node_connection

        connection, why = node_connection()
        if connection is None:
            print(f"Elasticsearch skipped: {why}", file=sys.stderr)
            result["elasticsearch"] = f"skipped: {why}"
        else:
            es = ElasticsearchIndex(connection, f"vocbenchscopes{os.getpid()}")
            try:
                es.reindex(records[start:start + 2000] for start in range(0, len(records), 2000))
                result["elasticsearch"] = compare(es, queries)
            finally:
                es.drop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    saved = RESULTS / "bench_scopes.json"
    if args.only != "both" and saved.is_file():  # one backend rerun: keep the other's figures beside it
        result = {**json.loads(saved.read_text()), **result}
    (RESULTS / "bench_scopes.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
