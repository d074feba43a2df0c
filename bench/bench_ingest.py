"""Ingest throughput and memory vs bare jieba, in one run.

    .venv/bin/python bench/bench_ingest.py [--data CSV] [--text-col review] [--limit N] [--workers N]

Measures, on the same texts: bare ``jieba.lcut`` in one process (reviews/s on one core), then
``voc ingest`` (read → normalise → PII mask → jieba → MinHash → SQLite store → FTS5 index) with
one worker per core, and the peak resident memory of the whole process tree. Prints JSON and a
Markdown row for the README.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import jieba
import psutil

from voc.ingest.records import ColumnOptions
from voc.service import Voc
from voc.settings import VocSettings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/online_shopping_10_cats/online_shopping_10_cats.csv"


class PeakMemory:
    """Samples the resident memory of this process and its children (the ingest workers)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a worker may exit between listing and reading
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def load_texts(path: Path, column: str, limit: int | None) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        texts = [row[column] for row in csv.DictReader(handle) if row.get(column)]
    return texts[:limit] if limit else texts


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the joined ingest workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_jieba(texts: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU-time throughput of bare jieba.lcut in this process."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    start, cpu_start = time.perf_counter(), cpu_seconds()
    for text in texts:
        tokenizer.lcut(text)
    return len(texts) / (time.perf_counter() - start), len(texts) / (cpu_seconds() - cpu_start)


def bench_voc(source_csv: Path, column: str, workers: int, stages: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        settings = VocSettings(home=Path(home), workers=workers, analysis_stages=stages)  # type: ignore[arg-type]
        voc = Voc(settings)
        with PeakMemory() as memory:
            start, cpu_start = time.perf_counter(), cpu_seconds()
            report = voc.ingest(source_csv, "review", options=ColumnOptions(text_col=column))
            seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
        stored = voc.store.count()
        indexed = voc.index.count()
        voc.close()
    return {"seconds": seconds, "docs_per_s": report.accepted / seconds,
            "docs_per_cpu_s": report.accepted / cpu, "accepted": report.accepted,
            "duplicates": report.duplicates, "rejected": report.rejected, "stored": stored, "indexed": indexed,
            "peak_rss_mb": memory.peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--text-col", default="review")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--stages", default="", help="Comma-separated analysis stages, e.g. sentiment.")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"no data at {args.data}")
    texts = load_texts(args.data, args.text_col, args.limit)
    source = args.data
    if args.limit:
        handle, name = tempfile.mkstemp(suffix=".csv")
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([args.text_col])
            writer.writerows([t] for t in texts)
        source = Path(name)
    jieba_rate, jieba_cpu_rate = bench_jieba(texts)
    stages = [s for s in args.stages.split(",") if s]
    voc = bench_voc(source, args.text_col, args.workers, stages)
    per_core = voc["docs_per_s"] / args.workers
    result = {
        "texts": len(texts), "cores": os.cpu_count(), "workers": args.workers, "stages": stages,
        "bare_jieba_docs_per_s_one_core": round(jieba_rate, 1),
        "voc_docs_per_s": round(voc["docs_per_s"], 1), "voc_docs_per_s_per_worker": round(per_core, 1),
        "ratio_per_core": round(per_core / jieba_rate, 3),
        "bare_jieba_docs_per_cpu_s": round(jieba_cpu_rate, 1),
        # Throughput per CPU-second of all processes: robust when other work shares the machine.
        "ratio_per_cpu_second": round(voc["docs_per_cpu_s"] / jieba_cpu_rate, 3),
        "ratio_total_vs_one_core_jieba": round(voc["docs_per_s"] / jieba_rate, 3),
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in voc.items()},
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"| {len(texts):,} reviews, {args.workers} workers, stages {stages or 'none'} | "
          f"bare jieba {jieba_rate:,.0f}/s (1 core) | voc {voc['docs_per_s']:,.0f}/s "
          f"({per_core:,.0f}/s per worker, {per_core / jieba_rate:.2f}× jieba per core; "
          f"{voc['docs_per_cpu_s'] / jieba_cpu_rate:.2f}× jieba per CPU-second) | "
          f"peak RSS {voc['peak_rss_mb']:,.0f} MB |")


if __name__ == "__main__":
    main()
