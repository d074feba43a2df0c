"""The document store on SQLite vs PostgreSQL, side by side in one run: ingest, reads by id, search, tags.

    .venv/bin/python bench/bench_store.py [--limit N] [--workers N] [--pg-url URL]

Without ``--pg-url`` a PostgreSQL server of the bench's own is started with `voc pg` machinery (Debian's
``postgresql`` package) in a temporary directory on a free port, and stopped at the end. Both stores get the
same reviews (online_shopping_10_cats) through ``Voc.ingest``; the search index is the embedded one for both,
so search measures what the store adds (hydrating hits), not the index. Prints JSON with PostgreSQL ÷ SQLite
ratios (the figures to compare on a noisy machine).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from voc.ingest.records import ColumnOptions
from voc.pg_node import PgConfig, PgNode
from voc.service import Voc
from voc.settings import VocSettings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/online_shopping_10_cats/online_shopping_10_cats.csv"
QUERIES = ["快递", "质量", "物流 很快", "客服 态度", "包装", "价格", "不错", "退货"]


def write_corpus(path: Path, source: Path, limit: int) -> int:
    with source.open(encoding="utf-8-sig", newline="") as handle:
        texts = [row["review"] for row in csv.DictReader(handle) if row.get("review")][:limit]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows((f"r{i}", text) for i, text in enumerate(texts))
    return len(texts)


@contextmanager
def own_postgres() -> Iterator[str]:
    root = Path("/var/tmp" if os.geteuid() == 0 else tempfile.gettempdir()) / f"voc-bench-pg-{os.getpid()}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    node = PgNode(PgConfig(root=root, port=port, node_name="bench"))
    try:
        node.start()
        node.create_database("bench")
        yield node.url(database="bench")
    finally:
        node.stop()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        out.append(time.perf_counter() - started)
    return out


def run(name: str, url: str | None, corpus: Path, workers: int, home: Path) -> dict[str, Any]:
    settings = VocSettings(home=home, workers=workers, **({"database_url": url} if url else {}))
    voc = Voc(settings)
    try:
        started = time.perf_counter()
        report = voc.ingest(corpus, "review", options=ColumnOptions(id_col="id", text_col="text"))
        ingest_s = time.perf_counter() - started
        ids = [hit.id for hit in voc.search(None, limit=1000).hits]
        rng = random.Random(0)
        reads = timed(lambda: voc.store.get(rng.choice(ids)), 500)
        searches = [t for q in QUERIES for t in timed(lambda q=q: voc.search(q, limit=20), 10)]
        flips = iter(range(10**6))  # add, remove, add, …: every call changes 200 documents
        tagging = timed(lambda: voc.tag("bench", ids=ids[:200], remove=next(flips) % 2 == 1), 6)
        return {"store": name, "documents": report.accepted, "ingest_s": round(ingest_s, 2),
                "ingest_docs_per_s": round(report.accepted / ingest_s, 1),
                "get_by_id_ms_p50": round(statistics.median(reads) * 1000, 3),
                "search_ms_p50": round(statistics.median(searches) * 1000, 2),
                "tag_200_ms_p50": round(statistics.median(tagging) * 1000, 1)}
    finally:
        voc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg-url", default=None, help="an existing, empty PostgreSQL database (default: own server)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voc-bench-store-") as tmp:
        corpus = Path(tmp) / "reviews.csv"
        n = write_corpus(corpus, args.data, args.limit)
        with (own_postgres() if args.pg_url is None else _given(args.pg_url)) as pg_url:
            results = [run("sqlite", None, corpus, args.workers, Path(tmp) / "sqlite"),
                       run("postgresql", pg_url, corpus, args.workers, Path(tmp) / "pg")]
    sqlite, pg = results
    ratios = {key: round(pg[key] / sqlite[key], 2) for key in sqlite if key.endswith(("_s", "_p50"))}
    print(json.dumps({"texts": n, "workers": args.workers, "results": results, "postgresql_over_sqlite": ratios},
                     ensure_ascii=False, indent=2))


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
