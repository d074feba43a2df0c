"""Which probability backend a sentiment model name or directory means.

``VOC_SENTIMENT_MODEL`` is ``cascade`` (the default: shipped linear model + shipped encoder),
``linear``, ``encoder``, or a model directory: a linear model (``linear.json``), an exported encoder
(``voc_encoder.json``) or a Hugging Face sequence-classification model (loaded through transformers).
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from voc.sentiment.cascade import (
    DEFAULT_CONFIDENCE,
    DEFAULT_ENCODER_WEIGHT,
    DEFAULT_NEUTRAL_CEILING,
    CascadeBackend,
    ProbabilityBackend,
)
from voc.sentiment.linear import LinearSentimentModel, is_linear_model_dir

NAMED = ("cascade", "linear", "encoder")
log = logging.getLogger(__name__)


def default_model_path() -> Path:
    return Path(str(resources.files("models.sentiment") / "default"))


def default_encoder_path() -> Path:
    return Path(str(resources.files("models.sentiment") / "encoder"))


def _encoder(path: str | Path) -> ProbabilityBackend:
    from voc.encoder.fetch import EncoderUnavailable
    from voc.encoder.runtime import EncoderSentimentModel, is_encoder_model_dir

    if not is_encoder_model_dir(path):
        raise EncoderUnavailable(f"{path} holds no exported sentiment encoder (voc_encoder.json)")
    return EncoderSentimentModel.load(path)


def load_backend(
    spec: str | Path,
    strict: bool = True,
    confidence: float = DEFAULT_CONFIDENCE,
    neutral_ceiling: float = DEFAULT_NEUTRAL_CEILING,
    encoder_weight: float = DEFAULT_ENCODER_WEIGHT,
) -> ProbabilityBackend:
    """The backend ``spec`` names. With ``strict`` off, a cascade whose encoder cannot run (the
    ``encoder`` extra not installed) falls back to the linear model and says so in the log."""
    from voc.encoder.fetch import EncoderUnavailable

    name = str(spec)
    if name == "linear":
        return LinearSentimentModel.load(default_model_path())
    if name == "encoder":
        return _encoder(default_encoder_path())
    if name == "cascade":
        linear = LinearSentimentModel.load(default_model_path())
        try:
            encoder = _encoder(default_encoder_path())
        except EncoderUnavailable as exc:
            if strict:
                raise
            log.warning("sentiment: the encoder cannot run (%s); using the linear model alone", exc)
            return linear
        return CascadeBackend(linear, encoder, confidence, neutral_ceiling, encoder_weight)
    if is_linear_model_dir(name):
        return LinearSentimentModel.load(name)
    from voc.encoder.runtime import is_encoder_model_dir

    if is_encoder_model_dir(name):
        return _encoder(name)
    from voc.sentiment.transformer import TransformerSentimentModel

    return TransformerSentimentModel.load(name)
