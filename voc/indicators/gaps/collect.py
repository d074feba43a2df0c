"""Candidate theme terms of a corpus: what customers evaluate that no indicator covers.

Every token of two CJK characters or more that is neither an indicator term nor a stopword is
counted per clause. A term becomes a candidate when four measured tests pass (``GapSettings``):

* **evaluated** (``min_tagged``): in at least this share of its clauses it lies inside an aspect term
  span of the trained tagger (``analysis.sentiment.aspects[].term``). Narration verbs (觉得, 下单,
  继续), pronoun-like nouns (东西, 宝贝, 朋友) and product names (面膜) are words customers talk
  *with*, not about: the tagger almost never marks them (0–1% of their clauses), while themes are
  marked in 40–95% of theirs (物流 0.96, 价格 0.92, 包装 0.83, 客服 0.41);
* **specific** (``min_log_odds``): its log-odds against jieba's general-Chinese frequencies
  (``background``) is at least this much, so an everyday word that the tagger does mark is left out;
* **not the business itself** (``max_mapped_ratio``): its clauses map to indicators clearly less often
  than clauses in general; a word naming the business or place (车, 店) co-occurs with everything and
  maps at the base rate;
* **volume of evidence that stands** (``min_count``): documents where the term occurs in a clause
  that no indicator accounts for. A document mentioning the object in passing while complaining about a
  covered indicator counts for that indicator, not for the gap. An indicator accounts for a clause when
  one of its terms occurs there outside the opinion spans the tagger found: in 包装很好 the overall
  indicator's 很好 is what is said *about* 包装, not a second theme.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from voc.indicators.corpus import DocView
from voc.indicators.gaps.background import background, log_odds
from voc.indicators.mapping import DocumentMapping, Mapper, aspects_by_clause

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
MAX_CONTEXTS = 12  # clauses per term given to the encoder
MAX_COOCCURRING = 64  # terms of one clause counted as co-occurring


@dataclass(slots=True)
class TermEvidence:
    clauses: int = 0
    tagged: int = 0  # clauses where the term lies inside a tagged aspect term
    opinion: int = 0  # evaluative clauses (clause label not neutral)
    unmapped: int = 0  # clauses mapped to no indicator
    docs: dict[str, tuple[str, str]] = field(default_factory=dict)  # standing evidence: doc -> (clause, polarity)
    covered: Counter[str] = field(default_factory=Counter)  # indicator id -> docs where it accounts for the term
    contexts: list[tuple[str, int, int]] = field(default_factory=list)  # (clause, start, end) for the encoder
    cooc: Counter[str] = field(default_factory=Counter)  # other terms in the same clauses
    opinions: Counter[str] = field(default_factory=Counter)  # opinion spans the tagger attached to it


@dataclass(slots=True)
class GapSettings:
    min_tagged: float = 0.06
    min_log_odds: float = 1.5
    max_mapped_ratio: float = 0.8


class GapCollector:
    def __init__(self, mapper: Mapper, settings: GapSettings | None = None) -> None:
        self.mapper = mapper
        self.settings = settings or GapSettings()
        self.tokenizer = mapper.tokenizer
        self.indicator_tokens = set().union(*mapper.node_tokens.values()) if mapper.node_tokens else set()
        self.terms: dict[str, TermEvidence] = defaultdict(TermEvidence)
        self.token_counts: Counter[str] = Counter()
        self.tokens = 0
        self.clauses = 0
        self.unmapped_clauses = 0
        self.occurrences = 0  # (term, clause) pairs
        self.tagged = 0  # ... where the term is inside a tagged aspect term
        self.indicator_contexts: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        self._target: dict[str, bool] = {}

    def is_target(self, word: str) -> bool:
        cached = self._target.get(word)
        if cached is None:
            cached = (len(word) >= 2 and bool(_CJK_RE.search(word)) and word not in self.indicator_tokens
                      and word not in self.tokenizer.stopwords)
            self._target[word] = cached
        return cached

    def add(self, doc: DocView, mapping: DocumentMapping) -> None:
        clauses = [mapped.clause for mapped in mapping.clauses]
        opinions_by_clause = aspects_by_clause(doc.aspects, clauses)
        terms_by_clause = aspects_by_clause([a for a in doc.aspects if a.get("term")], clauses, key="term_start")
        for mapped, in_clause, aspects in zip(mapping.clauses, opinions_by_clause, terms_by_clause, strict=True):
            if not mapped.tokens:
                continue
            clause = mapped.clause
            self.tokens += len(mapped.tokens)
            self.token_counts.update(mapped.tokens)
            self.clauses += 1
            opinions = [a["opinion"] for a in in_clause if a.get("opinion")]
            accounted = {node for node, _, word in self.mapper.term_hits(mapped.tokens)
                         if not any(word in opinion for opinion in opinions)}
            unmapped = not accounted
            self.unmapped_clauses += unmapped
            terms = [t for t in dict.fromkeys(mapped.tokens) if self.is_target(t)]
            for token in dict.fromkeys(mapped.tokens):
                if token in self.indicator_tokens and len(self.indicator_contexts[token]) < MAX_CONTEXTS:
                    at = clause.text.find(token)
                    if at >= 0:
                        self.indicator_contexts[token].append((clause.text, at, at + len(token)))
            for term in terms:
                stats = self.terms[term]
                stats.clauses += 1
                stats.unmapped += unmapped
                stats.opinion += clause.label != "neutral"
                tagged = next((a for a in aspects if term in a["term"]), None)
                polarity = clause.label
                self.occurrences += 1
                if tagged is not None:
                    self.tagged += 1
                    stats.tagged += 1
                    polarity = tagged.get("polarity") or polarity
                    if tagged.get("opinion"):
                        stats.opinions[tagged["opinion"]] += 1
                if unmapped:
                    stats.docs.setdefault(doc.id, (clause.text, polarity))
                else:
                    stats.covered.update(accounted)
                if len(stats.contexts) < MAX_CONTEXTS:
                    at = clause.text.find(term)
                    if at >= 0:
                        stats.contexts.append((clause.text, at, at + len(term)))
                # co-occurrence within a bounded window of the clause's terms: a run-on clause of
                # thousands of distinct words would otherwise cost terms x terms
                stats.cooc.update(t for t in terms[:MAX_COOCCURRING] if t != term)

    # --- the tests -------------------------------------------------------------------------------
    def measures(self, term: str) -> dict[str, float]:
        """The numbers a candidate decision is made on (shown with ``--all`` and in the bench)."""
        stats = self.terms[term]
        base = 1 - self.unmapped_clauses / self.clauses if self.clauses else 0.0
        mapped = 1 - stats.unmapped / stats.clauses if stats.clauses else 0.0
        freq, total = background()
        return {"documents": len(stats.docs), "clauses": stats.clauses,
                "tagged": round(stats.tagged / stats.clauses, 3) if stats.clauses else 0.0,
                "log_odds": round(log_odds(self.token_counts[term], self.tokens, term, freq, total), 2),
                "mapped_ratio": round(mapped / base, 3) if base else 0.0}

    def rejection(self, term: str, min_count: int) -> str:
        """Why a term is not a candidate ("" when it is)."""
        s = self.settings
        stats = self.terms[term]
        if len(stats.docs) < min_count:
            return "volume"
        m = self.measures(term)
        if m["tagged"] < s.min_tagged:
            return "not evaluated"
        if m["log_odds"] < s.min_log_odds:
            return "general word"
        if m["mapped_ratio"] > s.max_mapped_ratio:
            return "business word"
        return ""

    def candidates(self, min_count: int) -> list[str]:
        out = [t for t, stats in self.terms.items()
               if len(stats.docs) >= min_count and not self.rejection(t, min_count)]
        return sorted(out, key=lambda t: (-len(self.terms[t].docs), t))

    def cooccurrence(self, a: str, b: str) -> float:
        """Share of the rarer term's clauses that also hold the other."""
        small = min(self.terms[a].clauses, self.terms[b].clauses) or 1
        return self.terms[a].cooc[b] / small

