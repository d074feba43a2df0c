"""The metrics a driver analysis explains, each as a per-document value whose mean is the metric.

NPS is the mean of +100 (promoter, 9-10), 0 (passive, 7-8) and -100 (detractor, 0-6): % promoters minus
% detractors, the standard way. Written as a mean, every metric is removed, resampled and regressed alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from voc.drivers.frame import ThemeFrame

MetricName = Literal["nps", "score", "rating", "sentiment"]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    title: str
    unit: str  # what one unit of impact is
    carrier: str  # what a document needs to count, in words, without an article
    scored: bool  # a customer's own number (regression on the text's themes is meaningful)
    values: Callable[[ThemeFrame], np.ndarray]  # per document, NaN where the document has none


def nps_values(score: np.ndarray) -> np.ndarray:
    """+100 promoter (9-10), 0 passive (7-8), -100 detractor (0-6); NaN without a score.

    Fractional scores split as the search's NPS groups do: below 7 detractor, below 9 passive."""
    score = np.asarray(score, dtype=float)
    out = np.where(score >= 9, 100.0, np.where(score >= 7, 0.0, -100.0))
    out[np.isnan(score)] = np.nan
    return out


def nps(score: np.ndarray) -> float:
    """NPS of the given survey scores (NaNs ignored); NaN when there are none."""
    values = nps_values(score)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


METRICS: dict[str, Metric] = {
    "nps": Metric("nps", "NPS", "NPS points", "survey score (0-10)", True, lambda f: nps_values(f.score)),
    "score": Metric("score", "mean survey score", "score points (0-10)", "survey score (0-10)", True,
                    lambda f: f.score),
    "rating": Metric("rating", "mean star rating", "stars (1-5)", "star rating (1-5)", True,
                     lambda f: f.rating),
    # Net sentiment (% positive - % negative) rather than the mean model score: it reads like NPS, and the
    # label is what every other view of voc counts.
    "sentiment": Metric("sentiment", "net sentiment (% positive - % negative)", "net sentiment points",
                        "sentiment label", False, lambda f: f.sentiment * 100.0),
}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
