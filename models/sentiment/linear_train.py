"""Training the default (linear) sentiment model: NB-weighted logistic regression on char n-grams.

Why this model: on the seed-0 80/20 splits it beat TF-IDF + LR by 0.5-1.5 points while predicting
tens of thousands of short reviews per second on one core, and it needs neither jieba nor torch at
run time (measured alternatives are listed in MODEL_CARD.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from models.sentiment.data import NEUTRAL, POSITIVE, LabelledData
from voc.sentiment.linear import LinearHead, LinearSentimentModel, make_vectorizer


@dataclass(slots=True)
class LinearConfig:
    n_features: int = 2**20
    ngram_range: tuple[int, int] = (1, 4)
    polarity_c: float = 8.0
    subjectivity_c: float = 4.0
    nb_alpha: float = 1.0
    # reweight classes inversely to frequency (aspect data: 2/3 neutral, few negatives)
    balanced: bool = False
    # opinionated rows used as negatives for the neutral head; None = all of them
    max_opinionated_for_neutral: int | None = None
    seed: int = 0


def nb_ratio(x: sp.csr_matrix, y: np.ndarray, alpha: float) -> np.ndarray:
    """Log-count ratio of Wang & Manning's NB-SVM: how much more often a feature occurs in class 1."""
    pos = np.asarray(x[y == 1].sum(axis=0)).ravel() + alpha
    neg = np.asarray(x[y == 0].sum(axis=0)).ravel() + alpha
    ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
    # hash buckets never seen in training carry no evidence
    ratio[(pos == alpha) & (neg == alpha)] = 0.0
    return ratio.astype(np.float32)


def _scaled(x: sp.csr_matrix, ratio: np.ndarray | None) -> sp.csr_matrix:
    if ratio is not None:
        x = sp.csr_matrix(x.multiply(ratio))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x)


def fit_head(
    x: sp.csr_matrix, y: np.ndarray, c: float, alpha: float, use_nb: bool = True, balanced: bool = False
) -> LinearHead:
    ratio = nb_ratio(x, y, alpha) if use_nb else None
    clf = LogisticRegression(C=c, solver="liblinear", max_iter=5000, class_weight="balanced" if balanced else None)
    clf.fit(_scaled(x, ratio), y)
    return LinearHead(clf.coef_.ravel().astype(np.float32), float(clf.intercept_[0]), ratio)


def train_linear(
    data: LabelledData, config: LinearConfig | None = None, meta: dict | None = None
) -> LinearSentimentModel:
    """Fit the polarity head on opinionated rows and, when neutral rows exist, the neutral head."""
    config = config or LinearConfig()
    labels = np.asarray(data.labels)
    if len(set(data.labels) - {NEUTRAL}) < 2:
        raise ValueError("training needs both negative and positive examples")
    vectorizer = make_vectorizer(config.n_features, config.ngram_range)
    x = sp.csr_matrix(vectorizer.transform(data.texts))
    opinionated = labels != NEUTRAL
    polarity = fit_head(
        x[opinionated],
        (labels[opinionated] == POSITIVE).astype(np.int8),
        config.polarity_c,
        config.nb_alpha,
        balanced=config.balanced,
    )
    subjectivity = None
    if (~opinionated).any():
        rows = _neutral_head_rows(opinionated, config)
        subjectivity = fit_head(
            x[rows],
            (~opinionated[rows]).astype(np.int8),
            config.subjectivity_c,
            config.nb_alpha,
            balanced=config.balanced,
        )
    info = {
        "n_train": len(data.texts),
        "train_label_counts": {k: int((labels == k).sum()) for k in sorted(set(data.labels))},
        "config": {
            "n_features": config.n_features,
            "ngram_range": list(config.ngram_range),
            "polarity_c": config.polarity_c,
            "subjectivity_c": config.subjectivity_c,
            "max_opinionated_for_neutral": config.max_opinionated_for_neutral,
            "balanced": config.balanced,
        },
        **(meta or {}),
    }
    return LinearSentimentModel(
        polarity=polarity,
        subjectivity=subjectivity,
        n_features=config.n_features,
        ngram_range=config.ngram_range,
        meta=info,
    )


def _neutral_head_rows(opinionated: np.ndarray, config: LinearConfig) -> np.ndarray:
    neutral_idx = np.flatnonzero(~opinionated)
    opinion_idx = np.flatnonzero(opinionated)
    limit = config.max_opinionated_for_neutral
    if limit is not None and len(opinion_idx) > limit:
        rng = np.random.default_rng(config.seed)
        opinion_idx = np.sort(rng.choice(opinion_idx, size=limit, replace=False))
    return np.sort(np.concatenate([neutral_idx, opinion_idx]))


def predict_labels(model: LinearSentimentModel, texts: Sequence[str], binary: bool) -> list[str]:
    """Model-only decision; ``binary`` compares negative with positive and ignores neutral."""
    proba = model.predict_proba(texts)
    if binary:
        return ["positive" if p[2] >= p[0] else "negative" for p in proba]
    return [("negative", "neutral", "positive")[int(i)] for i in proba.argmax(axis=1)]
