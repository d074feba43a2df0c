"""Aspect and opinion span tagging: which terms a text comments on, and how.

``load_tagger_dir(path)`` opens a trained tagger directory: two CRFs (``crf_*.crfsuite``, the
no-torch tagger, ``voc.aspects.crf``) or a fine-tuned encoder exported to int8 ONNX
(``voc_tagger.json`` with ``"kind": "encoder"``, ``voc.aspects.encoder_tagger``). Both give
``TaggedSpan``s.
"""

from __future__ import annotations

import json
from pathlib import Path

from voc.aspects.crf import MODEL_FILES, CrfTagger, Segmenter
from voc.aspects.types import KINDS, SpanTagger, TaggedSpan, spans_from_bio

__all__ = ["KINDS", "CrfTagger", "SpanTagger", "TaggedSpan", "TaggerUnavailable", "load_tagger_dir",
           "spans_from_bio"]

META_FILE = "voc_tagger.json"


class TaggerUnavailable(RuntimeError):
    """A tagger directory is missing, incomplete, or needs an extra that is not installed."""


def load_tagger_dir(path: Path, segment: Segmenter | None = None) -> SpanTagger:
    meta_path = path / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    if meta.get("kind") == "encoder":
        try:
            from voc.aspects.encoder_tagger import EncoderTagger
        except ImportError as exc:  # onnxruntime / tokenizers: the encoder extra
            raise TaggerUnavailable(f"the encoder tagger at {path} needs pip install 'voc[encoder]': {exc}") from exc
        return EncoderTagger(path)
    if all((path / name).is_file() for name in MODEL_FILES.values()):
        try:
            return CrfTagger(path, segment)
        except ImportError as exc:
            raise TaggerUnavailable(f"the CRF tagger needs python-crfsuite: {exc}") from exc
    raise TaggerUnavailable(f"no span tagger in {path} (expected {META_FILE} or {', '.join(MODEL_FILES.values())})")
