"""Map clauses, aspects and topics onto indicators, with a score and the evidence span.

Per clause, in order of trust:

0. the indicator's boolean ``rule`` over the clause's tokens (``voc.indicators.rules``); its ``exclude``
   rule vetoes the indicator for that clause on every path below;
1. keyword / name / synonym match on jieba tokens (the indicator's terms are tokenised by the same
   tokenizer, so synonym folding and multi-token keywords match as the document's tokens do);
2. the clause's aspect results (物流配送, 价格, … from the sentiment stage) through the indicator whose
   terms best cover that aspect's vocabulary;
3. embedding similarity between the clause and the indicator's text, for clauses nothing else mapped;
4. where a model was learned from labelled examples (``voc.exemplars``), each of its indicators is
   decided per document by the calibrated combination of term hit, aspect hit and the example head's
   probability (weights and threshold learned on the public mapping benchmarks); rule hits stand.

A (document, indicator) pair keeps its best-scoring mention. Polarity comes from the aspect result
in that clause when there is one (its opinion span is the sharper evidence), else the clause label.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from voc.exemplars import Calibration, ExemplarModel, featurise
from voc.indicators.corpus import ClauseView, DocView
from voc.indicators.embedding import CharNgramEncoder, Encoder, cosine
from voc.indicators.model import IndicatorTree
from voc.indicators.rules.indicators import IndicatorRules
from voc.sentiment.lexicon import ASPECT_TERMS
from voc.text.tokenize import Tokenizer

SCORES = {"rule": 1.0, "name": 1.0, "keyword": 1.0, "synonym": 0.9, "aspect": 0.8}
EMBEDDING_THRESHOLD = 0.55  # char 1-2-gram cosine; below this, clause-to-indicator matches were mostly noise
VIA_ORDER = ("rule", "keyword", "name", "synonym", "aspect", "example", "embedding")
TERM_VIAS = frozenset({"keyword", "name", "synonym"})


@dataclass(slots=True)
class Mention:
    document_id: str
    indicator_id: str
    score: float
    via: str
    polarity: str
    term: str
    span_start: int
    span_end: int
    evidence: str
    opinion: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class MappedClause:
    clause: ClauseView
    tokens: list[str]
    indicator_ids: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)  # indicators whose exclude rule matches this clause


@dataclass(slots=True)
class DocumentMapping:
    document_id: str
    mentions: list[Mention]
    clauses: list[MappedClause]


class Mapper:
    def __init__(self, tree: IndicatorTree, tokenizer: Tokenizer, encoder: Encoder | None = None,
                 embedding_threshold: float = EMBEDDING_THRESHOLD, exemplars: ExemplarModel | None = None,
                 calibration: Calibration | None = None) -> None:
        if (exemplars is None) != (calibration is None):
            raise ValueError("an exemplar model needs its calibration, and a calibration a model")
        self.exemplars = exemplars
        self.calibration = calibration
        self.tree = tree
        self.tokenizer = tokenizer
        self.encoder = encoder or CharNgramEncoder()
        self.embedding_threshold = embedding_threshold
        self.nodes = [loc.node for loc in tree.active()]
        self.index: dict[str, list[tuple[tuple[str, ...], str, str, str]]] = defaultdict(list)
        self.node_tokens: dict[str, set[str]] = defaultdict(set)
        for node in self.nodes:
            for kind, terms in (("name", [node.name]), ("keyword", node.keywords), ("synonym", node.synonyms)):
                for term in terms:
                    seq = tuple(self.tokenizer.tokenize(term)) or (term.lower(),)
                    self.index[seq[0]].append((seq, node.id, kind, term))
                    self.node_tokens[node.id].update(seq)
        vectors = self.encoder.encode([" ".join(node.terms) for node in self.nodes])
        # dense: a tree is small, and sparse clauses times a dense matrix is the fast product
        self.vectors = np.asarray(vectors.toarray() if sp.issparse(vectors) else vectors, dtype=np.float32)
        self.aspect_nodes = self._aspect_nodes()
        self.rules = IndicatorRules(self.nodes, tokenizer)

    def _aspect_nodes(self) -> dict[str, str]:
        """Aspect category → the node named by it (its name or a term) covering most of its vocabulary.

        Vocabulary overlap alone was too loose: 产品质量 shares 做工/用料 with a car's 内饰 indicator,
        and mapped 汽油质量差 there.
        """
        out: dict[str, str] = {}
        for aspect, terms in ASPECT_TERMS.items():
            vocabulary = {aspect, *terms}
            best = max(((len(vocabulary & self.node_tokens[n.id]), not n.is_group, n.id) for n in self.nodes
                        if aspect in self.node_tokens[n.id]), default=(0, False, ""))
            if best[0] > 0:
                out[aspect] = best[2]
        return out

    def term_hits(self, tokens: list[str]) -> list[tuple[str, str, str]]:
        """(node id, kind, term) for each indicator term found in a token sequence."""
        hits = []
        for i, token in enumerate(tokens):
            for seq, node_id, kind, term in self.index.get(token, ()):
                if tuple(tokens[i:i + len(seq)]) == seq:
                    hits.append((node_id, kind, term))
        return hits

    def map(self, doc: DocView) -> DocumentMapping:
        return self.map_many([doc])[0]

    def map_many(self, docs: list[DocView]) -> list[DocumentMapping]:
        """Map a batch; the embedding step runs once over the batch's still-unmapped clauses."""
        states = [self._exact(doc) for doc in docs]
        pending = [(best, doc, m) for (best, clauses), doc in zip(states, docs, strict=True)
                   for m in clauses if not m.indicator_ids and m.tokens]
        if pending and self.nodes:
            similarity = cosine(self.encoder.encode([" ".join(m.tokens) for _, _, m in pending]), self.vectors)
            for (best, doc, mapped), row in zip(pending, similarity, strict=True):
                top = int(np.argmax(row))
                if row[top] >= self.embedding_threshold:
                    clause = mapped.clause
                    _offer(best, mapped, Mention(doc.id, self.nodes[top].id, round(float(row[top]), 4), "embedding",
                                                 clause.label, "", clause.start, clause.end, clause.text))
        if self.exemplars is not None and docs:
            self._decide_by_examples(states, docs)
        return [DocumentMapping(doc.id, self.rules.allowed(list(best.values()), clauses), clauses)
                for (best, clauses), doc in zip(states, docs, strict=True)]

    def _decide_by_examples(self, states: list[tuple[dict[str, Mention], list[MappedClause]]],
                            docs: list[DocView]) -> None:
        """Calibrated per-document decisions for the indicators the example model has heads for."""
        assert self.exemplars is not None and self.calibration is not None
        active = {node.id for node in self.nodes}
        heads = [(j, node_id) for j, node_id in enumerate(self.exemplars.indicator_ids) if node_id in active]
        if not heads:
            return
        segment = self.tokenizer.segment
        probabilities = self.exemplars.probabilities(featurise([doc.text for doc in docs], segment))
        for ((best, clauses), doc), row in zip(zip(states, docs, strict=True), probabilities, strict=True):
            texts = [m for m in clauses if m.clause.text.strip()]
            rates: np.ndarray | None = None  # the heads on each clause, once per document, when needed
            for j, node_id in heads:
                old = best.get(node_id)
                if old is not None and old.via == "rule":
                    continue  # a designer's explicit rule is not second-guessed
                via = old.via if old is not None else ""
                p = self.calibration.probability(via in TERM_VIAS, via == "aspect", float(row[j]))
                if p < self.calibration.threshold:
                    best.pop(node_id, None)
                elif old is not None and via != "embedding":
                    old.score = round(p, 4)
                else:
                    best.pop(node_id, None)
                    if rates is None and texts:
                        rates = self.exemplars.probabilities(featurise([m.clause.text for m in texts], segment))
                    if rates is not None:
                        _example_mention(best, texts, rates[:, j], doc, node_id, round(p, 4))

    def _exact(self, doc: DocView) -> tuple[dict[str, Mention], list[MappedClause]]:
        """Keyword, name, synonym and aspect mentions of one document."""
        best: dict[str, Mention] = {}
        clauses = [MappedClause(c, self.tokenizer.tokenize(c.text)) for c in doc.clauses]
        by_clause = aspects_by_clause(doc.aspects, doc.clauses)
        for mapped, in_clause in zip(clauses, by_clause, strict=True):
            clause = mapped.clause
            aspect = in_clause[0] if in_clause else None
            polarity = aspect["polarity"] if aspect else clause.label
            opinion = aspect["opinion"] if aspect else ""
            mapped.excluded = self.rules.excluded(mapped.tokens)
            for node_id, match in self.rules.hits(mapped.tokens, mapped.excluded):
                _offer(best, mapped, Mention(doc.id, node_id, SCORES["rule"], "rule", polarity, match.term[:128],
                                             clause.start, clause.end, clause.text, opinion))
            for node_id, kind, term in self.term_hits(mapped.tokens):
                _offer(best, mapped, Mention(doc.id, node_id, SCORES[kind], kind, polarity, term, clause.start,
                                             clause.end, clause.text, opinion))
            for item in in_clause:
                node_id = self.aspect_nodes.get(item.get("aspect", ""))
                if node_id and node_id not in mapped.indicator_ids:
                    _offer(best, mapped, Mention(doc.id, node_id, SCORES["aspect"], "aspect", item["polarity"],
                                                 item["aspect"], clause.start, clause.end, clause.text,
                                                 item.get("opinion", "")))
        return best, clauses

    def map_terms(self, keywords: list[str], label: str = "") -> list[tuple[str, float, str]]:
        """Indicators a keyword list (a topic, a candidate) is about: (id, score, via), best first.

        Score: the rank-weighted share of keywords that are an indicator's terms, or, where higher,
        the embedding similarity of label and keywords to the indicator.
        """
        if not keywords or not self.nodes:
            return []
        weights = [1.0 / (1 + rank) for rank in range(len(keywords))]
        total = sum(weights)
        scores: dict[str, tuple[float, str]] = {}
        for keyword, weight in zip(keywords, weights, strict=True):
            tokens = tuple(self.tokenizer.tokenize(keyword)) or (keyword.lower(),)
            for node_id in {n for n, _, _ in self.term_hits(list(tokens))}:
                value = scores.get(node_id, (0.0, "keyword"))[0] + weight / total
                scores[node_id] = (value, "keyword")
        text = " ".join([label, *keywords]).strip()
        similarity = cosine(self.encoder.encode([text]), self.vectors)[0]
        for i, node in enumerate(self.nodes):
            if similarity[i] > scores.get(node.id, (0.0, ""))[0]:
                scores[node.id] = (float(similarity[i]), "embedding")
        ranked = sorted(((node_id, round(s, 4), via) for node_id, (s, via) in scores.items() if s > 0),
                        key=lambda item: -item[1])
        return ranked


