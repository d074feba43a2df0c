"""The fine-tuned encoder span tagger (``models.aspects.tagger_train``), int8 ONNX, no torch.

Per token: aspect B/I/O, opinion B/I/O and a polarity. A span's confidence is the mean probability
of its tags, its polarity the argmax of its tokens' mean polarity. One text per call on CPU, as the
sentiment encoder does: dynamic int8 quantisation would tie a text's tags to its batch neighbours.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from voc.aspects.types import TaggedSpan, spans_from_bio
from voc.encoder.session import open_encoder, padded_feeds

META_FILE = "voc_tagger.json"
BIO = ("O", "B", "I")


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class EncoderTagger:
    name = "encoder"

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
        self.polarities = tuple(meta["polarities"])
        opened = open_encoder(model_dir, int(meta["max_length"]), threads)
        self.session, self.tokenizer = opened.session, opened.tokenizer
        self.batch_size = 32 if opened.on_gpu else 1

    def tag(self, texts: Sequence[str]) -> list[list[TaggedSpan]]:
        out: list[list[TaggedSpan]] = [[] for _ in texts]
        encodings = self.tokenizer.encode_batch([t or " " for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for begin in range(0, len(order), self.batch_size):
            rows = order[begin:begin + self.batch_size]
            feeds = padded_feeds(encodings, rows)
            aspect, opinion, polarity = (_softmax(x.astype(np.float64)) for x in self.session.run(None, feeds))
            for r, i in enumerate(rows):
                if texts[i]:
                    out[i] = self._spans(encodings[i].offsets, aspect[r], opinion[r], polarity[r])
        return out

    def _spans(self, offsets: Sequence[tuple[int, int]], aspect: np.ndarray, opinion: np.ndarray,
               polarity: np.ndarray) -> list[TaggedSpan]:
        units = [k for k, (start, end) in enumerate(offsets) if end > start]  # no [CLS] / [SEP]
        unit_offsets = [offsets[k] for k in units]
        spans: list[TaggedSpan] = []
        for kind, probabilities in (("aspect", aspect), ("opinion", opinion)):
            best = probabilities[units].argmax(axis=1)
            tags = [BIO[b] for b in best]
            scores = [float(probabilities[k, b]) for k, b in zip(units, best, strict=True)]
            for span in spans_from_bio(tags, unit_offsets, kind, scores):
                members = [k for k, (s, e) in zip(units, unit_offsets, strict=True)
                           if span.start <= s and e <= span.end]
                mean = polarity[members].mean(axis=0)
                spans.append(replace(span, polarity=self.polarities[int(mean.argmax())]))
        return sorted(spans, key=lambda s: (s.start, s.end, s.kind))
