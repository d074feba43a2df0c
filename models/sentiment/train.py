"""Train and evaluate sentiment models: the functions behind ``voc models train|eval sentiment``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from models.sentiment.data import LabelledData, read_many
from models.sentiment.linear_train import LinearConfig, train_linear

LABELS = ("negative", "neutral", "positive")


def train_sentiment(
    paths: Sequence[str | Path],
    text_col: str,
    label_col: str,
    out: str | Path,
    base: str | None = None,
    linear_config: LinearConfig | None = None,
    encoder_options: dict[str, Any] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Train the linear model on ``paths``, or fine-tune the encoder ``base`` when given: on
    ``paths`` if any, else on the public mixture the shipped encoder is trained on."""
    if base:
        from models.sentiment.encoder_recipe import train_encoder_model

        return train_encoder_model(base, out, paths, text_col, label_col, encoder_options, progress)
    data = read_many(paths, text_col, label_col)
    if not data.texts:
        raise ValueError("no labelled rows in the training data")
    model = train_linear(data, linear_config, meta={"sources": [str(p) for p in paths]})
    model.save(out)
    return {
        "kind": "linear",
        "out": str(out),
        "n": len(data.texts),
        "label_counts": {k: data.labels.count(k) for k in LABELS if k in data.labels},
        "dropped": data.dropped,
    }


def score_labels(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    present = [k for k in LABELS if k in set(gold) | set(pred)]
    precision, recall, f1, support = precision_recall_fscore_support(gold, pred, labels=present, zero_division=0)
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "macro_f1": round(float(f1_score(gold, pred, labels=sorted(set(gold)), average="macro")), 4),
        "per_class": {
            k: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for k, p, r, f, s in zip(present, precision, recall, f1, support, strict=True)
        },
    }


def decide(proba: np.ndarray, binary: bool) -> list[str]:
    """Labels from (n, 3) probabilities; on binary data the decision is negative vs positive."""
    if binary:
        return ["positive" if p[2] >= p[0] else "negative" for p in proba]
    return [LABELS[int(i)] for i in proba.argmax(axis=1)]


def evaluate_analyzer(analyzer: Any, data: LabelledData) -> dict[str, Any]:
    started = time.perf_counter()
    proba = analyzer.document_probabilities(data.texts)
    elapsed = time.perf_counter() - started
    result = score_labels(data.labels, decide(proba, data.is_binary))
    result["docs_per_s"] = round(len(data.texts) / elapsed, 1) if elapsed > 0 else None
    return result


def evaluate_sentiment(
    path: str | Path,
    text_col: str,
    label_col: str,
    model: str | Path | None = None,
    use_rules: bool = True,
) -> dict[str, Any]:
    """Score a model as voc uses it (model + contrast + hard-case rules) on one labelled file."""
    from voc.sentiment.analyzer import Analyzer

    data = read_many([path], text_col, label_col)
    if not data.texts:
        raise ValueError(f"no labelled rows in {path}")
    analyzer = Analyzer(model or "cascade", use_rules=use_rules)
    result = evaluate_analyzer(analyzer, data)
    result["dropped"] = data.dropped
    return result
