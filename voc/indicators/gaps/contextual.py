"""Contextual term vectors from the bge-small-zh encoder: a term's token states, averaged over the
clauses it occurs in, L2-normalised. On 57 hand-labelled car aspect terms these separate "same aspect"
pairs at AUC 0.81 (the bare term's ``[CLS]`` vector is weaker). Optional: without the encoder extra or
the fetched model (it is never downloaded here), ``ContextualTerms.vectors`` returns {} and grouping
runs on the corpus signals.
Vectors are cached per (term, contexts) in the object, so repeated runs over one corpus (the bench,
a reviewer re-running suggest) embed each term once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
Context = tuple[str, int, int]  # (clause, term start, term end) in characters


class ContextualTerms:
    def __init__(self, embedder: Any = None, batch: int = 64) -> None:
        self.embedder = embedder
        self.batch = batch
        self.available = True
        self._cache: dict[tuple[str, tuple[Context, ...]], np.ndarray] = {}

    def _session(self) -> tuple[Any, Any] | None:
        if not self.available:
            return None
        try:
            if self.embedder is None:  # only a model already fetched (`voc models fetch`): never download here
                from voc.encoder.fetch import BASE_NAME, EncoderFiles, default_models_cache
                from voc.settings import VocSettings
                from voc.topics.encoder_embedding import EncoderEmbedder

                files = EncoderFiles((VocSettings().models_cache or default_models_cache()) / BASE_NAME)
                if not files.complete():
                    raise FileNotFoundError(f"{files.root}: run `voc models fetch`")
                self.embedder = EncoderEmbedder(files.root)
            if self.embedder._session is None:
                self.embedder._load()
            return self.embedder._session, self.embedder._tokenizer
        except Exception as exc:  # the extra or the model is missing: corpus signals only
            log.info("contextual term vectors unavailable: %s", exc)
            self.available = False
            return None

    def vectors(self, contexts: dict[str, Sequence[Context]]) -> dict[str, np.ndarray]:
        keys = {term: (term, tuple(ctx)) for term, ctx in contexts.items() if ctx}
        todo = [term for term, key in keys.items() if key not in self._cache]
        if todo:
            loaded = self._session()
            if loaded is None:
                return {}
            self._embed(todo, contexts, *loaded)
            for term in todo:
                self._cache.setdefault(keys[term], np.zeros(0, dtype=np.float32))
        out = {term: self._cache[key] for term, key in keys.items()}
        return {term: v for term, v in out.items() if v.size}

    def _embed(self, terms: list[str], contexts: dict[str, Sequence[Context]], session: Any, tokenizer: Any) -> None:
        rows = [(term, text, start, end) for term in terms for text, start, end in contexts[term]]
        encodings = tokenizer.encode_batch([text for _, text, _, _ in rows])
        sums: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        for begin in range(0, len(rows), self.batch):
            part = list(range(begin, min(begin + self.batch, len(rows))))
            width = max(len(encodings[i].ids) for i in part)
            feeds = {name: np.zeros((len(part), width), dtype=np.int64)
                     for name in ("input_ids", "attention_mask", "token_type_ids")}
            for r, i in enumerate(part):
                ids = encodings[i].ids
                feeds["input_ids"][r, :len(ids)] = ids
                feeds["attention_mask"][r, :len(ids)] = 1
            hidden = session.run(None, feeds)[0]
            for r, i in enumerate(part):
                term, _, start, end = rows[i]
                positions = [p for p, (a, b) in enumerate(encodings[i].offsets)
                             if b > a and a < end and b > start and p > 0]
                if not positions:
                    continue
                state = hidden[r, positions].mean(axis=0)
                sums[term] = sums.get(term, 0) + state / (np.linalg.norm(state) or 1.0)
                counts[term] = counts.get(term, 0) + 1
        for term, total in sums.items():
            vector = np.asarray(total, dtype=np.float32)
            self._cache[(term, tuple(contexts[term]))] = vector / (np.linalg.norm(vector) or 1.0)
