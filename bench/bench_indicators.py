"""Hide-k recovery of indicators on bdci2018_car_aspect.

The 10 aspects of the data set become an indicator system (``car_indicators.yaml``: one group, ten
indicators, keywords written by hand). For each seed, k of them are hidden, the rest imported, and
``voc indicators suggest`` runs on the texts, ingested through the normal service. A hidden aspect is
recovered when some suggestion's evidence documents reach F1 >= 0.5 against the documents labelled
with it; a suggestion that recovers no hidden aspect is a false suggestion.

    .venv/bin/python bench/bench_indicators.py [--seeds 10] [--k 3] [--min-count N] [--keep DIR]

Topic candidates join automatically once the topic stage has filled ``documents.topic_id``; without
it the figures measure the aspect-term path alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from voc.indicators.service import IndicatorService
from voc.indicators.tables import indicator_suggestions
from voc.ingest.records import ColumnOptions
from voc.service import Voc
from voc.settings import VocSettings
from voc.store import documents

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "data" / "bdci2018_car_aspect" / "train_2.csv"
TREE = ROOT / "car_indicators.yaml"
RESULTS = ROOT / "results"


def f1(found: set[str], gold: set[str]) -> float:
    hit = len(found & gold)
    return 2 * hit / (len(found) + len(gold)) if hit else 0.0


def ingest(voc: Voc, workdir: Path) -> dict[str, set[str]]:
    """Ingest each distinct content once; return aspect name -> labelled document ids."""
    by_content: dict[str, tuple[str, set[str]]] = {}
    with DATA.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            _, aspects = by_content.setdefault(row["content_id"], (row["content"].strip(), set()))
            aspects.add(row["subject"])
    path = workdir / "car.csv"  # a temporary copy for ingest, never inside the project
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows((cid, text) for cid, (text, _) in by_content.items())
    with voc.store.engine.connect() as conn:
        stored = int(conn.scalar(select(func.count()).select_from(documents)) or 0)
    if not stored:
        voc.ingest(path, "review", options=ColumnOptions(id_col="id", text_col="text"))
    with voc.store.engine.connect() as conn:
        external = dict(conn.execute(select(documents.c.external_id, documents.c.id)).all())
    gold: dict[str, set[str]] = defaultdict(set)
    for cid, (_, aspects) in by_content.items():
        for aspect in aspects:
            if cid in external:
                gold[aspect].add(external[cid])
    return gold


def run_seed(svc: IndicatorService, tree: dict[str, Any], gold: dict[str, set[str]], seed: int, k: int,
             options: dict[str, Any]) -> dict[str, Any]:
    names = [child["name"] for child in tree["indicators"][0]["children"]]
    hidden = sorted(random.Random(seed).sample(names, k))
    visible = dict(tree, indicators=[dict(tree["indicators"][0], children=[
        c for c in tree["indicators"][0]["children"] if c["name"] not in hidden])])
    with svc.voc.store.engine.begin() as conn:  # each seed starts without review history
        conn.execute(indicator_suggestions.delete())
    svc.import_tree(visible, author="bench", note=f"seed {seed}: hidden {', '.join(hidden)}")
    started = time.perf_counter()
    suggestions = svc.suggest(**options)
    seconds = time.perf_counter() - started
    rows, recovered = [], {}
    for item in suggestions:
        found = set(item["evidence"]["document_ids"])
        scores = {aspect: round(f1(found, gold[aspect]), 3) for aspect in names}
        best = max(hidden, key=lambda a: scores[a])
        if scores[best] >= 0.5:
            recovered[best] = max(recovered.get(best, 0.0), scores[best])
        rows.append({"name": item["name"], "keywords": item["keywords"][:6], "count": item["evidence"]["count"],
                     "priority": item["priority"], "best_hidden": best, "f1": scores[best],
                     "best_any": max(scores, key=lambda a: scores[a]), "f1_any": max(scores.values())})
    false = sum(1 for r in rows if r["f1"] < 0.5)
    return {"seed": seed, "hidden": hidden, "recovered": recovered, "recall": len(recovered) / k,
            "suggestions": len(rows), "false_suggestions": false, "seconds": round(seconds, 1), "details": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--min-count", type=int, default=None, help="default: from --min-share")
    parser.add_argument("--min-share", type=float, default=None, help="default: the service default (1%%)")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--keep", type=Path, default=None, help="VOC_HOME to reuse (ingests once)")
    parser.add_argument("--no-topics", action="store_true", help="skip `voc topics build` (aspect terms only)")
    args = parser.parse_args()
    if not DATA.is_file():
        print(f"missing {DATA}", file=sys.stderr)
        return 1
    tree = yaml.safe_load(TREE.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="voc-bench-ind-") as tmp:
        home = args.keep or Path(tmp) / "home"
        voc = Voc(VocSettings(home=home))
        started = time.perf_counter()
        gold = ingest(voc, Path(tmp))
        topics = None if args.no_topics else voc.topics.build().to_dict()  # topic candidates join the suggestions
        ingest_seconds = time.perf_counter() - started
        svc = IndicatorService(voc)
        runs = []
        for seed in range(args.seeds):
            options = {key: value for key, value in (("min_count", args.min_count), ("min_share", args.min_share))
                       if value is not None}
            run = run_seed(svc, tree, gold, seed, args.k, options)
            runs.append(run)
            print(f"seed {seed}: hidden {run['hidden']} recovered {sorted(run['recovered'])} "
                  f"recall {run['recall']:.2f}, {run['suggestions']} suggestions, {run['false_suggestions']} false "
                  f"({run['seconds']} s)", flush=True)
            for row in run["details"]:
                print(f"    {row['name']:<8} n={row['count']:<5} f1 {row['f1']:.2f} vs {row['best_hidden']}"
                      f" (best any: {row['best_any']} {row['f1_any']:.2f})  {'、'.join(row['keywords'])}")
        voc.close()
    summary = {
        "data": "bdci2018_car_aspect/train_2.csv", "documents": len(set().union(*gold.values())), "k": args.k,
        "seeds": args.seeds, "min_count": args.min_count, "min_share": args.min_share,
        "ingest_seconds": round(ingest_seconds, 1), "topics": topics,
        "mean_recall": round(statistics.mean(r["recall"] for r in runs), 3),
        "mean_false_suggestions": round(statistics.mean(r["false_suggestions"] for r in runs), 2),
        "max_false_suggestions": max(r["false_suggestions"] for r in runs),
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_indicators{args.tag}.json"
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    print(f"mean recall {summary['mean_recall']:.3f}, false suggestions per run mean "
          f"{summary['mean_false_suggestions']:.2f} (max {summary['max_false_suggestions']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
