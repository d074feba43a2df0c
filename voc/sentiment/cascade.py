"""The default sentiment backend: the linear model answers where it is sure, the encoder the rest.

The linear char-n-gram model reads tens of thousands of short texts per second but does not hold on
text unlike its training domains; the fine-tuned encoder holds better and is ~50× slower. The
cascade keeps the linear answer only when it is a confident polar one (its top polar probability at
least ``confidence`` and its neutral probability at most ``neutral_ceiling``); every other text —
every neutral-vs-polar decision included — goes to the encoder. Both thresholds were chosen on the
leave-one-domain-out benchmark (bench/bench_sentiment_lodo.py), never on a test domain's own data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

DEFAULT_CONFIDENCE = 0.97
DEFAULT_NEUTRAL_CEILING = 0.05


class ProbabilityBackend(Protocol):
    has_neutral: bool

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class CascadeBackend:
    linear: ProbabilityBackend
    encoder: ProbabilityBackend
    confidence: float = DEFAULT_CONFIDENCE
    neutral_ceiling: float = DEFAULT_NEUTRAL_CEILING
    has_neutral: bool = True

    def linear_is_sure(self, proba: np.ndarray) -> np.ndarray:
        """Rows of (n, 3) linear probabilities the linear model may answer alone."""
        polar = np.maximum(proba[:, 0], proba[:, 2])
        return (polar >= self.confidence) & (proba[:, 1] <= self.neutral_ceiling)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        proba = np.asarray(self.linear.predict_proba(texts), dtype=np.float64)
        if not len(texts):
            return proba
        unsure = np.flatnonzero(~self.linear_is_sure(proba))
        if len(unsure):
            proba[unsure] = self.encoder.predict_proba([texts[i] for i in unsure])
        return proba