def _example_mention(best: dict[str, Mention], clauses: list[MappedClause], rates: np.ndarray, doc: DocView,
                     node_id: str, score: float) -> None:
    """Evidence for an indicator found by examples: the clause its head rates highest, of those its
    exclude rule leaves."""
    allowed = [i for i, m in enumerate(clauses) if node_id not in m.excluded]
    if not allowed:
        return
    mapped = clauses[max(allowed, key=lambda i: float(rates[i]))]
    clause = mapped.clause
    aspect = _aspect_in(doc.aspects, clause)
    _offer(best, mapped, Mention(doc.id, node_id, score, "example", aspect["polarity"] if aspect else clause.label,
                                 "", clause.start, clause.end, clause.text, aspect["opinion"] if aspect else ""))


def _offer(best: dict[str, Mention], mapped: MappedClause, mention: Mention) -> None:
    if mention.indicator_id in mapped.excluded:
        return
    mapped.indicator_ids.add(mention.indicator_id)
    old = best.get(mention.indicator_id)
    if old is None or mention.score > old.score:
        best[mention.indicator_id] = mention


def aspects_by_clause(aspects: list[dict[str, Any]], clauses: list[ClauseView],
                      key: str = "start") -> list[list[dict[str, Any]]]:
    """The aspects whose ``key`` offset (the opinion's ``start``, or ``term_start``) lies in each
    clause, in one pass (not clauses x aspects: a tagger gives one aspect per term, and a long
    repetitive text has thousands of both). Clauses are in text order."""
    starts = [c.start for c in clauses]
    out: list[list[dict[str, Any]]] = [[] for _ in clauses]
    for item in aspects:
        position = int(item.get(key, -1))
        index = bisect.bisect_right(starts, position) - 1
        if index >= 0 and position < clauses[index].end:
            out[index].append(item)
    return out


def _aspect_in(aspects: list[dict[str, Any]], clause: ClauseView) -> dict[str, Any] | None:
    return next((a for a in aspects if clause.start <= int(a.get("start", -1)) < clause.end), None)
