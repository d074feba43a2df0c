"""Sentiment analysis: document label, score and probabilities, clauses and CX aspects.

``load_analyzer(settings)`` returns the analyzer voc uses: by default the cascade of the shipped
linear model (``models/sentiment/default``) and the shipped fine-tuned encoder
(``models/sentiment/encoder``; without the ``encoder`` extra, the linear model alone, said in the log).
``settings.sentiment_model`` (``VOC_SENTIMENT_MODEL``) picks ``cascade``, ``linear``, ``encoder`` or a
model directory (see ``voc.sentiment.backends``).

The analyzer is picklable: it pickles as model paths and re-opens them (cached per process).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from voc.sentiment.backends import default_encoder_path, default_model_path
from voc.sentiment.types import AspectSentiment, ClauseSentiment, SentimentAnalyzer, SentimentResult
from voc.settings import VocSettings

__all__ = [
    "AspectSentiment",
    "ClauseSentiment",
    "SentimentAnalyzer",
    "SentimentResult",
    "default_aspect_model_path",
    "default_encoder_path",
    "default_model_path",
    "load_analyzer",
]


def default_aspect_model_path() -> Path:
    return default_model_path() / "aspect"


def load_analyzer(settings: VocSettings | None = None) -> SentimentAnalyzer:
    from voc.sentiment.analyzer import Analyzer
    from voc.sentiment.linear import is_linear_model_dir

    settings = settings or VocSettings()
    aspect = default_aspect_model_path()
    return Analyzer(
        settings.sentiment_model or "cascade",
        aspect if is_linear_model_dir(aspect) else None,
        strict=settings.sentiment_model is not None,
        cascade=(
            settings.sentiment_cascade_confidence,
            settings.sentiment_cascade_neutral_ceiling,
            settings.sentiment_cascade_encoder_weight,
        ),
        tagger_path=tagger_path(settings.aspect_tagger),
    )


def tagger_path(name: str) -> Path | None:
    """The span tagger directory a ``VOC_ASPECT_TAGGER`` value names; None for the lexicon."""
    if name == "lexicon":
        return None
    if name in ("crf", "encoder"):
        return Path(str(resources.files("models.aspects") / name))
    path = Path(name)
    if not path.is_dir():
        raise ValueError(f"VOC_ASPECT_TAGGER={name!r}: expected crf, encoder, lexicon or a tagger directory")
    return path
