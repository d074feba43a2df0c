"""Document embedding steps for topic discovery.

Every embedder takes documents as ``(tokens, text)`` pairs so a lexical model can use the jieba tokens
the pipeline already stored while a transformer reads the text itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.extmath import randomized_svd


class Embedder(Protocol):
    """Turns documents into L2-normalised dense rows; ``fit_transform`` learns, ``transform`` reuses."""

    def fit_transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray: ...

    def transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray: ...


def pretokenized(tokens: list[str]) -> list[str]:
    """scikit-learn analyzer for documents that are already jieba token lists."""
    return tokens


_identity = pretokenized  # the name models pickled before this rename refer to


def frequency_cutoffs(n_docs: int, min_df: int, max_df: float) -> tuple[int, float]:
    """Document-frequency cut-offs a corpus of ``n_docs`` can support.

    Small corpora (tests, a narrow --since) cannot support the defaults; shrink instead of failing.
    """
    return (min_df if n_docs >= 50 * min_df else 1), (max_df if n_docs >= 200 else 1.0)


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
        min_df, max_df = frequency_cutoffs(n_docs, self.min_df, self.max_df)
        self.vectorizer = TfidfVectorizer(analyzer=pretokenized, min_df=min_df, max_df=max_df, sublinear_tf=True,
                                          dtype=np.float32)
        matrix = self.vectorizer.fit_transform(tokens)
        components = max(1, min(self.n_components, matrix.shape[1] - 1, n_docs - 1))
        self.svd = TruncatedSVD(components, random_state=self.random_state)
        return normalize(self.svd.fit_transform(matrix)).astype(np.float32)

    def transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        if self.vectorizer is None or self.svd is None:
            raise RuntimeError("TfidfSvdEmbedder.transform before fit_transform")
        return normalize(self.svd.transform(self.vectorizer.transform(tokens))).astype(np.float32)


class PpmiSifEmbedder:
    """Word vectors learned from the corpus itself, averaged per document, next to a BM25 LSA view.

    Bag-of-words LSA cannot tell that 房间 and 酒店 or 工资 and 社保 belong together unless they share
    documents; word vectors from windowed co-occurrence (positive PMI, factorised by truncated SVD, as
    in Levy & Goldberg 2014) can. A document is the smooth-inverse-frequency average of its words'
    vectors (Arora et al. 2017, weight a / (a + p(w))), so rare topical words count and fillers fade.
    The averaged view blurs fine distinctions on long complaints, so a BM25-weighted LSA view (term
    saturation suits long texts better than sublinear TF-IDF) is concatenated at a lower weight.
    Measured (bench_topics path): NMI 0.49 → 0.62 on online_shopping 20k, 0.48 → 0.54 on tipdm complaints.

    Offline, deterministic for a fixed ``random_state``; needs nothing beyond scikit-learn and scipy.
    """

    def __init__(self, n_components: int = 200, window: int = 5, min_count: int = 3, max_vocab: int = 15_000,
                 context_alpha: float = 0.75, sif_a: float = 1e-3, lsa_weight: float = 0.5,
                 lsa_components: int = 50, lsa_max_df: float = 0.5, bm25_k1: float = 1.2, bm25_b: float = 0.75,
                 random_state: int = 0) -> None:
        self.n_components = n_components
        self.window = window
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.context_alpha = context_alpha
        self.sif_a = sif_a
        self.lsa_weight = lsa_weight
        self.lsa_components = lsa_components
        self.lsa_max_df = lsa_max_df
        self.bm25_k1 = bm25_k1
        self.bm25_b = bm25_b
        self.random_state = random_state
        self.vocabulary: dict[str, int] | None = None
        self.word_vectors: np.ndarray | None = None   # vocabulary × n_components
        self.sif_weights: np.ndarray | None = None    # per vocabulary word
        self.lsa_vectorizer: CountVectorizer | None = None
        self.idf: np.ndarray | None = None            # BM25 idf per LSA vocabulary word
        self.mean_length = 1.0                         # BM25 average document length (LSA vocabulary tokens)
        self.svd: TruncatedSVD | None = None

    # -- shared steps -----------------------------------------------------------------------------

    def _ids(self, tokens: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """In-vocabulary token ids of all documents end to end, and each document's length."""
        assert self.vocabulary is not None
        vocabulary = self.vocabulary
        ids = [[vocabulary[word] for word in doc if word in vocabulary] for doc in tokens]
        lengths = np.fromiter((len(doc) for doc in ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((i for doc in ids for i in doc), dtype=np.int32, count=int(lengths.sum()))
        return flat, lengths

    def _counts(self, flat: np.ndarray, lengths: np.ndarray) -> sp.csr_matrix:
        rows = np.repeat(np.arange(lengths.size, dtype=np.int32), lengths)
        counts = sp.csr_matrix((np.ones(flat.size, dtype=np.float32), (rows, flat)),
                               shape=(lengths.size, len(self.vocabulary or ())))
        counts.sum_duplicates()
        return counts

    def _learn_word_vectors(self, flat: np.ndarray, lengths: np.ndarray, size: int) -> np.ndarray:
        doc_of = np.repeat(np.arange(lengths.size, dtype=np.int32), lengths)
        cooc = sp.csr_matrix((size, size), dtype=np.float32)
        for offset in range(1, self.window + 1):
            # One offset at a time keeps peak memory to one offset's pairs (matters at 100k documents).
            same = doc_of[:-offset] == doc_of[offset:]
            pairs = sp.csr_matrix((np.full(int(same.sum()), 1.0 / offset, dtype=np.float32),
                                   (flat[:-offset][same], flat[offset:][same])), shape=(size, size))
            cooc = cooc + pairs
        cooc = (cooc + cooc.T).tocsr()
        cooc.sum_duplicates()
        word_mass = np.asarray(cooc.sum(axis=1), dtype=np.float64).ravel()
        # Context-distribution smoothing (counts ** 0.75) stops rare contexts from inflating PMI.
        context = word_mass ** self.context_alpha
        context /= context.sum()
        rows = np.repeat(np.arange(size), np.diff(cooc.indptr))
        # PMI = log p(w, c) / (p(w) p_smoothed(c)) = log count(w, c) / (count(w) p_smoothed(c)).
        pmi = np.log(cooc.data.astype(np.float64) / (word_mass[rows] * context[cooc.indices]))
        cooc.data = np.maximum(pmi, 0.0).astype(np.float32)
        cooc.eliminate_zeros()
        components = max(1, min(self.n_components, size - 1))
        # Two power iterations: the leading directions are what matter and each iteration is a full
        # sparse pass over the PPMI matrix; this is most of the embedder's time.
        left, singular, _ = randomized_svd(cooc, components, n_iter=2, random_state=self.random_state)
        # Symmetric weighting (U·√S) works better for similarity than U·S (Levy et al. 2015).
        return (left * np.sqrt(singular)).astype(np.float32)

    def _bm25(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        assert self.idf is not None
        counts = counts.tocsr(copy=True)
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        norm = self.bm25_k1 * (1 - self.bm25_b + self.bm25_b * lengths / self.mean_length)
        tf = counts.data
        counts.data = (tf * (self.bm25_k1 + 1) / (tf + np.repeat(norm, np.diff(counts.indptr)))
                       * self.idf[counts.indices]).astype(np.float32)
        return normalize(counts)

    def _embed(self, counts: sp.csr_matrix, weighted: sp.csr_matrix) -> np.ndarray:
        """``counts`` over the word-vector vocabulary, ``weighted`` the BM25 rows over the LSA one."""
        assert self.sif_weights is not None and self.word_vectors is not None and self.svd is not None
        averaged = normalize(counts.multiply(self.sif_weights[None, :]).tocsr(), norm="l1") @ self.word_vectors
        lsa = normalize(self.svd.transform(weighted))
        # Each view is unit length before weighting, so lsa_weight sets the LSA view's share.
        return normalize(np.hstack([normalize(np.asarray(averaged)), self.lsa_weight * lsa])).astype(np.float32)

    # -- Embedder protocol ------------------------------------------------------------------------

    def fit_transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        n_docs = len(tokens)
        frequency = Counter(word for doc in tokens for word in doc)
        min_count, max_df = frequency_cutoffs(n_docs, self.min_count, self.lsa_max_df)
        words = [word for word, count in frequency.most_common(self.max_vocab) if count >= min_count]
        if not words:
            raise ValueError("PpmiSifEmbedder: no words to learn from")
        self.vocabulary = {word: index for index, word in enumerate(words)}
        flat, lengths = self._ids(tokens)
        counts = self._counts(flat, lengths)
        probability = np.array([frequency[word] for word in words], dtype=np.float64)
        probability /= probability.sum()
        self.sif_weights = (self.sif_a / (self.sif_a + probability)).astype(np.float32)
        self.word_vectors = self._learn_word_vectors(flat, lengths, len(words))

        # The LSA view keeps its own, uncapped vocabulary (document frequency, like TfidfSvdEmbedder):
        # capping it to the word-vector vocabulary cost 0.04 NMI on the complaints set.
        self.lsa_vectorizer = CountVectorizer(analyzer=pretokenized, min_df=min_count, max_df=max_df,
                                              dtype=np.float32)
        lsa_counts = self.lsa_vectorizer.fit_transform(tokens)
        document_frequency = np.bincount(lsa_counts.indices, minlength=lsa_counts.shape[1]).astype(np.float64)
        self.idf = np.log((n_docs - document_frequency + 0.5) / (document_frequency + 0.5) + 1.0).astype(np.float32)
        self.mean_length = float(max(lsa_counts.sum(axis=1).mean(), 1.0))
        weighted = self._bm25(lsa_counts)
        components = max(1, min(self.lsa_components, weighted.shape[1] - 1, n_docs - 1))
        self.svd = TruncatedSVD(components, random_state=self.random_state).fit(weighted)
        return self._embed(counts, weighted)

    def transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        if self.vocabulary is None or self.word_vectors is None:
            raise RuntimeError("PpmiSifEmbedder.transform before fit_transform")
        assert self.lsa_vectorizer is not None
        return self._embed(self._counts(*self._ids(tokens)), self._bm25(self.lsa_vectorizer.transform(tokens)))


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
    """An embedder by name (``VOC_TOPIC_EMBEDDING``).

    ``ppmi-sif`` (the offline default), ``tfidf-svd`` (plain LSA, the first default), ``bge-small-zh``
    (alias ``encoder``: the fetched pretrained encoder, CLS vectors, onnxruntime; needs the ``encoder``
    extra), ``ppmi-sif+bge`` (both views side by side, equal weight) or, for anything else, a transformer
    encoder's hub name or local path (mean pooling, torch).
    """
    from voc.topics.encoder_embedding import ENCODER_NAMES, CombinedEmbedder, EncoderEmbedder

    key = name.strip().lower()
    if key in ("ppmi-sif", "ppmi", "default"):
        return PpmiSifEmbedder()
    if key in ("tfidf-svd", "tfidf"):
        return TfidfSvdEmbedder()
    if key in ENCODER_NAMES:
        return EncoderEmbedder()
    parts = [part.strip() for part in key.split("+")]
    if len(parts) > 1 and all(part in (*ENCODER_NAMES, "ppmi-sif", "ppmi", "tfidf-svd", "tfidf") for part in parts):
        return CombinedEmbedder([make_embedder(part) for part in parts])
    return TransformerEmbedder(name, device=device)
