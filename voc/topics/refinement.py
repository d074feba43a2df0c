"""Refinement step: each document's own words re-decide its topic, judged by the other documents' topics.

Clustering sees documents only through their embeddings, and an embedding learned from the corpus
alone blurs: a complaint about 医院 wages and one about 医院 queues land together, a hotel review that
mentions 隔音 once sits with the general hotel praise. A linear classifier over the full TF-IDF
vocabulary, trained on the cluster labels, knows which words set each topic apart. Trained on all
documents it would memorise them (it reproduces 97–99% of its own training labels), so the labels are
cross-fitted: each fold's documents are judged by a classifier that never saw them (self-training by
iterative classification, as in Rakib et al. 2020 for short-text clustering). Balanced class weights keep
a broad topic from absorbing the specific ones, which matters on feedback about one business.

Measured (bench_topics path, 3 seeds): NMI 0.545 → 0.574 on the tipdm complaints, 0.611 → 0.619 on
online_shopping 20k; the largest hotel-review topic 29% → 21% of the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import KFold

from voc.topics.embedding import frequency_cutoffs, pretokenized


class Refiner(Protocol):
    def fit_refine(self, tokens: Sequence[list[str]], labels: np.ndarray) -> np.ndarray:
        """Refined labels (consecutive indices, -1 kept as outliers); learns what ``predict`` needs."""
        ...

    def predict(self, tokens: Sequence[list[str]]) -> np.ndarray | None:
        """Topic index per new document, -1 where it cannot judge; ``None`` when it has no opinion."""
        ...


class NoRefinement:
    def fit_refine(self, tokens: Sequence[list[str]], labels: np.ndarray) -> np.ndarray:
        return labels

    def predict(self, tokens: Sequence[list[str]]) -> np.ndarray | None:
        return None


class CrossFitRefiner:
    """Out-of-fold ridge classifiers over TF-IDF relabel the clustered documents for ``rounds`` rounds.

    Outliers stay outliers and documents without a known word keep their topic. A topic left with no
    documents disappears. The classifier trained on the final labels assigns new documents, so a
    document ingested later lands where the same text landed in the build. Topics are expected to hold
    at least HDBSCAN's minimum cluster size: balanced weights give a one-document topic so much weight
    that it pulls in documents like it.
    """

    def __init__(self, rounds: int = 3, folds: int = 3, alpha: float = 1.0, min_df: int = 2, max_df: float = 0.5,
                 random_state: int = 0) -> None:
        self.rounds = rounds
        self.folds = folds
        self.alpha = alpha
        self.min_df = min_df
        self.max_df = max_df
        self.random_state = random_state
        self.vectorizer: TfidfVectorizer | None = None
        self.classifier: RidgeClassifier | None = None

    def _classifier(self) -> RidgeClassifier:
        return RidgeClassifier(alpha=self.alpha, class_weight="balanced", solver="lsqr")

    def fit_refine(self, tokens: Sequence[list[str]], labels: np.ndarray) -> np.ndarray:
        self.vectorizer = self.classifier = None
        n_docs = len(tokens)
        if self.rounds <= 0 or np.unique(labels[labels >= 0]).size < 2:
            return labels
        min_df, max_df = frequency_cutoffs(n_docs, self.min_df, self.max_df)
        vectorizer = TfidfVectorizer(analyzer=pretokenized, min_df=min_df, max_df=max_df, sublinear_tf=True,
                                     dtype=np.float32)
        try:
            features = vectorizer.fit_transform(tokens).tocsr()
        except ValueError:  # no term survives the cut-offs
            return labels
        movable = np.flatnonzero((labels >= 0) & (np.diff(features.indptr) > 0))
        if movable.size < 2 * self.folds:
            return labels
        labels = labels.copy()
        folds = KFold(self.folds, shuffle=True, random_state=self.random_state)
        for _ in range(self.rounds):
            judged = labels.copy()
            for train, held_out in folds.split(movable):
                train_rows, held_rows = movable[train], movable[held_out]
                if np.unique(labels[train_rows]).size < 2:
                    continue
                classifier = self._classifier().fit(features[train_rows], labels[train_rows])
                judged[held_rows] = classifier.predict(features[held_rows])
            if np.array_equal(judged, labels):
                break
            labels = judged
        labels = _consecutive(labels)
        if np.unique(labels[movable]).size >= 2:
            self.vectorizer = vectorizer
            self.classifier = self._classifier().fit(features[movable], labels[movable])
        return labels

    def predict(self, tokens: Sequence[list[str]]) -> np.ndarray | None:
        if self.vectorizer is None or self.classifier is None:
            return None
        features = self.vectorizer.transform(tokens).tocsr()
        chosen = self.classifier.predict(features).astype(np.int64)
        return np.where(np.diff(features.indptr) > 0, chosen, -1)


def _consecutive(labels: np.ndarray) -> np.ndarray:
    """Renumber topics 0..k-1 in their old order (a topic that lost every document is gone)."""
    kept = np.unique(labels[labels >= 0])
    remap = np.full(int(labels.max()) + 2 if labels.size else 1, -1, dtype=np.int64)
    remap[kept] = np.arange(kept.size)
    return remap[labels]  # -1 indexes the trailing -1
