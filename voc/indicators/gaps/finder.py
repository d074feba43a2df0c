"""One pass over the corpus that finds the gaps: map every document, collect candidate terms, group them
into themes, add topic candidates, and hand the groups to the suggester.

``find_gaps`` returns the suggestions together with the intermediate parts (collector, vectors,
groups), so the bench and the tests can see why a theme came out as it did; the service only stores
the suggestions and the mapping written on the way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voc.indicators.candidates import CandidateGroup, merge_candidates, topic_groups
from voc.indicators.corpus import DocView
from voc.indicators.gaps.collect import GapCollector
from voc.indicators.gaps.contextual import ContextualTerms
from voc.indicators.gaps.group import candidate_groups, group_terms
from voc.indicators.gaps.kinds import indicator_centroids, nearest_indicator
from voc.indicators.mapping import Mapper
from voc.indicators.model import IndicatorTree
from voc.indicators.suggest import Suggester

MAX_CANDIDATES = 300  # candidate terms given to the encoder (by volume), bounds the CPU cost
TOPIC_COVERED = 0.5  # a topic whose documents mostly mention an indicator already is no gap


@dataclass(slots=True)
class GapRun:
    suggestions: list[dict[str, Any]]
    collector: GapCollector
    vectors: dict[str, np.ndarray]
    groups: list[CandidateGroup]
    min_count: int
    docs: dict[str, DocView] = field(default_factory=dict)


def find_gaps(tree: IndicatorTree, mapper: Mapper, batches: Iterable[list[DocView]],
              contextual: ContextualTerms, *, min_count: Callable[[int], int],
              topic_keywords: Callable[[], dict[int, list[str]]] | None = None,
              on_mapped: Callable[[list[DocView], list[dict[str, Any]]], None] | None = None) -> GapRun:
    """``min_count(n_docs)`` gives the volume bar once the corpus is counted; ``on_mapped`` receives each
    batch's indicator mentions (the service stores them); ``topic_keywords`` adds topic candidates."""
    collector = GapCollector(mapper)
    docs: dict[str, DocView] = {}
    doc_mentions: dict[str, set[str]] = {}
    topic_members: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
    topic_labels: dict[int, str] = {}
    for batch in batches:
        mentions = []
        for doc, mapping in zip(batch, mapper.map_many(batch), strict=True):
            collector.add(doc, mapping)
            mentions.extend(m.to_dict() for m in mapping.mentions)
            doc_mentions[doc.id] = {m.indicator_id for m in mapping.mentions}
            if doc.topic_id is not None and doc.topic_id >= 0:
                quote = doc.clauses[0].text if len(doc.clauses) == 1 else doc.text[:120]
                topic_members[doc.topic_id][doc.id] = (quote, doc.sentiment)
                topic_labels.setdefault(doc.topic_id, doc.topic_label or "")
            # keep only what evidence needs: the opinions said about terms write the drafts
            doc.text, doc.clauses = "", []
            doc.aspects = [{"term": a["term"], "opinion": a.get("opinion") or "", "polarity": a.get("polarity")}
                           for a in doc.aspects if a.get("term") and a.get("opinion")]
            docs[doc.id] = doc
        if on_mapped:
            on_mapped(batch, mentions)
    bar = min_count(len(docs))
    # seeds may be smaller than a suggestion: 省油 and 百公里 only reach the volume together
    terms = collector.candidates(max(2, bar // 2))[:MAX_CANDIDATES]
    vectors = contextual.vectors({t: collector.terms[t].contexts for t in terms})
    groups = candidate_groups(collector, group_terms(collector, terms, vectors))
    if topic_keywords is not None:
        for group in topic_groups(topic_members, topic_labels, topic_keywords()):
            covered = sum(1 for d in group.document_ids if doc_mentions.get(d)) / len(group.document_ids)
            if covered < TOPIC_COVERED:
                groups.append(group)
    centroids = indicator_centroids(mapper, collector, contextual) if vectors else {}
    nearest = {g.key: nearest_indicator(g.keywords, vectors, centroids) for g in groups}
    suggester = Suggester(tree, mapper, docs, doc_mentions, nearest)
    suggestions = suggester.suggest(merge_candidates(groups), bar)
    return GapRun(suggestions=suggestions, collector=collector, vectors=vectors, groups=groups, min_count=bar,
                  docs=docs)
