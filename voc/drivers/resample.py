"""Bootstrap over distinct response patterns.

Documents that mention the same themes the same way and give the same metric value are interchangeable
in every statistic here, so the n documents collapse to U distinct patterns with counts (a few thousand
even at 100k documents). Resamples are Poisson bootstrap weights: each document is drawn Poisson(1)
times, so a pattern of c documents is drawn Poisson(c) times, ``rng.poisson(counts)``: one vectorised
draw per batch (a multinomial draw of U cells is U sequential binomials and took most of the time), and
for the ratios computed here (means, means without a theme) it matches the classic bootstrap. Every
resample is a (U,) weight vector and a batch of them is one matrix product.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse

CONFIDENCE = 0.95


@dataclass(slots=True)
class Patterns:
    x: np.ndarray  # (U, p) float 0/1 columns
    y: np.ndarray  # (U,) metric value
    counts: np.ndarray  # (U,) documents per pattern

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def compress(columns: sparse.spmatrix, y: np.ndarray) -> Patterns:
    """Distinct rows of (columns, y) with their counts."""
    dense = np.asarray(columns.todense(), dtype=bool) if sparse.issparse(columns) else np.asarray(columns, bool)
    packed = np.packbits(dense, axis=1) if dense.shape[1] else np.zeros((len(y), 0), dtype=np.uint8)
    keys = np.hstack([packed, np.ascontiguousarray(y, dtype=float).view(np.uint8).reshape(len(y), 8)])
    keys = np.ascontiguousarray(keys)
    void = keys.view(np.dtype((np.void, keys.shape[1]))).ravel()
    _, first, counts = np.unique(void, return_index=True, return_counts=True)
    return Patterns(x=dense[first].astype(float), y=np.asarray(y, dtype=float)[first], counts=counts.astype(float))


def resample_weights(patterns: Patterns, resamples: int, seed: int, chunk: int = 100) -> Iterator[np.ndarray]:
    """Batches of bootstrap weights, (b, U) each; fixed seed, same draws every run."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        yield rng.poisson(patterns.counts, size=(size, len(patterns.counts))).astype(float)
        done += size


def interval(draws: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0, ignoring resamples where the statistic is undefined."""
    tail = (1 - confidence) / 2 * 100
    if draws.ndim == 2 and draws.shape[1] == 0:  # no theme at all
        return np.zeros(0), np.zeros(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column: a statistic no resample defines
        low, high = np.nanpercentile(draws, [tail, 100 - tail], axis=0)
    return low, high
