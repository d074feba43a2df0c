"""Sentiment and emotion from an exported encoder: onnxruntime + tokenizers, no torch.

Texts are sorted by length and batched so each batch pads little; the order is restored at the end.
The int8 model runs on CPU, one text per call: dynamic quantisation scales activations per call, so
in a batch a text's probabilities would depend on its neighbours (by up to 0.007 here) and the same
text could be labelled differently in an upload and in a single ``/v1/analyze`` call. One text per
call costs about a third of the batched throughput. Where onnxruntime sees a GPU (CUDA) and an fp32
export sits beside the int8 one, that one runs on the GPU, batched (fp32 has no such dependence).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from voc.encoder.export import META_FILE
from voc.encoder.session import FP32_FILE, open_encoder, padded_feeds

__all__ = ["FP32_FILE", "EncoderPrediction", "EncoderSentimentModel", "is_encoder_model_dir"]


def is_encoder_model_dir(path: str | Path) -> bool:
    return (Path(path) / META_FILE).is_file()


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass
class EncoderPrediction:
    polarity: np.ndarray  # (n, 3): negative, neutral, positive
    emotion: np.ndarray  # (n, len(emotions))
    emotions: tuple[str, ...]


class EncoderSentimentModel:
    """The ``ProbabilityBackend`` of a fine-tuned encoder directory (``voc_encoder.json`` + ONNX)."""

    has_neutral = True

    def __init__(self, model_dir: str | Path, threads: int = 1, gpu_batch_size: int = 64) -> None:
        """``threads``: onnxruntime intra-op threads. One by default: ingest already runs one worker
        process per core and the API one per worker, so more threads would only contend (0: ORT's
        default, all cores)."""
        self.model_dir = Path(model_dir)
        meta = json.loads((self.model_dir / META_FILE).read_text(encoding="utf-8"))
        self.emotions = tuple(meta["emotions"])
        self.max_length = int(meta["max_length"])
        opened = open_encoder(self.model_dir, self.max_length, threads)
        self.tokenizer, self.session = opened.tokenizer, opened.session
        self.batch_size = gpu_batch_size if opened.on_gpu else 1

    @classmethod
    def load(cls, model_dir: str | Path, threads: int = 1) -> EncoderSentimentModel:
        return _load_cached(str(Path(model_dir).resolve()), threads)

    def predict(self, texts: Sequence[str]) -> EncoderPrediction:
        polarity = np.zeros((len(texts), 3), dtype=np.float64)
        emotion = np.zeros((len(texts), len(self.emotions)), dtype=np.float64)
        if not len(texts):
            return EncoderPrediction(polarity, emotion, self.emotions)
        encodings = self.tokenizer.encode_batch([t or " " for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for begin in range(0, len(order), self.batch_size):
            rows = order[begin : begin + self.batch_size]
            feeds = padded_feeds(encodings, rows)
            pol_logits, emo_logits = self.session.run(None, feeds)
            polarity[rows] = _softmax(pol_logits.astype(np.float64))
            emotion[rows] = _softmax(emo_logits.astype(np.float64))
        return EncoderPrediction(polarity, emotion, self.emotions)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict(texts).polarity

    def __reduce__(self) -> tuple[Any, ...]:
        return (EncoderSentimentModel.load, (str(self.model_dir),))


@lru_cache(maxsize=4)
def _load_cached(model_dir: str, threads: int) -> EncoderSentimentModel:
    return EncoderSentimentModel(model_dir, threads)
