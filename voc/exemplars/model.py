"""Indicators learned from labelled examples: one linear head per indicator over hashed n-grams.

Metric designers label comments with the indicators they belong to (or accept mapped ones); each
indicator with enough examples gets a binary logistic regression over hashed character 1–3-grams
and jieba words (binary presence, L2-normalised rows). Keywords say what a designer thought of;
examples carry the rest of how customers say it (烧机油 → 动力, 中控彩屏 → 配置).

Saved as ``exemplars.npz`` (float16 weights) + ``exemplars.json``: no pickle, so a model directory
from elsewhere cannot run code when loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

N_FEATURES = 2**18
MIN_EXAMPLES = 5  # positive examples an indicator needs before it gets a head
META_FILE, WEIGHTS_FILE = "exemplars.json", "exemplars.npz"
Segmenter = Callable[[str], list[str]]


def _vectorizers() -> tuple[HashingVectorizer, HashingVectorizer]:
    chars = HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=N_FEATURES, alternate_sign=False,
                              norm=None, binary=True)
    words = HashingVectorizer(analyzer=lambda words: words, n_features=N_FEATURES, alternate_sign=False,
                              norm=None, binary=True)
    return chars, words


def featurise(texts: Sequence[str], segment: Segmenter) -> sp.csr_matrix:
    chars, words = _vectorizers()
    joined = sp.hstack([chars.transform(texts), words.transform([["w:" + w for w in segment(t)] for t in texts])])
    return normalize(joined.tocsr())


@dataclass(slots=True)
class ExemplarModel:
    indicator_ids: list[str]
    weights: np.ndarray  # (n_indicators, 2 * N_FEATURES) float32
    biases: np.ndarray  # (n_indicators,)
    counts: list[int]  # positive examples per indicator

    def probabilities(self, features: sp.csr_matrix) -> np.ndarray:
        """(n_texts, n_indicators) probability that a text belongs to each indicator."""
        scores = np.asarray(features @ self.weights.T) + self.biases
        return 1.0 / (1.0 + np.exp(-scores))

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(directory / WEIGHTS_FILE, weights=self.weights.astype(np.float16), biases=self.biases)
        meta = {"indicator_ids": self.indicator_ids, "counts": self.counts, "n_features": N_FEATURES,
                "features": "char 1-3-grams + jieba words, hashed, binary, L2"}
        (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> ExemplarModel:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            weights, biases = arrays["weights"].astype(np.float32), arrays["biases"]
        if meta.get("n_features") != N_FEATURES or weights.shape != (len(meta["indicator_ids"]), 2 * N_FEATURES):
            raise ValueError(f"{directory}: exemplar model shape does not match this version of voc")
        return cls(list(meta["indicator_ids"]), weights, biases, list(meta["counts"]))


def train_exemplars(features: sp.csr_matrix, labels: Sequence[set[str]], indicator_ids: Sequence[str],
                    c: float = 4.0) -> ExemplarModel:
    """One head per indicator with at least ``MIN_EXAMPLES`` positive examples; the rest of the
    examples are its negatives. Indicators with fewer get no head (and no row)."""
    kept, rows, biases, counts = [], [], [], []
    for indicator_id in indicator_ids:
        target = np.array([indicator_id in item for item in labels], dtype=np.int8)
        if target.sum() < MIN_EXAMPLES or target.sum() == len(target):
            continue
        head = LogisticRegression(C=c, max_iter=2000, solver="liblinear").fit(features, target)
        kept.append(indicator_id)
        rows.append(head.coef_[0].astype(np.float32))
        biases.append(float(head.intercept_[0]))
        counts.append(int(target.sum()))
    weights = np.vstack(rows) if rows else np.zeros((0, 2 * N_FEATURES), dtype=np.float32)
    return ExemplarModel(kept, weights, np.array(biases, dtype=np.float32), counts)
