"""The topic model: swappable steps (embed → reduce → cluster → refine → label) in one small estimator.

Steps are plain objects, as in BERTopic: pass a different ``embedder``, ``reducer``, ``clusterer``,
``refiner`` or ``labeler`` to change one without touching the rest. After ``fit`` the model keeps only
what new documents need — the fitted embedder, the refiner's classifier and one centroid per topic — so
``assign`` gives an ingested document its topic without re-clustering.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import linkage
from sklearn.preprocessing import normalize

from voc.topics.clustering import Clusterer, HdbscanClusterer
from voc.topics.embedding import Embedder, PpmiSifEmbedder
from voc.topics.labels import ClassTfidfLabeler, representative_quotes
from voc.topics.reduction import Reducer, SpectralReducer
from voc.topics.refinement import CrossFitRefiner, NoRefinement, Refiner

Progress = Callable[[str], None]
FIT_STEPS = ("embed", "reduce", "cluster", "split", "reassign", "refine", "label")  # what ``fit`` reports, in order


@dataclass(slots=True)
class FittedTopic:
    index: int
    keywords: list[str]
    weights: list[float]
    label: str
    members: np.ndarray
    quotes: list[str]

    @property
    def size(self) -> int:
        return int(self.members.size)


@dataclass(slots=True)
class TopicFit:
    labels: np.ndarray            # topic index per document, -1 for an outlier
    similarity: np.ndarray        # cosine to the assigned topic's centroid (0 for outliers)
    topics: list[FittedTopic]
    hierarchy: list[dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def outlier_share(self) -> float:
        return float((self.labels < 0).mean()) if self.labels.size else 0.0


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


class TopicModel:
    """Fit topics on a corpus of ``(tokens, text)`` documents, then assign new documents to them.

    ``reassign_threshold``: an HDBSCAN outlier joins its nearest topic when its cosine similarity to
    that topic's centroid (in embedding space) reaches this; the rest stay outliers.
    ``merge_threshold``: topics whose centroids are at least this similar are one topic said twice.
    ``split_share``: a topic holding more than this share of the documents is clustered again on its own
    members (``None`` or 1 turns this off); ``split_word_similarity``: pieces with alike words join again.
    ``refiner``: after outliers are reassigned, lets each document's words re-decide its topic
    (``NoRefinement()`` keeps the clustering as it is).
    """

    def __init__(self, embedder: Embedder | None = None, reducer: Reducer | None = None,
                 clusterer: Clusterer | None = None, labeler: ClassTfidfLabeler | None = None,
                 refiner: Refiner | None = None, *,
                 tag_of: Callable[[str], str | None] = lambda word: None, reassign_threshold: float = 0.15,
                 merge_threshold: float = 0.7, split_share: float | None = 0.2, split_word_similarity: float = 0.5,
                 quotes: int = 5) -> None:
        self.embedder = embedder or PpmiSifEmbedder()
        self.reducer = reducer or SpectralReducer()
        self.clusterer = clusterer or HdbscanClusterer()
        self.labeler = labeler or ClassTfidfLabeler(tag_of)
        self.refiner = refiner or CrossFitRefiner()
        self.reassign_threshold = reassign_threshold
        self.merge_threshold = merge_threshold
        self.split_share = split_share
        self.split_word_similarity = split_word_similarity
        self.quotes = quotes
        self.centroids: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        # The labeler holds a part-of-speech lookup bound to a live tokenizer; assignment never needs it.
        return {**self.__dict__, "labeler": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Models saved before the refinement step existed assign by nearest centroid, as they did then.
        self.__dict__.update({"refiner": NoRefinement(), **state})

    def fit(self, tokens: Sequence[list[str]], texts: Sequence[str], progress: Progress | None = None) -> TopicFit:
        report = progress or (lambda step: None)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[step] = round(now - clock, 3)
            clock = now
            report(step)

        embeddings = self.embedder.fit_transform(tokens, texts)
        lap("embed")
        # Documents with no word the embedding knows ("一般", "暂无") all get the zero vector: clustered,
        # they would form one topic without keywords. They stay outliers, as they would on ingest.
        known = np.linalg.norm(embeddings, axis=1) > 1e-9
        labels = np.full(len(embeddings), -1, dtype=np.int64)
        if known.sum() > 1:
            coords = self.reducer.fit_transform(embeddings[known])
            lap("reduce")
            labels[known] = self.clusterer.fit_predict(coords)
        lap("cluster")
        labels = self._split_oversized(self._merge_duplicates(labels, embeddings), embeddings, tokens)
        lap("split")
        labels = self._reassign_outliers(embeddings, labels)
        lap("reassign")
        labels = self.refiner.fit_refine(tokens, labels)
        self.centroids = self._centroids(embeddings, labels)
        similarity = self._own_similarity(embeddings, labels)
        lap("refine")
        topic_ids = list(range(int(labels.max()) + 1)) if labels.size and labels.max() >= 0 else []
        terms, ctfidf = self.labeler.fit(tokens, labels, topic_ids)
        topics = []
        for index in topic_ids:
            members = np.flatnonzero(labels == index)
            quotes = representative_quotes(texts, members, similarity[members], count=self.quotes)
            topics.append(FittedTopic(index, terms[index].keywords, terms[index].weights, terms[index].label,
                                      members, quotes))
        hierarchy = topic_hierarchy(ctfidf.toarray()) if len(topic_ids) > 1 else []
        lap("label")
        return TopicFit(labels, similarity, topics, hierarchy, timings)

    def _centroids(self, embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
        count = int(labels.max()) + 1 if labels.size else 0
        if count <= 0:
            return np.zeros((0, embeddings.shape[1]), dtype=np.float32)
        sums = np.zeros((count, embeddings.shape[1]), dtype=np.float64)
        member = labels >= 0
        np.add.at(sums, labels[member], embeddings[member])
        return normalize(sums).astype(np.float32)

    def _merge_duplicates(self, labels: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        centroids = self._centroids(embeddings, labels)
        return join_similar(labels, centroids @ centroids.T, self.merge_threshold)

    def _split_oversized(self, labels: np.ndarray, embeddings: np.ndarray, tokens: Sequence[list[str]]
                         ) -> np.ndarray:
        """Cluster each oversized topic once more, on its own members.

        Feedback about one business is one dense region as a whole: HDBSCAN and the centroid merge
        see one topic (酒店·房间·入住, most of the hotel reviews) where a CX researcher needs the
        themes inside it (隔音, 空调, 前台, 预授权). Reducing the topic's members alone makes those
        visible. Pieces whose words are alike (c-TF-IDF cosine ≥ ``split_word_similarity``) join again:
        a theme without inner structure cut at random stays whole.
        """
        if not self.split_share or not labels.size or labels.max() < 0:
            return labels
        labels = labels.copy()
        next_index = int(labels.max()) + 1
        for index in range(next_index):
            members = np.flatnonzero(labels == index)
            if members.size <= self.split_share * labels.size:
                continue
            inner = self.clusterer.fit_predict(self.reducer.fit_transform(embeddings[members]))
            if inner.max() < 1:
                continue
            pieces = list(range(int(inner.max()) + 1))
            _, words = self.labeler.fit([tokens[i] for i in members], inner, pieces)
            inner = join_similar(inner, (words @ words.T).toarray(), self.split_word_similarity)
            if inner.max() < 1:
                continue  # no structure inside: the topic stays whole
            # piece 0 keeps the index, the others take fresh ones; outliers of the inner pass are outliers
            labels[members] = np.where(inner < 0, -1, np.where(inner == 0, index, next_index + inner - 1))
            next_index += int(inner.max())
        return labels

    def _reassign_outliers(self, embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
        self.centroids = self._centroids(embeddings, labels)
        if self.centroids.shape[0] == 0:
            return labels
        nearest, similarity = self._nearest(embeddings)
        rejoin = (labels < 0) & (similarity >= self.reassign_threshold)
        labels = labels.copy()
        labels[rejoin] = nearest[rejoin]
        return labels

    def _own_similarity(self, embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Cosine of each document to its own topic's centroid (0 for outliers)."""
        assert self.centroids is not None
        if self.centroids.shape[0] == 0:
            return np.zeros(labels.shape, dtype=np.float32)
        own = np.einsum("ij,ij->i", embeddings, self.centroids[np.maximum(labels, 0)])
        return np.where(labels >= 0, own, 0.0).astype(np.float32)

    def _nearest(self, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self.centroids is not None
        sims = embeddings @ self.centroids.T
        nearest = sims.argmax(axis=1)
        return nearest, sims[np.arange(len(nearest)), nearest]

    def assign(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Topic index (or -1) and similarity to that topic's centroid for new documents, without
        re-clustering. A document near no centroid is an outlier, as in ``fit``; the others get the topic
        the refiner's classifier picks from their words (nearest centroid where it cannot judge)."""
        if self.centroids is None or self.centroids.shape[0] == 0 or not len(texts):
            return np.full(len(texts), -1, dtype=np.int64), np.zeros(len(texts), dtype=np.float32)
        embeddings = self.embedder.transform(tokens, texts)
        nearest, best = self._nearest(embeddings)
        chosen = self.refiner.predict(tokens)
        topics = nearest if chosen is None else np.where(chosen >= 0, chosen, nearest)
        topics = np.where(best >= self.reassign_threshold, topics, -1)
        return topics, self._own_similarity(embeddings, topics)


def join_similar(labels: np.ndarray, similarity: np.ndarray, threshold: float) -> np.ndarray:
    """Relabel topics linked by ``similarity >= threshold`` (directly or through others) as one;
    outliers (-1) stay outliers and the new indices are consecutive."""
    count = similarity.shape[0]
    if count < 2:
        return labels
    groups = _UnionFind(count)
    for a, b in zip(*np.nonzero(np.triu(similarity, k=1) >= threshold), strict=True):
        groups.union(int(a), int(b))
    roots = sorted({groups.find(i) for i in range(count)})
    remap = np.array([roots.index(groups.find(i)) for i in range(count)] + [-1])
    return remap[labels]  # -1 indexes the trailing -1


def topic_hierarchy(ctfidf: np.ndarray) -> list[dict[str, Any]]:
    """Agglomerative merges of topics by c-TF-IDF cosine distance: which topics join into which.

    Each merge names its two children (``"t<i>"`` for topic index i, ``"n<j>"`` for an earlier merge),
    the distance at which they join and the topic indices beneath it.
    """
    rows = ctfidf + 1e-12  # an all-zero row (a topic with no content words) would make cosine undefined
    steps = linkage(rows, method="average", metric="cosine")
    count = rows.shape[0]
    members: list[list[int]] = [[i] for i in range(count)]
    merges = []
    for step, (left, right, distance, _) in enumerate(steps):
        left, right = int(left), int(right)
        members.append(members[left] + members[right])
        merges.append({"node": f"n{step}", "children": [_node_name(left, count), _node_name(right, count)],
                       "distance": round(float(distance), 4), "topics": sorted(members[-1])})
    return merges


def _node_name(index: int, count: int) -> str:
    return f"t{index}" if index < count else f"n{index - count}"
