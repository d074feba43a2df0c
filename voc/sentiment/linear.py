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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
META_FILE = "linear.json"
WEIGHTS_FILE = "linear.npz"
# Inputs up to this many characters in all are hashed in Python (``_hash_rows``): sklearn's
# ``transform`` costs ~90 µs of fixed overhead per call, a Python loop ~0.25 µs more per n-gram than
# its Cython loop, so the two break even near 90 characters (4 n-grams per character).
SMALL_INPUT_CHARS = 96


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
        """Decision values of the rows of ``x`` (any CSR matrix over this head's features).

        Only the weights of each row's non-zero columns are gathered: ``x @ weights`` made scipy
        upcast the whole 2^20-entry float32 vector to float64 on every call (~1 ms for one short
        text), while a row of a short text has a few dozen features. The arithmetic is the same
        as the full product (float64 products, summed per row in column order), so the results
        match ``decision_dense`` to rounding; tests/test_sentiment_speed_path.py checks it.
        """
        return self._decision(x.indptr, x.indices, x.data)

    def _decision(self, indptr: np.ndarray, columns: np.ndarray, data: np.ndarray) -> np.ndarray:
        n_rows = len(indptr) - 1
        values = np.asarray(data, dtype=np.float64)
        if self.ratio is not None:
            values = values * self.ratio[columns]
        # the row of every stored entry, so that one bincount sums each row for the whole batch
        rows = np.repeat(np.arange(n_rows), np.diff(indptr))
        dots = np.bincount(rows, weights=values * self.weights[columns], minlength=n_rows)
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n_rows))
        norms[norms == 0] = 1.0
        return dots / norms + self.bias

    def decision_dense(self, x: sp.csr_matrix) -> np.ndarray:
        """The straightforward full sparse-dense product: the reference ``decision`` must match."""
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
    _analyzer: Callable[[str], list[str]] | None = None

    @property
    def vectorizer(self) -> HashingVectorizer:
        if self._vectorizer is None:
            self._vectorizer = make_vectorizer(self.n_features, self.ngram_range)
        return self._vectorizer

    @property
    def analyzer(self) -> Callable[[str], list[str]]:
        """The vectorizer's n-gram analyzer, built once (``transform`` rebuilds it per call)."""
        if self._analyzer is None:
            self._analyzer = self.vectorizer.build_analyzer()
        return self._analyzer

    @property
    def has_neutral(self) -> bool:
        return self.subjectivity is not None

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        texts = list(texts)
        if sum(map(len, texts)) <= SMALL_INPUT_CHARS:
            indptr, columns, data = self._hash_rows(texts)
            return sp.csr_matrix((data, columns, indptr), shape=(len(texts), self.n_features))
        return sp.csr_matrix(self.vectorizer.transform(texts))

    def _feature_arrays(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR (indptr, indices, data) of ``features``; small inputs skip building a scipy matrix (~20 µs)."""
        if sum(map(len, texts)) <= SMALL_INPUT_CHARS:
            return self._hash_rows(texts)
        x = self.features(texts)
        return x.indptr, x.indices, x.data

    def _hash_rows(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Same arrays as ``vectorizer.transform`` (canonical CSR, binary), without its per-call overhead.

        Mirrors sklearn's hashing with ``alternate_sign=False``: column = |murmurhash3_32(n-gram,
        seed 0)| mod n_features (Python's abs(-2**31) % n equals sklearn's special case for it).
        tests/test_sentiment_speed_path.py compares both on varied texts.
        """
        analyze, n_features = self.analyzer, self.n_features
        indptr = [0]
        columns: list[int] = []
        for text in texts:
            # binary features: a repeated n-gram is one column; sorted like sum_duplicates() leaves them
            columns.extend(sorted({abs(murmurhash3_32(gram, 0)) % n_features for gram in analyze(text)}))
            indptr.append(len(columns))
        return np.asarray(indptr, dtype=np.int32), np.asarray(columns, dtype=np.int32), np.ones(len(columns))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, 3) array of probabilities in ``LABELS`` order."""
        out = np.zeros((len(texts), 3), dtype=np.float64)
        if not texts:
            return out
        rows = self._feature_arrays(list(texts))
        p_pos = _sigmoid(self.polarity._decision(*rows))
        p_neu = _sigmoid(self.subjectivity._decision(*rows)) if self.subjectivity else np.zeros(len(texts))
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
