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


def knn_graph(embeddings: np.ndarray, n_neighbors: int, *, approximate: bool = False, random_state: int = 0,
              threads: int | None = None) -> sp.csr_matrix:
    """Symmetric cosine k-NN graph of L2-normalised rows: exact chunked search (memory O(chunk × n), time
    O(n²)), or ``approximate`` with a faiss IVF index (time about O(n^1.5); recall in tests/bench)."""
    n_docs = embeddings.shape[0]
    k = min(n_neighbors, n_docs - 1)
    data = np.ascontiguousarray(embeddings, dtype=np.float32)
    if approximate:
        neighbours, weights = _ivf_neighbours(data, k, random_state, threads)
    else:
        neighbours, weights = _exact_neighbours(data, k)
    found = neighbours >= 0  # IVF may find fewer than k neighbours for a point in a sparse corner
    # A floor keeps unrelated-but-nearest neighbours connected so the Laplacian stays well-posed.
    values = np.clip(weights[found], 1e-3, None)
    rows = np.broadcast_to(np.arange(n_docs)[:, None], neighbours.shape)[found]
    graph = sp.csr_matrix((values, (rows, neighbours[found])), shape=(n_docs, n_docs))
    return graph.maximum(graph.T).tocsr()


def _exact_neighbours(data: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n_docs = data.shape[0]
    neighbours = np.empty((n_docs, k), dtype=np.int64)
    weights = np.empty((n_docs, k), dtype=np.float32)
    for start in range(0, n_docs, _KNN_CHUNK):
        sims = data[start:start + _KNN_CHUNK] @ data.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf
        top = np.argpartition(sims, -k, axis=1)[:, -k:]
        neighbours[start:start + len(rows)] = top
        weights[start:start + len(rows)] = np.take_along_axis(sims, top, axis=1)
    return neighbours, weights


def ivf_lists(n_docs: int) -> tuple[int, int]:
    """Inverted lists and lists probed per query: about 4·√n lists (faiss's guideline) and 1/40 of them
    probed, at least 8, which kept recall@15 ≥ 0.9 on the bench corpora (bench/bench_topics_scale.py)."""
    nlist = max(1, min(int(4 * np.sqrt(n_docs)), n_docs // 39))
    return nlist, min(nlist, max(8, nlist // 40))


def _ivf_neighbours(data: np.ndarray, k: int, random_state: int, threads: int | None
                    ) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    if threads:
        faiss.omp_set_num_threads(threads)
    n_docs, dim = data.shape
    nlist, nprobe = ivf_lists(n_docs)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = random_state  # k-means initialisation: the same seed gives the same lists
    index.train(data)
    index.add(data)
    index.nprobe = nprobe
    sims, found = index.search(data, k + 1)
    # Each point is in its own (probed first) list, so it is its own nearest; drop it, else the last.
    is_self = found == np.arange(n_docs)[:, None]
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(found, dtype=bool)
    keep[np.arange(n_docs), drop] = False
    return found[keep].reshape(n_docs, k), sims[keep].reshape(n_docs, k).astype(np.float32)


class SpectralReducer:
    """k-NN graph → spectral embedding → row-normalised coordinates."""

    def __init__(self, n_components: int = 10, n_neighbors: int = 15, random_state: int = 0,
                 ann_min_docs: int | None = None, threads: int | None = None) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.ann_min_docs = ann_min_docs  # None: always exact
        self.threads = threads

    def __setstate__(self, state: dict[str, object]) -> None:
        # Models saved before the approximate graph existed build exact graphs, as they did then.
        self.__dict__.update({"ann_min_docs": None, "threads": None, **state})

    def fit_transform(self, embeddings: np.ndarray) -> np.ndarray:
        n_docs = embeddings.shape[0]
        if n_docs <= max(self.n_components + 2, 2 * self.n_neighbors):
            return embeddings  # too few documents for a meaningful graph; cluster the embeddings directly
        approximate = self.ann_min_docs is not None and n_docs >= self.ann_min_docs
        graph = knn_graph(embeddings, self.n_neighbors, approximate=approximate, random_state=self.random_state,
                          threads=self.threads)
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
