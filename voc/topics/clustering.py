"""Clustering step: HDBSCAN over the reduced coordinates."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np


class Clusterer(Protocol):
    def fit_predict(self, coords: np.ndarray) -> np.ndarray:
        """One label per row; -1 marks an outlier."""
        ...


class HdbscanClusterer:
    """``hdbscan.HDBSCAN`` with the minimum cluster size given as a share of the corpus.

    A share rather than a count keeps one default meaningful from 500 to 100,000 documents.
    """

    def __init__(self, min_cluster_share: float = 0.005, min_cluster_size: int = 10, min_samples: int = 10,
                 selection: str = "eom", n_jobs: int = 2) -> None:
        self.min_cluster_share = min_cluster_share
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.selection = selection
        self.n_jobs = n_jobs

    def resolved_min_cluster_size(self, n_docs: int) -> int:
        return max(self.min_cluster_size, math.ceil(n_docs * self.min_cluster_share))

    def fit_predict(self, coords: np.ndarray) -> np.ndarray:
        import hdbscan

        n_docs = coords.shape[0]
        if n_docs < 2 * self.min_cluster_size:
            return np.full(n_docs, -1, dtype=np.int64)
        model = hdbscan.HDBSCAN(min_cluster_size=self.resolved_min_cluster_size(n_docs),
                                min_samples=min(self.min_samples, n_docs - 1),
                                cluster_selection_method=self.selection, core_dist_n_jobs=self.n_jobs)
        return model.fit_predict(coords.astype(np.float64)).astype(np.int64)
