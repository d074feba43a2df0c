"""Drivers benchmark: `voc drivers` over 100,000 documents, store read and computation timed apart.

    .venv/bin/python bench/bench_drivers.py [--docs 100000] [--topics 40] [--indicators 30] [--resamples 1000]

1. Write ``--docs`` synthetic documents straight into a fresh SQLite store (not timed; an ingest of
   100k texts would take minutes and is measured by bench_ingest.py): 70% surveys with a 0-10 score,
   20% reviews with a 1-5 rating, 10% hotline calls with neither; each with one of ``--topics`` topics
   (5% outliers) and 0-3 of ``--indicators`` indicator mentions with a polarity. Three topics and three
   indicators are planted to cost points, so the run also checks they come out on top.
2. Time, by topic and by indicator (NPS): the store read into the frame (``load_frame``), the analysis
   (``analyse``: impacts with ``--resamples`` bootstrap resamples, key drivers with 200), and peak
   memory of each step (tracemalloc: Python and NumPy allocations) and of the process (ru_maxrss).
Results: bench/results/bench_drivers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from indexing import Filters
from voc.drivers import analyse, load_frame
from voc.indicators.model import Indicator, IndicatorTree
from voc.indicators.store import IndicatorStore
from voc.indicators.tables import indicator_mapped, indicator_mentions
from voc.store import DocumentStore, documents

ROOT = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("VOC_BENCH_RESULTS") or ROOT / "results")
PLANTED = 3  # themes 0..2 cost points


def fill_store(store: DocumentStore, n: int, topics: int, indicators: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    source = rng.choice(np.array(["survey", "review", "hotline"]), size=n, p=[0.7, 0.2, 0.1])
    topic = rng.integers(0, topics, n)
    topic[rng.random(n) < 0.05] = -1
    mention_count = rng.choice(4, size=n, p=[0.3, 0.4, 0.2, 0.1])
    base = rng.choice(3, size=n, p=[0.25, 0.3, 0.45])  # detractor / passive / promoter
    bad = (topic >= 0) & (topic < PLANTED)
    mentions: list[dict[str, Any]] = []
    doc_indicators: list[list[int]] = []
    for i in range(n):
        chosen = sorted(set(rng.integers(0, indicators, mention_count[i]).tolist()))
        doc_indicators.append(chosen)
        if any(j < PLANTED for j in chosen):
            bad[i] = True
    base[bad & (rng.random(n) < 0.6)] = 0
    score = np.choose(base, [rng.integers(0, 7, n), rng.integers(7, 9, n), rng.integers(9, 11, n)])
    now = datetime(2026, 11, 1)
    rows = []
    for i in range(n):
        doc_id = f"{i:032x}"
        meta: dict[str, Any] = {}
        if source[i] == "survey":
            meta["score"] = int(score[i])
        elif source[i] == "review":
            meta["rating"] = int(1 + base[i] * 2)
        negative = base[i] == 0
        rows.append({
            "id": doc_id, "source": str(source[i]), "external_id": None, "text": "合成文本",
            "text_original": "合成文本",
            "created_at": now - timedelta(hours=i % 5000), "ingested_at": now, "channel": None, "industry": "retail",
            "product": None, "store": f"门店{i % 50}", "meta": meta, "turns": [], "tokens": "合成 文本",
            "search_terms": "合成 文本", "pii": [], "near_duplicate_of": None,
            "sentiment_label": "negative" if negative else "positive", "sentiment_score": 0.1 if negative else 0.9,
            "analysis": {}, "topic_id": int(topic[i]), "topic_label": f"话题{topic[i]}" if topic[i] >= 0 else None,
            "ingest_run": None, "indexed": True})
        for j in doc_indicators[i]:
            polarity = "negative" if negative and rng.random() < 0.8 else "positive"
            mentions.append({"document_id": doc_id, "indicator_id": f"i{j}", "version": 1, "score": 1.0,
                             "via": "keyword", "polarity": polarity, "term": "词", "span_start": 0, "span_end": 1,
                             "evidence": "合成", "opinion": ""})
    tree = IndicatorTree(name="合成", nodes=[Indicator(id=f"i{j}", name=f"指标{j}") for j in range(indicators)])
    with store.engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(insert(documents), rows[start:start + 5000])
        IndicatorStore(store.engine).save_tree(conn, tree, "bench", "")
        conn.execute(insert(indicator_mapped), [{"document_id": r["id"], "version": 1} for r in rows])
        for start in range(0, len(mentions), 20000):
            conn.execute(insert(indicator_mentions), mentions[start:start + 20000])


def measured(step: Callable[[], Any]) -> tuple[Any, float, float]:
    """The step's result, wall seconds, and peak traced memory in MiB of a second, traced run (tracing
    slows Python code several times, so the time comes from the untraced run)."""
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--topics", type=int, default=40)
    parser.add_argument("--indicators", type=int, default=30)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"docs": args.docs, "topics": args.topics, "indicators": args.indicators,
                           "resamples": args.resamples, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                           "date": datetime.now().date().isoformat()}
    with tempfile.TemporaryDirectory(prefix="voc-bench-drivers-") as home:
        store = DocumentStore(f"sqlite:///{Path(home) / 'voc.sqlite'}")
        started = time.perf_counter()
        fill_store(store, args.docs, args.topics, args.indicators)
        out["fill_s"] = round(time.perf_counter() - started, 1)
        print(f"store filled with {args.docs:,} documents in {out['fill_s']} s (not part of the figures)")
        for by in ("topic", "indicator"):
            frame, load_s, load_mib = measured(lambda by=by: load_frame(store.engine, Filters(), by))  # type: ignore[misc]
            result, compute_s, compute_mib = measured(
                lambda frame=frame, by=by: analyse(frame, "nps", by, resamples=args.resamples))  # type: ignore[misc]
            planted = {f"{'' if by == 'topic' else 'i'}{j}" for j in range(PLANTED)}
            top = [d["key"] for d in result.top(PLANTED)]
            out[by] = {"documents": len(frame), "with_score": result.overall["n"], "themes": len(frame.themes),
                       "load_s": round(load_s, 2), "load_peak_mib": round(load_mib, 1),
                       "compute_s": round(compute_s, 2), "compute_peak_mib": round(compute_mib, 1),
                       "planted_on_top": set(top) == planted, "top": top}
            print(f"by {by}: store read {load_s:.2f} s (peak {load_mib:.0f} MiB), analysis {compute_s:.2f} s "
                  f"(peak {compute_mib:.0f} MiB) over {result.overall['n']:,} scored of {len(frame):,} documents, "
                  f"{len(frame.themes)} themes; planted costs on top: {set(top) == planted}")
        store.close()
    out["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"process peak RSS {out['max_rss_mib']} MiB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_drivers.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    return 0 if all(out[by]["planted_on_top"] for by in ("topic", "indicator")) else 1


if __name__ == "__main__":
    sys.exit(main())
