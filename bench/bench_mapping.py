"""Document-level mapping onto an indicator tree, on the held-out parts of the public mapping benchmarks.

Benchmarks (``models.mapping.benchmarks``): bdci2018 car comments with ``car_indicators.yaml`` (10
indicators) and zhijiang2019 cosmetics reviews with ``cosmetics_indicators.yaml`` (12; 其他 left
out); trees written by hand, test parts 20% by text (seed 0). A document counts as mapped to an
indicator when the mapper gives it a mention of that indicator. Scores: micro precision / recall /
F1 over (document, indicator) pairs, macro-F1 and macro recall over indicators.

Systems, in the same run, all on the shipped linear sentiment model:
- ``today``: the mapper as it was (keywords, lexicon aspects, char n-gram similarity);
- ``tagger``: the same mapper, aspects from the shipped CRF span tagger;
- ``aspect_categories``: only the mentions that come from tagged aspects' categories (the
  document-level aspect-category detection of the issue);
- ``examples``: exemplar heads trained on the train part (every labelled train document an
  example) joined to the keyword evidence by the shipped calibration (``models/mapping/calibration.json``,
  learned on train parts only).

    python bench/bench_mapping.py [--out bench/results/mapping.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.mapping.benchmarks import decisions, doc_views, load_benchmark, scores
from voc.exemplars import Calibration, default_calibration_path, featurise, train_exemplars
from voc.indicators.mapping import Mapper
from voc.sentiment import load_analyzer
from voc.settings import VocSettings
from voc.text.tokenize import Tokenizer

ROOT = Path(__file__).resolve().parent

def run_benchmark(name: str, calibration: Calibration) -> dict[str, Any]:
    benchmark = load_benchmark(name)
    tokenizer = Tokenizer()
    gold = benchmark.labels(benchmark.test)
    texts = [d.text for d in benchmark.test]
    results: dict[str, Any] = {"n_test": len(texts), "n_train": len(benchmark.train), "labels": int(gold.sum())}
    views = {}
    for tagger in ("lexicon", "crf"):
        analyzer = load_analyzer(VocSettings(sentiment_model="linear", aspect_tagger=tagger))
        views[tagger] = doc_views(analyzer, texts)
    plain = Mapper(benchmark.tree, tokenizer)
    results["today"] = scores(decisions(benchmark, plain.map_many(views["lexicon"])), gold)
    tagged = plain.map_many(views["crf"])
    results["tagger"] = scores(decisions(benchmark, tagged), gold)
    for mapping in tagged:
        mapping.mentions = [m for m in mapping.mentions if m.via == "aspect"]
    results["aspect_categories"] = scores(decisions(benchmark, tagged), gold)
    started = time.perf_counter()
    features = featurise([d.text for d in benchmark.train], tokenizer.segment)
    model = train_exemplars(features, benchmark.label_sets(benchmark.train), [leaf.id for leaf in benchmark.leaves])
    results["examples_train_seconds"] = round(time.perf_counter() - started, 1)
    learned = Mapper(benchmark.tree, tokenizer, exemplars=model, calibration=calibration)
    started = time.perf_counter()
    results["examples"] = scores(decisions(benchmark, learned.map_many(views["crf"])), gold)
    results["examples_map_docs_per_s"] = round(len(texts) / (time.perf_counter() - started), 1)
    for system in ("today", "tagger", "aspect_categories", "examples"):
        s = results[system]
        print(f"{name:9s} {system:18s} P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f} "
              f"macro-F1 {s['macro_f1']:.3f} macro-R {s['macro_recall']:.3f}", flush=True)
    return results

def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibration", type=Path, default=default_calibration_path())
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "mapping.json")
    args = parser.parse_args(argv)
    calibration = Calibration.load(args.calibration)
    results = {"calibration": {"weights": calibration.weights, "bias": calibration.bias,
                               "threshold": calibration.threshold, "fitted_on": calibration.fitted_on}}
    for name in ("bdci_car", "zhijiang"):
        results[name] = run_benchmark(name, calibration)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=float), encoding="utf-8")

if __name__ == "__main__":
    main()
