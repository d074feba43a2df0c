"""Sentiment analysis: document label, score and probabilities, clauses and CX aspects.

``load_analyzer(settings)`` returns the analyzer voc uses: the shipped default model
(``models/sentiment/default``) unless ``settings.sentiment_model`` (``VOC_SENTIMENT_MODEL``) names
another model directory — a linear model trained by ``voc models train sentiment`` or a
transformer saved by ``--base`` training (or a hub name, loaded through transformers).

The analyzer is picklable: it pickles as model paths and re-opens them (cached per process).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from voc.sentiment.types import AspectSentiment, ClauseSentiment, SentimentAnalyzer, SentimentResult
from voc.settings import VocSettings

__all__ = [
    "AspectSentiment",
    "ClauseSentiment",
    "SentimentAnalyzer",
    "SentimentResult",
    "default_aspect_model_path",
    "default_model_path",
    "load_analyzer",
]


def default_model_path() -> Path:
    return Path(str(resources.files("models.sentiment") / "default"))


def default_aspect_model_path() -> Path:
    return default_model_path() / "aspect"


def load_analyzer(settings: VocSettings | None = None) -> SentimentAnalyzer:
    from voc.sentiment.analyzer import Analyzer
    from voc.sentiment.linear import is_linear_model_dir

    settings = settings or VocSettings()
    model = settings.sentiment_model or default_model_path()
    aspect = default_aspect_model_path()
    return Analyzer(model, aspect if is_linear_model_dir(aspect) else None)
