"""Learning the mapping calibration (``voc.exemplars.Calibration``) on the train parts of the benchmarks.

For each benchmark: the train documents are analysed (shipped sentiment + span tagger) and mapped
without examples, giving a term hit and an aspect hit per (document, indicator); exemplar heads are
trained 5-fold on the same train part, so each document's probability comes from heads that never
saw it. One logistic model over the pooled rows of both benchmarks gives the weights; the threshold
is the one with the best pooled F1. Test parts are never read.

    .venv/bin/python -m models.mapping.calibrate [--out models/mapping/calibration.json]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from models.mapping.benchmarks import Benchmark, doc_views, evidence, load_benchmark
from voc.exemplars import Calibration, default_calibration_path, featurise, train_exemplars
from voc.indicators.mapping import Mapper
from voc.sentiment import load_analyzer
from voc.settings import VocSettings
from voc.text.tokenize import Tokenizer

BENCHMARKS = ("bdci_car", "zhijiang")


def out_of_fold(benchmark: Benchmark, tokenizer: Tokenizer, folds: int = 5) -> np.ndarray:
    """Exemplar probabilities of every train document from heads trained on the other folds."""
    texts = [d.text for d in benchmark.train]
    labels = benchmark.label_sets(benchmark.train)
    features = featurise(texts, tokenizer.segment)
    ids = [leaf.id for leaf in benchmark.leaves]
    out = np.zeros((len(texts), len(ids)))
    for fit_rows, held_rows in KFold(folds, shuffle=True, random_state=0).split(texts):
        model = train_exemplars(features[fit_rows], [labels[i] for i in fit_rows], ids)
        probabilities = model.probabilities(features[held_rows])
        for j, indicator_id in enumerate(model.indicator_ids):
            out[held_rows, ids.index(indicator_id)] = probabilities[:, j]
    return out


def calibration_rows(name: str, settings: VocSettings) -> tuple[np.ndarray, np.ndarray]:
    benchmark = load_benchmark(name)
    tokenizer = Tokenizer.from_settings(settings)
    views = doc_views(load_analyzer(settings), [d.text for d in benchmark.train])
    term, aspect = evidence(benchmark, Mapper(benchmark.tree, tokenizer), views)
    probability = out_of_fold(benchmark, tokenizer)
    rows = np.stack([term.ravel(), aspect.ravel(), probability.ravel()], axis=1).astype(float)
    return rows, benchmark.labels(benchmark.train).ravel()


def fit(rows: np.ndarray, gold: np.ndarray, fitted_on: str) -> Calibration:
    model = LogisticRegression(C=1.0, max_iter=1000).fit(rows, gold)
    calibration = Calibration(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), 0.5, fitted_on)
    probability = np.array([calibration.probability(bool(t), bool(a), p) for t, a, p in rows])
    best_f1, best_threshold = -1.0, 0.5
    for threshold in np.arange(0.1, 0.91, 0.025):
        predicted = probability >= threshold
        tp = float((predicted & gold).sum())
        f1 = 2 * tp / max(1.0, float(predicted.sum() + gold.sum()))
        if f1 > best_f1:
            best_f1, best_threshold = f1, round(float(threshold), 3)
    return Calibration(calibration.weights, calibration.bias, best_threshold, fitted_on)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_calibration_path())
    parser.add_argument("--benchmarks", default=",".join(BENCHMARKS))
    args = parser.parse_args(argv)
    settings = VocSettings(sentiment_model="linear")
    names = args.benchmarks.split(",")
    parts = [calibration_rows(name, settings) for name in names]
    rows = np.vstack([r for r, _ in parts])
    gold = np.concatenate([g for _, g in parts]).astype(bool)
    description = (f"train parts of {', '.join(names)} (80/20 by text, seed 0); exemplar probabilities 5-fold "
                   f"out of fold; {len(rows)} (document, indicator) rows")
    calibration = fit(rows, gold, description)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    calibration.save(args.out)
    print(calibration)


if __name__ == "__main__":
    main()
