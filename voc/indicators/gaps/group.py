"""One candidate group per theme: candidate terms joined on four signals.

Two candidates are the same theme when

* one contains the other (a compound and its head: 快递 / 快递员, 空间 / 后排空间);
* their standing evidence is mostly the same documents (``overlap``: containment of the smaller set);
* their contextual encoder vectors are close (``encoder_alone``), or fairly close (``encoder_with``) and
  backed by a corpus signal: they co-occur in the same clauses (``cooccur``) or share a character, or
  each is the other's nearest candidate at ``encoder_mutual`` or more (bge's cosines between any two
  review words sit near 0.4, so a mutual nearest pair at 0.5 — 活动 / 赠品 — is a strong signal).

The encoder alone is too noisy to cluster on (ARI 0.24 on hand-labelled car terms), so the lower bar
needs corpus support. Terms join in order of volume; a term joins the first group whose head, or half of
whose members, it is linked to (no chaining through one loose pair).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voc.indicators.candidates import CandidateGroup
from voc.indicators.gaps.collect import GapCollector


@dataclass(slots=True)
class GroupSettings:
    overlap: float = 0.5
    encoder_alone: float = 0.75
    encoder_with: float = 0.6
    encoder_mutual: float = 0.5
    cooccur: float = 0.1
    max_keywords: int = 8


def nearest(terms: list[str], vectors: dict[str, np.ndarray]) -> dict[str, str]:
    """Each term's nearest other candidate by contextual vector."""
    keys = [t for t in terms if t in vectors]
    if len(keys) < 2:
        return {}
    matrix = np.stack([vectors[t] for t in keys])
    similarity = matrix @ matrix.T
    np.fill_diagonal(similarity, -1.0)
    return {t: keys[int(j)] for t, j in zip(keys, similarity.argmax(axis=1), strict=True)}


def linked(collector: GapCollector, a: str, b: str, vectors: dict[str, np.ndarray], s: GroupSettings,
           near: dict[str, str] | None = None) -> bool:
    if a in b or b in a:
        return True
    docs_a, docs_b = collector.terms[a].docs, collector.terms[b].docs
    small = min(len(docs_a), len(docs_b)) or 1
    if len(docs_a.keys() & docs_b.keys()) / small >= s.overlap:
        return True
    if a not in vectors or b not in vectors:
        return False
    similarity = float(vectors[a] @ vectors[b])
    if similarity >= s.encoder_alone:
        return True
    if near and near.get(a) == b and near.get(b) == a and similarity >= s.encoder_mutual:
        return True
    support = collector.cooccurrence(a, b) >= s.cooccur or bool(set(a) & set(b))
    return similarity >= s.encoder_with and support


def group_terms(collector: GapCollector, terms: list[str], vectors: dict[str, np.ndarray],
                settings: GroupSettings | None = None) -> list[list[str]]:
    s = settings or GroupSettings()
    near = nearest(terms, vectors)
    groups: list[list[str]] = []
    for term in terms:
        home = None
        for members in groups:
            links = sum(linked(collector, term, m, vectors, s, near) for m in members)
            if linked(collector, term, members[0], vectors, s, near) or links * 2 >= len(members) + 1:
                home = members
                break
        if home is None:
            groups.append([term])
        elif len(home) < s.max_keywords:
            home.append(term)
    return groups


def candidate_groups(collector: GapCollector, groups: list[list[str]]) -> list[CandidateGroup]:
    out = []
    for members in groups:
        evidence: dict[str, tuple[str, str]] = {}
        for term in members:
            for doc_id, quote in collector.terms[term].docs.items():
                evidence.setdefault(doc_id, quote)
        out.append(CandidateGroup(key=f"term:{members[0]}", label=members[0], keywords=members,
                                  document_ids=sorted(evidence), source="aspect_term", evidence=evidence))
    return out
