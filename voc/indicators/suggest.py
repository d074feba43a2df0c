"""Turn candidate groups into suggested indicators: name, definition, parent, evidence, priority.

Priority (0–100) = 100 × (0.45 × volume + 0.35 × negative rate + 0.2 × growth), where volume is the
share of documents saturating at 5% and growth is the rise of that share from the earlier to the
later half of the time span, clipped to [0, 1]. Complaints that are frequent and rising come first.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from voc.indicators.candidates import CandidateGroup
from voc.indicators.corpus import DocView
from voc.indicators.coverage import growth
from voc.indicators.gaps.kinds import KEYWORD_SIMILARITY
from voc.indicators.mapping import Mapper
from voc.indicators.model import IndicatorTree

QUOTES = 5
OPINIONS = 6  # opinion phrases kept to write a definition and a question from
COVERED_SCORE = 0.5  # a candidate whose keywords map this well to an indicator is not a gap
SATURATING_SHARE = 0.05


def fingerprint(keywords: list[str]) -> str:
    key = "\x1f".join(sorted(keywords[:3]))
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def suggestion_id(name: str) -> str:
    return "s-" + hashlib.blake2b(name.encode("utf-8"), digest_size=5).hexdigest()


class Suggester:
    def __init__(self, tree: IndicatorTree, mapper: Mapper, docs: dict[str, DocView],
                 doc_mentions: dict[str, set[str]],
                 nearest: dict[str, tuple[str | None, float]] | None = None) -> None:
        self.tree = tree
        self.mapper = mapper
        self.docs = docs
        self.doc_mentions = doc_mentions  # doc id -> indicator ids mentioned in it
        self.nearest = nearest or {}  # group key -> (nearest indicator by contextual centroid, similarity)
        self.all_dates = [d.created_at for d in docs.values() if d.created_at is not None]
        self.parents = {loc.node.id: loc.parent.id if loc.parent else None for loc in tree.walk()}

    def suggest(self, groups: list[CandidateGroup], min_count: int) -> list[dict[str, Any]]:
        out = []
        for group in groups:
            if len(group.document_ids) < min_count:
                continue
            mapped = self.mapper.map_terms(group.keywords, group.label if group.source == "topic" else "")
            if mapped and mapped[0][1] >= COVERED_SCORE:
                continue
            out.append(self.describe(group))
        out.sort(key=lambda s: (-s["priority"], s["id"]))
        return out

    def describe(self, group: CandidateGroup) -> dict[str, Any]:
        total = len(self.docs) or 1
        doc_ids = [d for d in group.document_ids if d in self.docs]
        count = len(doc_ids)
        polarity = Counter(group.evidence[d][1] for d in doc_ids)
        negative_rate = polarity["negative"] / count if count else 0.0
        dates = [self.docs[d].created_at for d in doc_ids if self.docs[d].created_at is not None]
        rise = growth([d for d in dates if d is not None], self.all_dates)
        share = count / total
        volume = min(1.0, share / SATURATING_SHARE)
        priority = 100 * (0.45 * volume + 0.35 * negative_rate + 0.2 * min(max(rise or 0.0, 0.0), 1.0))
        name = group.keywords[0] if group.source != "topic" else _topic_name(group)
        opinions = self.opinions(doc_ids, group)
        parent = self.parent_for(doc_ids, group)
        target, similarity = self.nearest.get(group.key, (None, 0.0))
        kind = "keyword" if target and similarity >= KEYWORD_SIMILARITY else "indicator"
        return {
            "id": suggestion_id(name),
            "name": name,
            "kind": kind,  # keyword: add the words to `target`; indicator: a new indicator under `parent`
            "target": target if kind == "keyword" else None,
            "nearest_indicator": {"id": target, "similarity": round(similarity, 3)} if target else None,
            "definition": _definition(name, group.keywords, opinions, negative_rate),
            "keywords": group.keywords,
            "parent": parent,
            "priority": round(priority, 1),
            "survey_question": _question(name, negative_rate, opinions),
            "sources": group.sources,
            "fingerprint": fingerprint(group.keywords),
            "evidence": {
                "count": count,
                "share": round(share, 4),
                "negative_rate": round(negative_rate, 4),
                "growth": rise,
                "quotes": _quotes(group, doc_ids),
                "sources": dict(Counter(self.docs[d].source for d in doc_ids)),
                "document_ids": doc_ids,
            },
        }

    def opinions(self, doc_ids: list[str], group: CandidateGroup) -> list[tuple[str, str, int]]:
        """What customers say about the theme: the opinion spans the tagger paired with its terms in the
        evidence documents, (phrase, polarity, documents), most frequent first."""
        counts: Counter[tuple[str, str]] = Counter()
        for doc_id in doc_ids:
            seen = set()
            for aspect in self.docs[doc_id].aspects:
                term, phrase = aspect.get("term") or "", _phrase(aspect.get("opinion") or "")
                if phrase and term and any(k in term or term in k for k in group.keywords):
                    seen.add((phrase, aspect.get("polarity") or "neutral"))
            counts.update(seen)
        return [(phrase, polarity, n) for (phrase, polarity), n in counts.most_common(OPINIONS)]

    def parent_for(self, doc_ids: list[str], group: CandidateGroup) -> str | None:
        """The group whose indicators the evidence documents mention most; else the closest by terms."""
        votes: Counter[str] = Counter()
        for doc_id in doc_ids:
            seen = {self._group_of(i) for i in self.doc_mentions.get(doc_id, ())}
            votes.update(g for g in seen if g)
        if votes:
            return votes.most_common(1)[0][0]
        for node_id, score, _ in self.mapper.map_terms(group.keywords):
            if score >= 0.15:
                return self._group_of(node_id)
        return None

    def _group_of(self, node_id: str) -> str | None:
        located = self.tree.find(node_id)
        if located is None:
            return None
        return node_id if located.node.is_group else self.parents.get(node_id)


def _topic_name(group: CandidateGroup) -> str:
    return "".join(group.keywords[:1]) or group.label


def _phrase(opinion: str) -> str:
    """An opinion span as a phrase to quote: edge particles and punctuation off (太慢了！ → 太慢)."""
    return opinion.strip(" ，。！？!?,.~～、…了的啊呀吧呢哦").strip()[:12]


def _definition(name: str, keywords: list[str], opinions: list[tuple[str, str, int]], negative_rate: float) -> str:
    """Written from the evidence: what customers say about the theme and how often it is a complaint."""
    related = "、".join(k for k in keywords[:5] if k != name)
    scope = f"（也说{related}）" if related else ""
    if not opinions:
        return f"客户对“{name}”{scope}的体验与评价；证据中{negative_rate:.0%}为负面。"
    negative = [p for p, polarity, _ in opinions if polarity == "negative"][:3]
    positive = [p for p, polarity, _ in opinions if polarity == "positive"][:2]
    parts = []
    if negative:
        parts.append("不满集中在" + "、".join(f"“{p}”" for p in negative))
    if positive:
        parts.append("好评多说" + "、".join(f"“{p}”" for p in positive))
    if not parts:
        parts.append("常见说法有" + "、".join(f"“{p}”" for p, _, _ in opinions[:3]))
    return f"客户对“{name}”{scope}的评价：{'；'.join(parts)}。证据中{negative_rate:.0%}为负面。"


def _question(name: str, negative_rate: float, opinions: list[tuple[str, str, int]]) -> str:
    complaint = next((p for p, polarity, _ in opinions if polarity == "negative"), "")
    if negative_rate >= 0.4:  # mostly complaints: ask whether the typical problem happened, then why
        problem = f"“{complaint}”等" if complaint else ""
        return f"最近一次体验中，“{name}”方面是否遇到过{problem}问题？如有，请简要说明。"
    return f"您对“{name}”的满意程度如何？（1-10分，10分为非常满意）"


def _quotes(group: CandidateGroup, doc_ids: list[str]) -> list[dict[str, Any]]:
    """Five distinct quotes, complaints first (what a metric designer needs to see), shortest-clear first."""
    ranked = sorted(doc_ids, key=lambda d: (group.evidence[d][1] != "negative", group.evidence[d][1] == "neutral",
                                            abs(len(group.evidence[d][0]) - 20), d))
    out, seen = [], set()
    for doc_id in ranked:
        text, polarity = group.evidence[doc_id]
        if text in seen:
            continue
        seen.add(text)
        out.append({"document_id": doc_id, "text": text, "polarity": polarity})
        if len(out) == QUOTES:
            break
    return out
