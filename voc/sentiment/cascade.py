"""The default sentiment backend: the linear model answers where it is sure, the encoder the rest.

The linear char-n-gram model reads tens of thousands of short texts per second but does not hold on
text unlike its training domains; the fine-tuned encoder holds better and is ~50× slower. The
cascade keeps the linear answer only when it is a confident polar one (its top polar probability at
least ``confidence`` and its neutral probability at most ``neutral_ceiling``); every other text —
every neutral-vs-polar decision included — goes to the encoder. Both thresholds were chosen on the
leave-one-domain-out benchmark (bench/bench_sentiment_lodo.py), never on a test domain's own data.
Where the encoder decides, the answer is a weighted mean of both models' probabilities
(``encoder_weight``): the two err differently (the linear model holds on food-delivery reviews, the
encoder on Weibo, bank and e-commerce text), and the mean beat either alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Chosen on the leave-one-domain-out sweep (bench/results/sentiment_lodo.json): mixing the two models'
# probabilities half and half beat the encoder alone on every domain's mean (0.708 vs 0.701 at 0.8),
# and below 0.9 the confidence threshold hardly moved accuracy but halved the encoder's share.
DEFAULT_CONFIDENCE = 0.8
DEFAULT_NEUTRAL_CEILING = 0.2
DEFAULT_ENCODER_WEIGHT = 0.5


class ProbabilityBackend(Protocol):
    has_neutral: bool

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class CascadeBackend:
    linear: ProbabilityBackend
    encoder: ProbabilityBackend
    confidence: float = DEFAULT_CONFIDENCE
    neutral_ceiling: float = DEFAULT_NEUTRAL_CEILING
    # where the encoder decides, its share of the answer (the rest: the linear model's probabilities)
    encoder_weight: float = DEFAULT_ENCODER_WEIGHT
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
            encoder = np.asarray(self.encoder.predict_proba([texts[i] for i in unsure]), dtype=np.float64)
            proba[unsure] = self.encoder_weight * encoder + (1 - self.encoder_weight) * proba[unsure]
        return proba
