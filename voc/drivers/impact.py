"""Impact by removal (the definition Thematic documents): the overall metric minus the metric computed
without the documents that mention the theme. A theme customers raise when unhappy has a negative
impact: removing it would lift the score. Intervals: a bootstrap of the documents (percentile, 95%).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from voc.drivers.resample import compress, interval, resample_weights


@dataclass(slots=True)
class Impacts:
    n: int
    overall: float
    overall_low: float
    overall_high: float
    volume: np.ndarray  # (T,) documents mentioning each theme
    mean_with: np.ndarray  # (T,) the metric among them
    impact: np.ndarray  # (T,) overall minus the metric without them; NaN if nothing is left without them
    low: np.ndarray
    high: np.ndarray


def _without(total: np.ndarray, sums: np.ndarray, n: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """The mean without the theme's documents; ``total`` and ``n`` per resample (or scalars)."""
    left = n[..., None] - volume
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = (total[..., None] - sums) / left
    return np.where(left > 0, rest, np.nan)


def impacts(present: sparse.spmatrix, y: np.ndarray, *, resamples: int = 1000, seed: int = 0) -> Impacts:
    """Impact of every theme (columns of ``present``, documents × themes) on the mean of ``y``."""
    patterns = compress(present, y)
    x, yu, counts = patterns.x, patterns.y, patterns.counts
    n = float(counts.sum())
    xy = x * yu[:, None]
    total = np.asarray(counts @ yu)
    volume = counts @ x
    sums = counts @ xy
    without = _without(total, sums, np.asarray(n), volume)
    impact = total / n - without
    overall_draws, impact_draws = [], []
    for weights in resample_weights(patterns, resamples, seed):
        draw_total, draw_n = weights @ yu, weights.sum(axis=1)
        draw_overall = draw_total / draw_n
        overall_draws.append(draw_overall)
        impact_draws.append(draw_overall[:, None] - _without(draw_total, weights @ xy, draw_n, weights @ x))
    low, high = interval(np.vstack(impact_draws)) if impact_draws else (impact, impact)
    overall_low, overall_high = interval(np.concatenate(overall_draws)) if overall_draws else (total / n,) * 2
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_with = np.where(volume > 0, sums / volume, np.nan)
    return Impacts(n=int(n), overall=float(total / n), overall_low=float(overall_low),
                   overall_high=float(overall_high), volume=volume.astype(int), mean_with=mean_with,
                   impact=impact, low=np.asarray(low), high=np.asarray(high))
