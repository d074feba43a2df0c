"""Runtime of the default sentiment model: hashed character n-grams, NB-weighted linear heads.

Only numpy, scipy and scikit-learn's stateless ``HashingVectorizer`` are needed, so the shipped
model loads in milliseconds and needs no torch. Training code lives in ``models/sentiment``.

A model is a directory with ``linear.json`` (metadata) and ``linear.npz`` (weights). It has up
to two binary heads:

* ``polarity``: positive vs negative, trained on opinionated text;
* ``subjectivity``: neutral vs opinionated (optional; without it the model is binary).

The three class probabilities are ``p_neu = σ(subjectivity)``, ``p_pos = (1 - p_neu) σ(polarity)``
and ``p_neg = (1 - p_neu) (1 - σ(polarity))``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
META_FILE = "linear.json"
WEIGHTS_FILE = "linear.npz"


def make_vectorizer(n_features: int, ngram_range: tuple[int, int]) -> HashingVectorizer:
    # binary presence counts: repeated characters ("好好好好") should not dominate a document
    return HashingVectorizer(
        analyzer="char",
        ngram_range=ngram_range,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        binary=True,
        lowercase=True,
    )


@dataclass(slots=True)
class LinearHead:
    """A binary linear classifier over NB-scaled, L2-normalised features."""

    weights: np.ndarray  # (n_features,) float32
    bias: float
    ratio: np.ndarray | None = None  # NB log-count ratio per feature; None means unscaled

    def decision(self, x: sp.csr_matrix) -> np.ndarray:
        if self.ratio is not None:
            x = sp.csr_matrix(x.multiply(self.ratio))
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return np.asarray(x @ self.weights).ravel() / norms + self.bias


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass(slots=True)
class LinearSentimentModel:
    """Hashed char n-gram sentiment model; picklable and cheap to share between processes."""

    polarity: LinearHead
    subjectivity: LinearHead | None = None
    n_features: int = 2**20
    ngram_range: tuple[int, int] = (1, 4)
    meta: dict[str, Any] = field(default_factory=dict)
    _vectorizer: HashingVectorizer | None = None

    @property
    def vectorizer(self) -> HashingVectorizer:
        if self._vectorizer is None:
            self._vectorizer = make_vectorizer(self.n_features, self.ngram_range)
        return self._vectorizer

    @property
    def has_neutral(self) -> bool:
        return self.subjectivity is not None

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        return sp.csr_matrix(self.vectorizer.transform(list(texts)))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, 3) array of probabilities in ``LABELS`` order."""
        out = np.zeros((len(texts), 3), dtype=np.float64)
        if not texts:
            return out
        x = self.features(texts)
        p_pos = _sigmoid(self.polarity.decision(x))
        p_neu = _sigmoid(self.subjectivity.decision(x)) if self.subjectivity else np.zeros(len(texts))
        out[:, 0] = (1 - p_neu) * (1 - p_pos)
        out[:, 1] = p_neu
        out[:, 2] = (1 - p_neu) * p_pos
        return out

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        heads: dict[str, dict[str, Any]] = {}
        for name, head in (("polarity", self.polarity), ("subjectivity", self.subjectivity)):
            if head is None:
                continue
            # float16 halves the file; the heads lose < 1e-3 accuracy (measured in the card)
            arrays[f"{name}_w"] = head.weights.astype(np.float16)
            if head.ratio is not None:
                arrays[f"{name}_r"] = head.ratio.astype(np.float16)
            heads[name] = {"bias": float(head.bias), "nb": head.ratio is not None}
        np.savez_compressed(directory / WEIGHTS_FILE, **arrays)
        meta = {
            "kind": "linear-char-ngram",
            "labels": list(LABELS),
            "n_features": self.n_features,
            "ngram_range": list(self.ngram_range),
            "heads": heads,
            **{k: v for k, v in self.meta.items() if k not in {"kind", "heads"}},
        }
        (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> LinearSentimentModel:
        return _load_cached(str(Path(directory).resolve()))


def is_linear_model_dir(directory: str | Path) -> bool:
    return (Path(directory) / META_FILE).is_file() and (Path(directory) / WEIGHTS_FILE).is_file()


@lru_cache(maxsize=8)
def _load_cached(directory: str) -> LinearSentimentModel:
    # one copy per process: worker processes re-open the model by path instead of unpickling weights
    path = Path(directory)
    if not is_linear_model_dir(path):
        raise FileNotFoundError(f"no linear sentiment model in {path} (expected {META_FILE} and {WEIGHTS_FILE})")
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    with np.load(path / WEIGHTS_FILE) as data:
        arrays = {k: data[k] for k in data.files}
    heads: dict[str, LinearHead] = {}
    for name, spec in meta["heads"].items():
        ratio = arrays[f"{name}_r"].astype(np.float32) if spec.get("nb") else None
        heads[name] = LinearHead(arrays[f"{name}_w"].astype(np.float32), float(spec["bias"]), ratio)
    return LinearSentimentModel(
        polarity=heads["polarity"],
        subjectivity=heads.get("subjectivity"),
        n_features=int(meta["n_features"]),
        ngram_range=(int(meta["ngram_range"][0]), int(meta["ngram_range"][1])),
        meta=meta,
    )
