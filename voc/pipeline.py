"""The analysis pipeline: small stages, each documents in, documents out.

Stages are plain objects, so one can be swapped (a different tokenizer, another sentiment model)
without touching the rest, in the spirit of BERTopic's pluggable steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from voc.documents import Document, PiiSpan, Turn, document_id
from voc.settings import VocSettings
from voc.text import minhash
from voc.text.minhash import signatures
from voc.text.normalize import Normalizer
from voc.text.original_mask import mask_completely, mask_original
from voc.text.pii import PiiMasker
from voc.text.tokenize import Tokenizer


class Stage(Protocol):
    def __call__(self, docs: list[Document]) -> list[Document]: ...


@dataclass(slots=True)
class BatchNormalizer:
    """The pipeline's normaliser, remembering its results for one batch.

    The PII stage needs the normalised form of each stored original; for most documents the original
    is the very text NormalizeStage has just normalised, so it is looked up instead of normalised twice.
    """

    normalizer: Normalizer
    _seen: dict[str, str] = field(default_factory=dict, repr=False)  # raw texts: never in a repr or log

    @property
    def keep_newlines(self) -> bool:
        return self.normalizer.keep_newlines

    def __call__(self, text: str) -> str:
        normal = self._seen.get(text)
        if normal is None:
            normal = self._seen[text] = self.normalizer(text)
        return normal

    def forget(self) -> None:
        self._seen.clear()


@dataclass(slots=True)
class NormalizeStage:
    """Full/half width, Traditional to Simplified, entities, control characters, punctuation runs.

    ``text`` is normalised; ``text_original`` keeps what the customer wrote.
    """

    normalizer: Normalizer | BatchNormalizer

    def __call__(self, docs: list[Document]) -> list[Document]:
        if isinstance(self.normalizer, BatchNormalizer):
            self.normalizer.forget()  # a new batch: the last one's texts are of no more use
        for doc in docs:
            doc.text = self.normalizer(doc.text)
            doc.turns = [Turn(turn.role, self.normalizer(turn.text)) for turn in doc.turns]
        return docs


# Document fields the PII stage masks in its own way, or that hold no text of the customer's.
_MASKED_SEPARATELY = frozenset({"id", "text", "text_original", "turns", "pii"})
_OTHER_FIELDS = tuple(f.name for f in fields(Document) if f.name not in _MASKED_SEPARATELY)


@dataclass(slots=True)
class PiiStage:
    """Masks PII in everything that will be stored.

    ``text`` and the turns are normalised, so the masker sees every written form there. Everything kept
    as written — ``text_original``, metadata keys and values, every other string field (channel,
    industry, product, store, external id, and any field added later) — goes through `mask_original`,
    which masks an item wherever the normalised form shows one and otherwise keeps the writing as is.
    """

    masker: PiiMasker | None
    normalizer: Normalizer | BatchNormalizer = field(default_factory=Normalizer)
    # Field values repeat within a batch (the same store, channel, industry): each is masked once.
    _masked_values: dict[str, str] = field(default_factory=dict, repr=False)

    def __call__(self, docs: list[Document]) -> list[Document]:
        if self.masker is None:
            return docs
        for doc in docs:
            doc.text, doc.pii = mask_completely(doc.text, self.masker)
            doc.text_original = self._mask_original(doc.text_original)
            doc.turns = [Turn(turn.role, mask_completely(turn.text, self.masker)[0]) for turn in doc.turns]
            for name in _OTHER_FIELDS:
                value = getattr(doc, name)
                if isinstance(value, str | dict | list):
                    setattr(doc, name, self._mask_value(value))
        self._masked_values.clear()
        if isinstance(self.normalizer, BatchNormalizer):
            self.normalizer.forget()
        return docs

    def _mask_original(self, text: str) -> str:
        assert self.masker is not None
        return mask_original(text, self.masker, self.normalizer,
                             keep_newlines=self.normalizer.keep_newlines)

    def _mask_value(self, value: Any) -> Any:
        if isinstance(value, str):
            masked = self._masked_values.get(value)
            if masked is None:
                masked = self._masked_values[value] = self._mask_original(value)
            return masked
        if isinstance(value, dict):
            masked_dict: dict[Any, Any] = {}
            for key, item in value.items():
                # Keys are column names, stored too; two that mask alike both stay (nothing is dropped).
                name = self._mask_original(key) if isinstance(key, str) else key
                while name in masked_dict:
                    name = f"{name}_"
                masked_dict[name] = self._mask_value(item)
            return masked_dict
        if isinstance(value, list):
            return [self._mask_value(item) for item in value]
        return value


@dataclass(slots=True)
class IdentityStage:
    """Stable ids: (source, external id) when given, else a hash of the content.

    The content hash covers the text and the row's context (time, store, product, channel), so two
    customers who both wrote “很好” at different times stay two documents, while re-ingesting the
    same export adds nothing.

    Runs *before* PII masking: ids are hashes of the raw values, so two call ids or two texts that differ
    only in a phone number never collapse onto one document (masking makes them equal), and ids do not
    change when the masker learns new forms. Where nothing was masked, raw and masked values are equal,
    so ids of documents without PII are the same as when this stage ran after masking.
    """

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            content = doc.text_original if doc.turns else doc.text
            if not doc.external_id:
                context = "\x1f".join(str(part or "") for part in (
                    doc.created_at.isoformat() if doc.created_at else None,
                    doc.store, doc.product, doc.channel, content))
                content = hashlib.blake2b(context.encode("utf-8"), digest_size=16).hexdigest()
            doc.id = document_id(doc.source, doc.external_id, content)
        return docs


@dataclass(slots=True)
class TokenizeStage:
    tokenizer: Tokenizer

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            doc.tokens = self.tokenizer.tokenize(doc.text)
            # Computed here, in the workers, so indexing needs no tokenizer and the main process stays light.
            doc.search_terms = self.tokenizer.index_terms(doc.tokens)
        return docs


@dataclass(slots=True)
class FingerprintStage:
    """MinHash signature of long-enough texts, for near-duplicate (copy-paste) detection."""

    min_chars: int

    def __call__(self, docs: list[Document]) -> list[Document]:
        eligible = [doc for doc in docs if len(doc.text) >= self.min_chars]
        for doc, sig in zip(eligible, signatures([doc.text for doc in eligible]), strict=True):
            doc.minhash = minhash.to_bytes(sig) if sig is not None else None
        return docs


@dataclass(slots=True)
class Pipeline:
    stages: list[Stage] = field(default_factory=list)

    def __call__(self, docs: list[Document]) -> list[Document]:
        for stage in self.stages:
            docs = stage(docs)
        return docs

    @property
    def tokenizer(self) -> Tokenizer | None:
        return next((s.tokenizer for s in self.stages if isinstance(s, TokenizeStage)), None)

    @classmethod
    def from_settings(cls, settings: VocSettings, tokenizer: Tokenizer | None = None) -> Pipeline:
        masker = PiiMasker(settings.pii_types, style=settings.pii_style) if settings.pii_enabled else None
        normalizer = BatchNormalizer(Normalizer(to_simplified=settings.to_simplified))
        stages: list[Stage] = [
            NormalizeStage(normalizer),
            IdentityStage(),  # before masking: see IdentityStage
            PiiStage(masker, normalizer),
            TokenizeStage(tokenizer or Tokenizer.from_settings(settings)),
            FingerprintStage(settings.near_duplicate_min_chars),
        ]
        stages.extend(optional_analysis_stages(settings))
        return cls(stages)


def optional_analysis_stages(settings: VocSettings) -> list[Stage]:
    """The analysis stages the settings ask for (``VOC_ANALYSIS_STAGES``)."""
    stages: list[Stage] = []
    if "sentiment" in settings.analysis_stages:
        from voc.sentiment import load_analyzer

        stages.append(SentimentStage(load_analyzer(settings)))
    if "topics" in settings.analysis_stages:
        from voc.topics.service import published_model_path

        stages.append(TopicStage(published_model_path(settings)))
    return stages


@dataclass(slots=True)
class TopicStage:
    """Gives new documents a topic of the last build (the model's assignment), without re-clustering.

    Before the first ``voc topics build`` there is no model and the stage does nothing. A long-running
    process (an API worker) picks up a rebuilt model: the file's modification time is checked per batch.
    """

    path: Path
    _bundle: dict[str, Any] | None = None
    _loaded_mtime: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}  # each worker loads the model itself rather than receiving a copy

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._bundle = None
        self._loaded_mtime = None

    def _current(self) -> dict[str, Any] | None:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        if mtime != self._loaded_mtime:
            import joblib

            self._bundle = joblib.load(self.path)
            self._loaded_mtime = mtime
        return self._bundle

    def __call__(self, docs: list[Document]) -> list[Document]:
        bundle = self._current()
        if bundle is None:
            return docs
        indices, _ = bundle["model"].assign([doc.tokens for doc in docs], [doc.text for doc in docs])
        for doc, index in zip(docs, indices.tolist(), strict=True):
            doc.topic_id = bundle["topic_ids"][index] if index >= 0 else -1
            doc.topic_label = bundle["labels"][index] if index >= 0 else None
        return docs


@dataclass(slots=True)
class SentimentStage:
    analyzer: Any

    def __call__(self, docs: list[Document]) -> list[Document]:
        results = self.analyzer.analyze([doc.text for doc in docs])
        for doc, result in zip(docs, results, strict=True):
            doc.sentiment_label = result.label
            doc.sentiment_score = round(float(result.score), 4)
            doc.analysis["sentiment"] = result.to_dict()
        return docs


def pii_dicts(spans: Sequence[PiiSpan]) -> list[dict[str, Any]]:
    return [{"type": s.type, "start": s.start, "end": s.end, "masked_start": s.masked_start,
             "masked_end": s.masked_end} for s in spans]
