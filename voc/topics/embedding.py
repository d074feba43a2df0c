"""Document embedding steps for topic discovery.

Every embedder takes documents as ``(tokens, text)`` pairs so a lexical model can use the jieba tokens
the pipeline already stored while a transformer reads the text itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize


class Embedder(Protocol):
    """Turns documents into L2-normalised dense rows; ``fit_transform`` learns, ``transform`` reuses."""

    def fit_transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray: ...

    def transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray: ...


def _identity(tokens: list[str]) -> list[str]:
    return tokens


class TfidfSvdEmbedder:
    """TF-IDF over jieba tokens reduced by truncated SVD (latent semantic analysis).

    Works offline with no pretrained weights. ``max_df`` drops the praise and filler words that
    occur in every kind of feedback (很好, 不错, 东西) so that what a text is *about* dominates.
    """

    def __init__(self, n_components: int = 100, min_df: int = 3, max_df: float = 0.2,
                 random_state: int = 0) -> None:
        self.n_components = n_components
        self.min_df = min_df
        self.max_df = max_df
        self.random_state = random_state
        self.vectorizer: TfidfVectorizer | None = None
        self.svd: TruncatedSVD | None = None

    def fit_transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        n_docs = len(tokens)
        # Small corpora (tests, a narrow --since) cannot support the defaults; shrink instead of failing.
        min_df = self.min_df if n_docs >= 50 * self.min_df else 1
        max_df = self.max_df if n_docs >= 200 else 1.0
        self.vectorizer = TfidfVectorizer(analyzer=_identity, min_df=min_df, max_df=max_df, sublinear_tf=True,
                                          dtype=np.float32)
        matrix = self.vectorizer.fit_transform(tokens)
        components = max(1, min(self.n_components, matrix.shape[1] - 1, n_docs - 1))
        self.svd = TruncatedSVD(components, random_state=self.random_state)
        return normalize(self.svd.fit_transform(matrix)).astype(np.float32)

    def transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        if self.vectorizer is None or self.svd is None:
            raise RuntimeError("TfidfSvdEmbedder.transform before fit_transform")
        return normalize(self.svd.transform(self.vectorizer.transform(tokens))).astype(np.float32)


class TransformerEmbedder:
    """Mean-pooled hidden states of a transformer encoder (hub name or local directory).

    Pretrained: nothing is learned, so ``fit_transform`` is ``transform``. Runs batched on the GPU when
    one is available (or the device given), else on the CPU.
    """

    def __init__(self, name_or_path: str, batch_size: int = 32, max_length: int = 256,
                 device: str | None = None) -> None:
        self.name_or_path = name_or_path
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self._model: Any = None
        self._tokenizer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # The weights live at name_or_path; pickling the model with the topic model would copy them.
        return {**self.__dict__, "_model": None, "_tokenizer": None}

    def _load(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._tokenizer = AutoTokenizer.from_pretrained(self.name_or_path)
        self._model = AutoModel.from_pretrained(self.name_or_path).to(self.device).eval()

    def fit_transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        return self.transform(tokens, texts)

    def transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        import torch

        if self._model is None:
            self._load()
        rows: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self._tokenizer(list(texts[start:start + self.batch_size]), padding=True, truncation=True,
                                        max_length=self.max_length, return_tensors="pt").to(self.device)
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                rows.append(pooled.float().cpu().numpy())
        matrix = np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
        return normalize(matrix).astype(np.float32)


def make_embedder(name: str, *, device: str | None = None) -> Embedder:
    """``tfidf-svd`` (the offline default) or a transformer encoder's hub name or local path."""
    if name in ("tfidf-svd", "tfidf", "default"):
        return TfidfSvdEmbedder()
    return TransformerEmbedder(name, device=device)
