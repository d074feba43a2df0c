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
    """``hdbscan.HDBSCAN`` with the minimum and maximum cluster sizes given as shares of the corpus.

    A share rather than a count keeps one default meaningful from 500 to 100,000 documents. The maximum
    matters on single-domain feedback (all hotel reviews): excess-of-mass selection otherwise keeps a
    cluster near the root (ChnSentiCorp's hotel reviews: two clusters, the larger ending at 99% of the
    reviews once outliers joined it).
    """

    def __init__(self, min_cluster_share: float = 0.005, min_cluster_size: int = 10, min_samples: int = 10,
                 selection: str = "eom", n_jobs: int = 2, max_cluster_share: float | None = 0.2) -> None:
        self.min_cluster_share = min_cluster_share
        self.max_cluster_share = max_cluster_share
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
        min_size = self.resolved_min_cluster_size(n_docs)
        # 0 is hdbscan's "no limit"; a limit below the minimum would forbid every cluster
        limited = self.max_cluster_share is not None and self.max_cluster_share < 1
        max_size = max(2 * min_size, math.ceil(n_docs * self.max_cluster_share)) if limited else 0
        model = hdbscan.HDBSCAN(min_cluster_size=min_size, max_cluster_size=max_size,
                                min_samples=min(self.min_samples, n_docs - 1),
                                cluster_selection_method=self.selection, core_dist_n_jobs=self.n_jobs)
        return model.fit_predict(coords.astype(np.float64)).astype(np.int64)
