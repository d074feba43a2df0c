"""Cost of alert evaluation on ingest, against the ingest itself (issue 22 target: ≤ 5% of the ingest time).

    .venv/bin/python bench/bench_alerts.py [--data CSV] [--limit N] [--workers N] [--stages sentiment,topics]

Ingests the same reviews twice into fresh stores: once with no alert rules, once with four per-document
rules (low score, a store-scoped low score with a webhook-free ticket-free scope, the default escalation
rule, and an escalation rule with a NEAR clause). A rating is derived from each review's label (1 for a
negative review, 5 for a positive one) and every 50th review gets an escalation phrase, so the rules
really fire: about half the documents raise an alert, far more than in practice (the worst case for the
store writes). The time inside the alert observer is measured directly (wall clock around each call),
and reported per document and as a share of the ingest time (its CPU time too: with workers on every
core the observer's wall time also counts the time it waits for a core). Then the scheduled rules (rising by
store and by topic, new topic) are timed over the whole store. Prints JSON and Markdown rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from voc.alerts import parse_rules
from voc.ingest.records import ColumnOptions
from voc.service import Voc
from voc.settings import VocSettings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/online_shopping_10_cats/online_shopping_10_cats.csv"
STORES = ["浦东店", "静安店", "徐汇店", "天河店", "福田店", "朝阳店", "海淀店", "武侯店"]
ESCALATIONS = ["我要投诉到消协", "再不处理就打12315", "准备找媒体曝光", "要求退一赔三", "已经发了律师函"]
PER_DOCUMENT_RULES = [
    {"name": "低分", "kind": "low_score"},
    {"name": "浦东低分", "kind": "low_score", "scope": {"store": ["浦东店"], "source": ["review"]},
     "sensitivity": {"rating_max": 1}},
    {"name": "升级", "kind": "escalation"},
    {"name": "媒体", "kind": "escalation", "sensitivity": {"rule": "(媒体 OR 记者) NEAR/5 曝光"}},
]
SCHEDULED_RULES = [
    {"name": "门店上升", "kind": "rising", "sensitivity": {"by": "store", "interval": "day"}},
    {"name": "话题上升", "kind": "rising", "sensitivity": {"by": "topic", "interval": "day"}},
    {"name": "新话题", "kind": "emerging_topic", "sensitivity": {"interval": "day"}},
]


def write_input(source: Path, target: Path, limit: int) -> int:
    rows = 0
    with source.open(encoding="utf-8") as handle, target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text", "rating", "store", "time"])
        for i, row in enumerate(csv.DictReader(handle)):
            if rows >= limit:
                break
            text = (row.get("review") or "").strip()
            if not text:
                continue
            if i % 50 == 0:
                text += "，" + ESCALATIONS[i // 50 % len(ESCALATIONS)]
            rating = 1 if row.get("label") == "0" else 5
            day = 1 + i % 28
            writer.writerow([f"b{i}", text, rating, STORES[i % len(STORES)], f"2026-02-{day:02d} 10:00:00"])
            rows += 1
    return rows


def ingest(path: Path, home: Path, *, rules: list[dict[str, Any]], settings: dict[str, Any]) -> dict[str, Any]:
    voc = Voc(VocSettings(home=home, **settings))
    try:
        observed = {"seconds": 0.0, "cpu_seconds": 0.0, "calls": 0, "documents": 0}
        if rules:
            voc.alerts.import_rules(parse_rules(rules))
            inner = voc.alerts.on_committed

            def timed(docs: Any) -> list[int]:
                started, cpu = time.perf_counter(), time.thread_time()
                try:
                    return inner(docs)
                finally:
                    observed["seconds"] += time.perf_counter() - started
                    observed["cpu_seconds"] += time.thread_time() - cpu
                    observed["calls"] += 1
                    observed["documents"] += len(docs)

            voc.alerts.on_committed = timed  # type: ignore[method-assign]
        voc.analyze("预热一下模型")  # models load before the clock starts: the ratio is against ingest work
        started = time.perf_counter()
        report = voc.ingest(path, "review", options=ColumnOptions())
        seconds = time.perf_counter() - started
        alerts = len(voc.alerts.alerts(limit=1_000_000)) if rules else 0
        scheduled: dict[str, Any] = {}
        if rules:
            voc.alerts.import_rules(parse_rules(SCHEDULED_RULES))
            started = time.perf_counter()
            run = voc.alerts.run(deliver=False)
            scheduled = {"seconds": round(time.perf_counter() - started, 3), "alerts": len(run["alerts"]),
                         "rules": run["rules"]}
        return {"accepted": report.accepted, "ingest_s": round(seconds, 3), "alerts": alerts,
                "observer_s": round(observed["seconds"], 4), "observer_cpu_s": round(observed["cpu_seconds"], 4),
                "observer_calls": observed["calls"],
                "observed_documents": observed["documents"], "scheduled": scheduled}
    finally:
        voc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--stages", default="sentiment",
                        help="analysis stages during ingest (comma-separated; '' for none: the cheapest ingest, "
                             "so the largest alert share)")
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    settings = {"workers": args.workers, "analysis_stages": stages}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "reviews.csv"
        rows = write_input(args.data, data, args.limit)
        baseline = ingest(data, Path(tmp) / "plain", rules=[], settings=settings)
        with_rules = ingest(data, Path(tmp) / "rules", rules=PER_DOCUMENT_RULES, settings=settings)
    per_doc_us = with_rules["observer_s"] / max(1, with_rules["observed_documents"]) * 1e6
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "documents": rows, "stages": stages, "workers": args.workers or os.cpu_count(),
        "ingest_without_rules_s": baseline["ingest_s"], "ingest_with_rules_s": with_rules["ingest_s"],
        "alert_observer_s": with_rules["observer_s"], "alert_observer_cpu_s": with_rules["observer_cpu_s"],
        "alerts_fired": with_rules["alerts"],
        "alert_us_per_document": round(per_doc_us, 1),
        "observer_share_of_ingest": round(with_rules["observer_s"] / with_rules["ingest_s"], 4),
        "scheduled_run": with_rules["scheduled"],
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"| {rows:,} reviews, {len(PER_DOCUMENT_RULES)} rules, stages {'+'.join(stages) or 'none'} | "
          f"{baseline['ingest_s']:.1f} s | {with_rules['ingest_s']:.1f} s | {with_rules['observer_s']:.2f} s "
          f"({per_doc_us:.0f} µs/doc; CPU {with_rules['observer_cpu_s']:.2f} s) | "
          f"{result['observer_share_of_ingest']:.1%} | {with_rules['alerts']:,} | "
          f"{with_rules['scheduled'].get('seconds', 0):.2f} s |")


if __name__ == "__main__":
    main()
