"""Hide-k recovery of indicators on bdci2018_car_aspect and zhijiang2019 cosmetics.

Each corpus's labelled categories become an indicator system written by hand (``car_indicators.yaml``:
the ten car aspects; ``cosmetics_indicators.yaml``: twelve of zhijiang's thirteen categories, 其他 is
no indicator). For each seed, k of them are hidden, the rest imported, and ``voc indicators suggest``
runs on the texts, ingested through the normal service. A hidden indicator is recovered when some
suggestion's evidence documents reach F1 >= 0.5 against the documents labelled with it; a suggestion
that recovers no hidden indicator is a false suggestion, listed with a one-word reason:

* ``split``: most of its evidence is labelled with a hidden indicator another suggestion recovered
  or that it fails to reach alone (one theme, two suggestions);
* ``visible``: most of its evidence is labelled with a visible indicator (a keyword gap of it);
* ``unlabelled``: neither (a theme the labels do not have, or a word that is no theme).

Also reported: the share of recovered themes split over two or more suggestions (suggestions whose
evidence is mostly that theme's), and evidence precision (the share of a recovering suggestion's
evidence documents labelled with the theme it recovers).

    .venv/bin/python bench/bench_indicators.py [--corpus car|cosmetics|all] [--seeds 10] [--k 3]
        [--min-share S] [--keep DIR] [--tag T]
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
from collections import Counter, defaultdict
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
sys.path.insert(0, str(ROOT.parent))
RESULTS = ROOT / "results"
CORPORA = {  # name -> (category set of models.aspects.corpora, tree)
    "car": ("bdci_car", ROOT / "car_indicators.yaml"),
    "cosmetics": ("zhijiang", ROOT / "cosmetics_indicators.yaml"),
}


def f1(found: set[str], gold: set[str]) -> float:
    hit = len(found & gold)
    return 2 * hit / (len(found) + len(gold)) if hit else 0.0


def precision(found: set[str], gold: set[str]) -> float:
    return len(found & gold) / len(found) if found else 0.0


def ingest(voc: Voc, workdir: Path, corpus: str) -> dict[str, set[str]]:
    """Ingest every labelled document (train and test parts); return category -> document ids."""
    from models.aspects.corpora import category_splits

    train, test = category_splits(CORPORA[corpus][0])
    labelled = list(train) + list(test)
    path = workdir / f"{corpus}.csv"  # a temporary copy for ingest, never inside the project
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows((f"d{i}", doc.text) for i, doc in enumerate(labelled))
    with voc.store.engine.connect() as conn:
        stored = int(conn.scalar(select(func.count()).select_from(documents)) or 0)
    if not stored:
        voc.ingest(path, "review", options=ColumnOptions(id_col="id", text_col="text"))
    with voc.store.engine.connect() as conn:
        external = dict(conn.execute(select(documents.c.external_id, documents.c.id)).all())
    gold: dict[str, set[str]] = defaultdict(set)
    for i, doc in enumerate(labelled):
        for category in doc.categories:
            if f"d{i}" in external:
                gold[category].add(external[f"d{i}"])
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
    rows, recovered, on_theme = [], {}, Counter()
    for item in suggestions:
        found = set(item["evidence"]["document_ids"])
        scores = {name: round(f1(found, gold[name]), 3) for name in names}
        precisions = {name: round(precision(found, gold[name]), 3) for name in names}
        best = max(hidden, key=lambda a: scores[a])
        if scores[best] >= 0.5 and scores[best] > recovered.get(best, {}).get("f1", 0.0):
            recovered[best] = {"f1": scores[best], "precision": precisions[best], "name": item["name"]}
        theme = max(names, key=lambda a: (precisions[a] if a in hidden or a != "整体" else 0.0, scores[a]))
        if theme in hidden and precisions[theme] >= 0.5:
            on_theme[theme] += 1
        near = item.get("nearest_indicator") or {}
        rows.append({"name": item["name"], "kind": item.get("kind", "indicator"),
                     "nearest": near.get("id"), "nearest_similarity": near.get("similarity", 0.0),
                     "keywords": item["keywords"][:6], "count": item["evidence"]["count"],
                     "priority": item["priority"], "best_hidden": best, "f1": scores[best],
                     "theme": theme, "theme_precision": precisions[theme]})
    for row in rows:
        if row["f1"] >= 0.5:
            row["reason"] = ""
        elif row["theme"] in hidden and row["theme_precision"] >= 0.5:
            row["reason"] = "split"
        elif row["theme"] not in hidden and row["theme_precision"] >= 0.5:
            row["reason"] = "visible"
        else:
            row["reason"] = "unlabelled"
    false = sum(1 for r in rows if r["f1"] < 0.5)
    split = sum(1 for name in recovered if on_theme[name] >= 2)
    return {"seed": seed, "hidden": hidden, "recovered": recovered, "recall": len(recovered) / k,
            "recoverable": [h for h in hidden if len(gold[h]) >= options.get("min_count", 0)],
            "suggestions": len(rows), "false_suggestions": false, "split_recoveries": split,
            "seconds": round(seconds, 1), "details": rows}


def summarise(corpus: str, runs: list[dict[str, Any]], gold: dict[str, set[str]], args: argparse.Namespace,
              ingest_seconds: float) -> dict[str, Any]:
    recoveries = [r for run in runs for r in run["recovered"].values()]
    false_list = Counter((row["name"], row["reason"]) for run in runs for row in run["details"] if row["f1"] < 0.5)
    return {
        "corpus": corpus, "documents": len(set().union(*gold.values())), "k": args.k, "seeds": args.seeds,
        "min_count": args.min_count, "min_share": args.min_share, "ingest_seconds": round(ingest_seconds, 1),
        "labelled": {name: len(ids) for name, ids in sorted(gold.items(), key=lambda x: -len(x[1]))},
        "mean_recall": round(statistics.mean(r["recall"] for r in runs), 3),
        "mean_false_suggestions": round(statistics.mean(r["false_suggestions"] for r in runs), 2),
        "max_false_suggestions": max(r["false_suggestions"] for r in runs),
        "split_share": round(sum(r["split_recoveries"] for r in runs) / len(recoveries), 3) if recoveries else 0.0,
        "evidence_precision": round(statistics.mean(r["precision"] for r in recoveries), 3) if recoveries else 0.0,
        "suggest_seconds": [min(r["seconds"] for r in runs), max(r["seconds"] for r in runs)],
        "false_list": [{"name": n, "reason": why, "runs": c} for (n, why), c in false_list.most_common()],
        "runs": runs,
    }


def bench(corpus: str, args: argparse.Namespace) -> dict[str, Any]:
    tree = yaml.safe_load(CORPORA[corpus][1].read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="voc-bench-ind-") as tmp:
        home = args.keep / corpus if args.keep else Path(tmp) / "home"
        voc = Voc(VocSettings(home=home))
        started = time.perf_counter()
        gold = ingest(voc, Path(tmp), corpus)
        if args.topics:
            voc.topics.build()
        ingest_seconds = time.perf_counter() - started
        svc = IndicatorService(voc)
        options = {key: value for key, value in (("min_count", args.min_count), ("min_share", args.min_share))
                   if value is not None}
        runs = []
        for seed in range(args.seeds):
            run = run_seed(svc, tree, gold, seed, args.k, options)
            runs.append(run)
            print(f"[{corpus}] seed {seed}: hidden {run['hidden']} recovered {sorted(run['recovered'])} "
                  f"recall {run['recall']:.2f}, {run['suggestions']} suggestions, {run['false_suggestions']} "
                  f"false ({run['seconds']} s)", flush=True)
            for row in run["details"]:
                print(f"    {row['name']:<8} {row['kind']:<9} n={row['count']:<5} f1 {row['f1']:.2f} vs "
                      f"{row['best_hidden']} (mostly {row['theme']} {row['theme_precision']:.2f}) {row['reason']:<10}"
                      f" {'、'.join(row['keywords'])}  near {row['nearest']} {row['nearest_similarity']}", flush=True)
        voc.close()
    return summarise(corpus, runs, gold, args, ingest_seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=[*CORPORA, "all"], default="all")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--min-count", type=int, default=None, help="default: from --min-share")
    parser.add_argument("--min-share", type=float, default=None, help="default: the service default")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--keep", type=Path, default=None, help="a folder for the VOC_HOMEs to reuse (ingests once)")
    parser.add_argument("--topics", action="store_true", help="run `voc topics build` first (topic candidates)")
    args = parser.parse_args()
    summaries = {}
    for corpus in CORPORA if args.corpus == "all" else [args.corpus]:
        summary = summaries[corpus] = bench(corpus, args)
        print(f"[{corpus}] recall {summary['mean_recall']:.3f}, false suggestions per run "
              f"{summary['mean_false_suggestions']:.2f} (max {summary['max_false_suggestions']}), split "
              f"{summary['split_share']:.2f}, evidence precision {summary['evidence_precision']:.3f}", flush=True)
        for item in summary["false_list"]:
            print(f"    false: {item['name']} ({item['reason']}) x{item['runs']}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_indicators{args.tag}.json"
    out.write_text(json.dumps(summaries, ensure_ascii=False, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
