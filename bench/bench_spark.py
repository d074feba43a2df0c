"""The batch function on PySpark local[2] vs the single-node path, on the same documents, in one run.

    .venv/bin/python bench/bench_spark.py [--n 200000] [--master local[2]] [--workers 2] [--keep DIR]

N documents sampled with replacement (seed 0) from the public review, hotel, e-commerce and complaint
sets in ../shared/data, each given a time within 2024 and one of 40 stores (so a repeated text is another
customer's document, not the same one). Both sides read the same Parquet file:

- single node: `analyse_frame` on chunks of 2,000 rows in a pool of ``--workers`` processes (fork; each
  loads the models once), output concatenated;
- Spark: `voc spark analyse` (mapInPandas over the same function, band join, Parquet by day and source),
  session start timed apart.

Reports documents/s of each, the throughput ratio, and whether every document's fields are identical
(all output columns but ``row``; near-duplicates are Spark's own and compared only in count). Prints JSON
(also in bench/results/bench_spark.json) and a Markdown row for the README.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from voc.ingest.frame import analyse_frame
from voc.settings import VocSettings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = [  # (file, text column, source, industry)
    ("online_shopping_10_cats/online_shopping_10_cats.csv", "review", "review", "电商"),
    ("waimai_10k/waimai_10k.csv", "review", "review", "外卖"),
    ("chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv", "review", "review", "酒店"),
    ("tipdm2020_gov_complaint_messages/fujian3_messages_with_votes_raw.csv", "留言详情", "survey", "政务"),
]
CHUNK = 2000


def sample(n: int, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    pool: list[tuple[str, str, str]] = []
    for name, column, source, industry in SETS:
        path = DATA / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            pool.extend((row[column].strip(), source, industry) for row in csv.DictReader(handle)
                        if row.get(column, "").strip())
    if not pool:
        raise SystemExit(f"no data under {DATA}")
    start = pd.Timestamp("2024-01-01")
    rows = []
    for _ in range(n):
        text, source, industry = rng.choice(pool)
        rows.append({"source": source, "text": text, "industry": industry,
                     "store": f"门店{rng.randrange(40):02d}",
                     "created_at": start + pd.Timedelta(minutes=rng.randrange(366 * 24 * 60))})
    return pd.DataFrame(rows)


_settings: VocSettings | None = None


def _chunk(frame: pd.DataFrame) -> pd.DataFrame:
    assert _settings is not None
    return analyse_frame(frame, _settings)


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def single_node(frame: pd.DataFrame, settings: VocSettings, workers: int) -> tuple[pd.DataFrame, float]:
    global _settings
    _settings = settings
    chunks = [frame.iloc[i : i + CHUNK].assign(row=range(i, min(i + CHUNK, len(frame))))
              for i in range(0, len(frame), CHUNK)]
    start = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        out = pd.concat(pool.map(_chunk, chunks), ignore_index=True)
    return out, time.perf_counter() - start


def spark_run(path: Path, output: Path, settings: VocSettings, master: str) -> tuple[dict[str, Any], float]:
    from voc.spark import analyse, spark_session

    start = time.perf_counter()
    spark = spark_session(master, "voc-bench", progress=False)
    spark.range(1).count()  # the JVM and its first job warmed, as a long-lived cluster would be
    session_seconds = time.perf_counter() - start
    report = analyse(spark, str(path), str(output), settings)
    spark.stop()
    return report.to_dict(), session_seconds


def compare(single: pd.DataFrame, output: Path) -> dict[str, int]:
    ok = single[single["status"] == "ok"].drop_duplicates("id").set_index("id").sort_index()
    spark = pd.read_parquet(output).set_index("id").sort_index()
    columns = [c for c in ok.columns if c not in ("row", "status", "reason")]
    same_ids = ok.index.equals(spark.index)
    differing = 0
    if same_ids:
        left, right = ok[columns], spark[columns]
        for column in columns:
            a, b = left[column], right[column]
            equal = (a == b) | (a.isna() & b.isna())
            differing += int((~equal).sum())
    return {"single_documents": len(ok), "spark_documents": len(spark), "same_ids": int(same_ids),
            "differing_fields": differing if same_ids else -1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the input and outputs here.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="voc-bench-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = VocSettings(home=work / "home", workers=args.workers)
    frame = sample(args.n)
    source = work / "input.parquet"
    frame.to_parquet(source, index=False, coerce_timestamps="us")  # Spark 3.5 reads no nanoseconds
    cpu0 = cpu_seconds()
    single, single_seconds = single_node(frame, settings, args.workers)
    single_cpu = cpu_seconds() - cpu0
    spark_report, session_seconds = spark_run(source, work / "out", settings, args.master)
    checks = compare(single, work / "out")
    result = {
        "documents_in": args.n, "cores": os.cpu_count(), "master": args.master, "single_workers": args.workers,
        "single_seconds": round(single_seconds, 1), "single_docs_per_s": round(args.n / single_seconds, 1),
        "single_cpu_seconds": round(single_cpu, 1),
        "spark_session_seconds": round(session_seconds, 1), "spark_seconds": spark_report["seconds"],
        "spark_docs_per_s": round(args.n / spark_report["seconds"], 1),
        "throughput_ratio_spark_vs_single": round(single_seconds / spark_report["seconds"], 3),
        "spark_near_duplicates": spark_report["near_duplicates"], "spark_rejected": spark_report["rejected"],
        "load_average_1m": round(os.getloadavg()[0], 2), **checks,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "bench_spark.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"| {args.n:,} documents | single node ({args.workers} processes) {result['single_docs_per_s']:,.0f}/s | "
          f"Spark {args.master} {result['spark_docs_per_s']:,.0f}/s (session start {session_seconds:.0f} s apart) | "
          f"ratio {result['throughput_ratio_spark_vs_single']:.2f} | identical fields: "
          f"{'yes' if checks['differing_fields'] == 0 else checks['differing_fields']} |")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
