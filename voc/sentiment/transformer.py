"""Transformer backend: any Hugging Face sequence-classification model, batched inference.

Needs the ``ml`` extra (torch, transformers). Labels are read from the model's ``id2label``;
names such as negative/neutral/positive, LABEL_0/1 (binary: 0 = negative) or neg/pos map onto
voc's three classes. Loading is cached per process and the model is never pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

LABELS = ("negative", "neutral", "positive")
_NAMES = {
    "negative": 0,
    "neg": 0,
    "负面": 0,
    "neutral": 1,
    "neu": 1,
    "中性": 1,
    "positive": 2,
    "pos": 2,
    "正面": 2,
}


def label_columns(id2label: dict[int, str]) -> list[int]:
    """Column of each model output in voc's (negative, neutral, positive) order."""
    names = [str(id2label[i]).lower() for i in range(len(id2label))]
    if names in (["label_0", "label_1"], ["0", "1"]):
        return [0, 2]  # the binary review-set convention: 0 = negative, 1 = positive
    if names in (["label_0", "label_1", "label_2"], ["0", "1", "2"]):
        return [0, 1, 2]
    unknown = [n for n in names if n not in _NAMES]
    if unknown:
        raise ValueError(f"cannot map model labels {unknown} to negative/neutral/positive")
    return [_NAMES[n] for n in names]


def pick_device(requested: str | None = None) -> str:
    import torch

    if requested:
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class TransformerSentimentModel:
    model: Any
    tokenizer: Any
    columns: list[int]
    device: str = "cpu"
    batch_size: int = 32
    max_length: int = 256

    @property
    def has_neutral(self) -> bool:
        return 1 in self.columns

    @classmethod
    def load(cls, name_or_path: str, device: str | None = None) -> TransformerSentimentModel:
        return _load_cached(name_or_path, pick_device(device))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), 3), dtype=np.float64)
        if not texts:
            return out
        # sort by length so each batch pads little; restore the order at the end
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        self.model.eval()
        with torch.inference_mode():
            for begin in range(0, len(order), self.batch_size):
                idx = order[begin : begin + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                probs = torch.softmax(self.model(**enc).logits.float(), dim=-1).cpu().numpy()
                for row, i in enumerate(idx):
                    for col, target in enumerate(self.columns):
                        out[i, target] += probs[row, col]
        return out


@lru_cache(maxsize=4)
def _load_cached(name_or_path: str, device: str) -> TransformerSentimentModel:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    model = AutoModelForSequenceClassification.from_pretrained(name_or_path).to(device)
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    return TransformerSentimentModel(model, tokenizer, label_columns(id2label), device)
