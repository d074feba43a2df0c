"""Candidate groups of documents that may deserve an indicator: from topics and from aspect terms.

Every producer yields ``CandidateGroup``s (a key, a label, keywords, document ids and, per
document, the quote and polarity that make it evidence); ``merge_candidates`` folds near-duplicates
together, whatever their source, and ``voc.indicators.suggest`` turns what is left into suggestions.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass(slots=True)
class CandidateGroup:
    key: str
    label: str
    keywords: list[str]
    document_ids: list[str]
    source: str  # "topic" | "aspect_term" (merged groups: "aspect_term+topic")
    evidence: dict[str, tuple[str, str]] = field(default_factory=dict)  # doc id -> (quote, polarity)

    @property
    def sources(self) -> list[str]:
        return sorted(set(self.source.split("+")))


def topic_groups(members: dict[int, dict[str, tuple[str, str]]], labels: dict[int, str],
                 topic_keywords: dict[int, list[str]]) -> list[CandidateGroup]:
    """One group per topic (outliers, -1, are never passed in): members are doc id -> (quote, polarity)."""
    out = []
    for topic_id, evidence in sorted(members.items()):
        label = labels.get(topic_id) or f"topic {topic_id}"
        keywords = topic_keywords.get(topic_id) or [w for w in re.split(r"[\s_,，、/|]+", label) if w]
        out.append(CandidateGroup(key=f"topic:{topic_id}", label=label, keywords=keywords[:10],
                                  document_ids=sorted(evidence), source="topic", evidence=dict(evidence)))
    return out


def merge_candidates(groups: list[CandidateGroup], keyword_jaccard: float = 0.34,
                     doc_overlap: float = 0.6) -> list[CandidateGroup]:
    """Fold near-duplicates: the same head word (a reviewer would see two suggestions of one name, as
    when a topic and an aspect term both lead with 空调), shared keywords (Jaccard) or mostly the
    same documents (containment)."""
    parent = list(range(len(groups)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    doc_sets = [set(g.document_ids) for g in groups]
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            a, b = set(groups[i].keywords), set(groups[j].keywords)
            same_head = bool(a and b) and groups[i].keywords[0] == groups[j].keywords[0]
            same_words = same_head or (bool(a and b) and len(a & b) / len(a | b) >= keyword_jaccard)
            small = min(len(doc_sets[i]), len(doc_sets[j])) or 1
            same_docs = len(doc_sets[i] & doc_sets[j]) / small >= doc_overlap
            if same_words or same_docs:
                parent[root(j)] = root(i)
    clusters: dict[int, list[CandidateGroup]] = defaultdict(list)
    for i, group in enumerate(groups):
        clusters[root(i)].append(group)
    return [_fold(members) for members in clusters.values()]


def _fold(members: list[CandidateGroup]) -> CandidateGroup:
    if len(members) == 1:
        return members[0]
    members = sorted(members, key=lambda g: -len(g.document_ids))
    evidence: dict[str, tuple[str, str]] = {}
    for group in members:
        for doc_id, quote in group.evidence.items():
            evidence.setdefault(doc_id, quote)
    counts: Counter[str] = Counter()
    for group in members:
        for rank, word in enumerate(group.keywords):
            counts[word] += len(group.document_ids) / (1 + rank)
    sources = sorted({s for g in members for s in g.sources})
    return CandidateGroup(key=members[0].key, label=members[0].label,
                          keywords=[w for w, _ in counts.most_common(10)], document_ids=sorted(evidence),
                          source="+".join(sources), evidence=evidence)
