"""Dimensionality reduction steps: make density visible to HDBSCAN.

HDBSCAN cannot find density in 100 LSA dimensions (everything is about equally far apart). The
default maps documents through their k-nearest-neighbour graph onto a few spectral coordinates
(Laplacian eigenmaps, the same idea UMAP starts from) — seconds on 20,000 documents and no JIT warm-up.
"""

from __future__ import annotations

import warnings
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.manifold import spectral_embedding
from sklearn.preprocessing import normalize

_KNN_CHUNK = 1024


class Reducer(Protocol):
    def fit_transform(self, embeddings: np.ndarray) -> np.ndarray: ...


class NoReduction:
    def fit_transform(self, embeddings: np.ndarray) -> np.ndarray:
        return embeddings


def knn_graph(embeddings: np.ndarray, n_neighbors: int) -> sp.csr_matrix:
    """Symmetric cosine k-NN graph of L2-normalised rows, by exact chunked search (memory O(chunk × n))."""
    n_docs = embeddings.shape[0]
    k = min(n_neighbors, n_docs - 1)
    data = embeddings.astype(np.float32, copy=False)
    neighbours = np.empty((n_docs, k), dtype=np.int64)
    weights = np.empty((n_docs, k), dtype=np.float32)
    for start in range(0, n_docs, _KNN_CHUNK):
        sims = data[start:start + _KNN_CHUNK] @ data.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf
        top = np.argpartition(sims, -k, axis=1)[:, -k:]
        neighbours[start:start + len(rows)] = top
        weights[start:start + len(rows)] = np.take_along_axis(sims, top, axis=1)
    # A floor keeps unrelated-but-nearest neighbours connected so the Laplacian stays well-posed.
    values = np.clip(weights.ravel(), 1e-3, None)
    graph = sp.csr_matrix((values, (np.repeat(np.arange(n_docs), k), neighbours.ravel())), shape=(n_docs, n_docs))
    return graph.maximum(graph.T).tocsr()


class SpectralReducer:
    """k-NN graph → spectral embedding → row-normalised coordinates."""

    def __init__(self, n_components: int = 10, n_neighbors: int = 15, random_state: int = 0) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def fit_transform(self, embeddings: np.ndarray) -> np.ndarray:
        n_docs = embeddings.shape[0]
        if n_docs <= max(self.n_components + 2, 2 * self.n_neighbors):
            return embeddings  # too few documents for a meaningful graph; cluster the embeddings directly
        graph = knn_graph(embeddings, self.n_neighbors)
        try:
            import pyamg  # noqa: F401  (amg is the fast solver; lobpcg is the fallback)

            solver = "amg"
        except ImportError:
            solver = "lobpcg"
        with warnings.catch_warnings():
            # lobpcg's "not reaching the requested tolerance" and "graph is not fully connected" are
            # expected on real feedback (isolated one-word answers); they do not change the clustering.
            warnings.simplefilter("ignore", UserWarning)
            coords = spectral_embedding(graph, n_components=self.n_components, eigen_solver=solver,
                                        random_state=self.random_state, drop_first=True)
        return normalize(coords).astype(np.float32)


class UmapReducer:
    """UMAP, for those who have ``umap-learn`` installed (slower here: numba compiles on first use)."""

    def __init__(self, n_components: int = 5, n_neighbors: int = 15, random_state: int = 0) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def fit_transform(self, embeddings: np.ndarray) -> np.ndarray:
        import umap

        return umap.UMAP(n_neighbors=self.n_neighbors, n_components=self.n_components, min_dist=0.0,
                         metric="cosine", random_state=self.random_state).fit_transform(embeddings)
