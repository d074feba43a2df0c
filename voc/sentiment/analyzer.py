"""Document, clause and aspect sentiment on top of any probability backend.

The analyzer is picklable by reference: pickling stores model paths only and the receiving
process re-opens the (per-process cached) models, so sending it to workers costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voc.aspects import SpanTagger, load_tagger_dir
from voc.sentiment import rules
from voc.sentiment.aspects import AspectMention, find_mentions, mention_input, mentions_from_spans
from voc.sentiment.backends import load_backend
from voc.sentiment.cascade import (
    DEFAULT_CONFIDENCE,
    DEFAULT_ENCODER_WEIGHT,
    DEFAULT_NEUTRAL_CEILING,
    CascadeBackend,
    ProbabilityBackend,
)
from voc.sentiment.clauses import Clause, deciding_span, split_clauses
from voc.sentiment.linear import LinearSentimentModel
from voc.sentiment.types import AspectSentiment, ClauseSentiment, SentimentResult

LABELS = ("negative", "neutral", "positive")
# Weight of the deciding (post-contrast) span in a short contrastive text; the whole text keeps
# the rest so that a strong opinion before 但是 still counts. Long texts are left to the model:
# on the review test splits any weight on their last contrast span lowered accuracy.
CONTRAST_WEIGHT = 0.6
# Without an opinion word, aspect and clause model together must lean this much to report one. Raised
# from 0.3 with the cascade: the encoder leans positive on opinion-free review statements (快递到了:
# p_pos 0.84, learned from reviews that go on to praise), which at 0.3 reported bare mentions.
MIN_ASPECT_SCORE = 0.45
CASCADE_DEFAULTS = (DEFAULT_CONFIDENCE, DEFAULT_NEUTRAL_CEILING, DEFAULT_ENCODER_WEIGHT)


class Analyzer:
    """The sentiment analyzer voc uses: model probabilities, hard-case rules, clauses, aspects."""

    def __init__(
        self,
        model_path: str | Path,
        aspect_model_path: str | Path | None = None,
        contrast_weight: float = CONTRAST_WEIGHT,
        use_rules: bool = True,
        strict: bool = True,
        backend: ProbabilityBackend | None = None,
        cascade: tuple[float, float, float] = CASCADE_DEFAULTS,
        tagger_path: str | Path | None = None,
    ) -> None:
        """``backend`` (benchmarks) uses that object instead of loading ``model_path``; such an
        analyzer cannot be pickled. ``tagger_path``: a span tagger directory (``voc.aspects``) that
        finds aspect terms; without one, aspects are the CX lexicon's terms."""
        self.model_path = str(model_path)
        self.strict = strict
        self.cascade = cascade
        self._given_backend = backend
        self.aspect_model_path = str(aspect_model_path) if aspect_model_path else None
        self.tagger_path = str(tagger_path) if tagger_path else None
        self.contrast_weight = contrast_weight
        self.use_rules = use_rules
        self._open()

    def _open(self) -> None:
        self.backend: ProbabilityBackend = self._given_backend or load_backend(
            self.model_path, self.strict, *self.cascade
        )
        self.aspect_model = LinearSentimentModel.load(self.aspect_model_path) if self.aspect_model_path else None
        self.tagger: SpanTagger | None = load_tagger_dir(Path(self.tagger_path)) if self.tagger_path else None

    def __getstate__(self) -> dict[str, Any]:
        if self._given_backend is not None:
            raise TypeError("an Analyzer built on a backend object cannot be pickled; give a model path")
        return {
            "model_path": self.model_path,
            "aspect_model_path": self.aspect_model_path,
            "tagger_path": self.tagger_path,
            "contrast_weight": self.contrast_weight,
            "use_rules": self.use_rules,
            "strict": self.strict,
            "cascade": self.cascade,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        defaults = {"strict": True, "_given_backend": None, "cascade": CASCADE_DEFAULTS, "tagger_path": None}
        self.__dict__.update({**defaults, **state})
        self._open()

    @property
    def has_neutral(self) -> bool:
        return bool(self.backend.has_neutral)

    def document_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Document-level probabilities only (what ``voc models eval`` scores), (n, 3)."""
        prepared = [rules.prepare(t) for t in texts]
        clauses = [split_clauses(t) for t in prepared]
        return self._documents(prepared, clauses, self._predict(prepared, clauses))

    def analyze(self, texts: Sequence[str]) -> list[SentimentResult]:
        prepared = [rules.prepare(t) for t in texts]
        clauses = [split_clauses(t) for t in prepared]
        doc_lookup = self._predict(prepared, clauses)
        doc_probs = self._documents(prepared, clauses, doc_lookup)
        lookup = self._clause_probabilities(clauses, doc_lookup)
        mentions = self._mentions(prepared, clauses)
        aspect_lookup = self._aspect_probabilities(mentions, clauses)
        results = []
        for doc_clauses, doc_mentions, proba in zip(clauses, mentions, doc_probs, strict=True):
            clause_results = [self._clause(c, lookup) for c in doc_clauses]
            results.append(
                SentimentResult(
                    label=rules.label_of(proba),
                    score=_score(proba),
                    probabilities={k: round(float(v), 4) for k, v in zip(LABELS, proba, strict=True)},
                    clauses=clause_results,
                    aspects=self._aspects(doc_mentions, doc_clauses, clause_results, aspect_lookup),
                )
            )
        return results

    def _mentions(self, texts: Sequence[str], clauses: Sequence[list[Clause]]) -> list[list[AspectMention]]:
        if self.tagger is None:
            return [find_mentions(t, c) for t, c in zip(texts, clauses, strict=True)]
        spans = self.tagger.tag(texts)
        return [mentions_from_spans(t, c, s) for t, c, s in zip(texts, clauses, spans, strict=True)]

    def _predict(self, texts: Sequence[str], clauses: Sequence[list[Clause]]) -> dict[str, np.ndarray]:
        # one batched model call over the unique strings: documents and deciding spans
        wanted: dict[str, None] = dict.fromkeys(texts)
        for text, doc_clauses in zip(texts, clauses, strict=True):
            span = deciding_span(doc_clauses) if len(text) <= rules.LOCAL_TEXT_CHARS else None
            if span is not None:
                wanted[text[span[0] : span[1]]] = None
        keys = list(wanted)
        proba = self.backend.predict_proba(keys)
        return dict(zip(keys, proba, strict=True))

    def _clause_probabilities(
        self, clauses: Sequence[list[Clause]], doc_lookup: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Clause probabilities, from the cascade's linear stage where the backend is a cascade.

        Measured on online_shopping reviews (16.7 clause and span strings per review): the linear
        model was unsure of 84% of clauses, so the cascade sent them to the encoder and full analysis
        fell from ~2,700 to 26 reviews per CPU-second (ingest with sentiment: 79 docs/s per worker),
        while the encoder read short clauses no better (就是价格有点贵 → positive). Documents keep
        the cascade."""
        cascade = isinstance(self.backend, CascadeBackend)
        backend = self.backend.linear if cascade else self.backend
        # with one backend, a single-clause document's text was just scored: not again
        known = {} if cascade else doc_lookup
        keys = [k for k in dict.fromkeys(c.text for doc_clauses in clauses for c in doc_clauses) if k not in known]
        scored = dict(zip(keys, backend.predict_proba(keys), strict=True)) if keys else {}
        return {**known, **scored}

    def _documents(
        self, texts: Sequence[str], clauses: Sequence[list[Clause]], lookup: dict[str, np.ndarray]
    ) -> np.ndarray:
        out = np.zeros((len(texts), 3))
        for i, (text, doc_clauses) in enumerate(zip(texts, clauses, strict=True)):
            proba = lookup[text]
            span = deciding_span(doc_clauses) if len(text) <= rules.LOCAL_TEXT_CHARS else None
            if span is not None:
                tail = lookup[text[span[0] : span[1]]]
                proba = (1 - self.contrast_weight) * proba + self.contrast_weight * tail
            if self.use_rules:
                proba, _ = rules.apply_rules(text, proba)
            out[i] = proba / proba.sum()
        return out

    def _clause(self, clause: Clause, lookup: dict[str, np.ndarray]) -> ClauseSentiment:
        proba = lookup[clause.text]
        if self.use_rules:
            proba, _ = rules.apply_rules(clause.text, proba)
        return ClauseSentiment(clause.text, clause.start, clause.end, rules.label_of(proba), _score(proba))

    def _aspect_probabilities(
        self, mentions: Sequence[list[AspectMention]], clauses: Sequence[list[Clause]]
    ) -> dict[str, np.ndarray]:
        """One batched aspect-model call for every mention without an adjacent opinion word."""
        if self.aspect_model is None:
            return {}
        wanted = {
            mention_input(m, doc_clauses): None
            for doc_mentions, doc_clauses in zip(mentions, clauses, strict=True)
            for m in doc_mentions
            if not m.lexicon_polarity
        }
        keys = list(wanted)
        return dict(zip(keys, self.aspect_model.predict_proba(keys), strict=True))

    def _aspects(
        self,
        mentions: list[AspectMention],
        clauses: list[Clause],
        clause_results: list[ClauseSentiment],
        aspect_lookup: dict[str, np.ndarray],
    ) -> list[AspectSentiment]:
        aspects = []
        # per clause, not per mention: a tagger gives one mention per term, thousands in one clause
        # of a repeated phrase, and the cue scan reads the whole clause
        cues: dict[int, bool] = {}
        for mention in mentions:
            clause = clause_results[mention.clause_index]
            model_proba = aspect_lookup.get(mention_input(mention, clauses)) if not mention.lexicon_polarity else None
            if mention.lexicon_polarity and mention.clause_index not in cues:
                cues[mention.clause_index] = rules.cue_polarity(clause.text) is not None
            if mention.lexicon_polarity and cues[mention.clause_index]:
                # sarcasm or a rhetorical question turns the opinion word around: follow the clause
                polarity, score = clause.label, clause.score
            elif mention.lexicon_polarity:
                polarity = "positive" if mention.lexicon_polarity > 0 else "negative"
                score = float(mention.lexicon_polarity) * max(abs(clause.score), 0.5)
            elif model_proba is not None:
                # the aspect model alone leans positive on bare mentions (its ABSA training data
                # does), the clause model knows 还没到 is bad: both must agree to report a polarity
                score = (_score(model_proba) + clause.score) / 2
                polarity = "neutral" if abs(score) < MIN_ASPECT_SCORE else "positive" if score > 0 else "negative"
            else:
                polarity, score = clause.label, clause.score
            if not mention.opinion and polarity == "neutral":
                continue  # a bare mention ("快递到了") carries no opinion to report
            if mention.opinion:
                opinion, start, end = mention.opinion, mention.opinion_start, mention.opinion_end
            else:
                opinion, start, end = clause.text, clause.start, clause.end
            aspects.append(AspectSentiment(mention.aspect, polarity, opinion, start, end, round(score, 4),
                                           mention.term, mention.term_start if mention.term else -1,
                                           mention.end if mention.term else -1, mention.confidence))
        return aspects


def _score(proba: np.ndarray) -> float:
    # plain float clamping: np.clip on a scalar costs ~5 µs, and this runs per document, clause
    # and aspect (same value as np.clip, NaN included)
    diff = float(proba[2] - proba[0])
    return round(-1.0 if diff < -1.0 else 1.0 if diff > 1.0 else diff, 4)
