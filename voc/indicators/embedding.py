"""Text encoders for indicator mapping: anything with ``encode(texts) -> L2-normalised rows``.

The default is a stateless hashed character n-gram encoder: no model download, no fitting, and it
catches what exact token matching misses (配送员 vs 配送小哥, 退款 vs 退款进度). A sentence encoder
(e.g. a local transformer) can be passed instead wherever an ``Encoder`` is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> Any:
        """One L2-normalised row per text: a numpy array or a scipy sparse matrix."""
        ...


class CharNgramEncoder:
    """Character n-grams inside each whitespace-separated piece: sklearn's ``char`` analyzer would
    also count the spaces between tokens, and that shared feature alone made unrelated texts similar."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), n_features: int = 2**18) -> None:
        self.ngram_range = ngram_range
        self.vectorizer = HashingVectorizer(analyzer=self._grams, n_features=n_features, alternate_sign=False,
                                            norm="l2")

    def _grams(self, text: str) -> list[str]:
        low, high = self.ngram_range
        grams = []
        for piece in text.lower().split():
            for size in range(low, high + 1):
                grams.extend(piece[i:i + size] for i in range(len(piece) - size + 1))
        return grams

    def encode(self, texts: Sequence[str]) -> sp.csr_matrix:
        # sparse: a dense row of 2**18 hashed features per clause would not fit a corpus batch
        return sp.csr_matrix(self.vectorizer.transform(list(texts)), dtype=np.float32)


def cosine(a: Any, b: Any) -> np.ndarray:
    """Pairwise cosine similarity of two row-normalised matrices (dense or sparse), as a dense array."""
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]), dtype=np.float32)
    product = a @ b.T
    return np.asarray(product.toarray() if sp.issparse(product) else product)
