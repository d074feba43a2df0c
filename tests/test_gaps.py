"""Gap suggestion parts: the general-Chinese background, contextual vectors' fallback, theme grouping."""

from __future__ import annotations

from collections import Counter

import numpy as np

from voc.indicators.gaps.background import background, log_odds
from voc.indicators.gaps.collect import GapCollector, TermEvidence
from voc.indicators.gaps.contextual import ContextualTerms
from voc.indicators.gaps.group import group_terms


def test_log_odds_ranks_everyday_words_below_domain_words() -> None:
    freq, total = background()
    assert freq["觉得"] > 1000 and total > 10_000_000
    # same corpus count: the word general Chinese uses a lot is the less specific one
    assert log_odds(50, 10_000, "觉得") < log_odds(50, 10_000, "物流") - 2
    assert log_odds(50, 10_000, "补水效果") >= log_odds(50, 10_000, "效果")  # a compound: its rarest part


class _Broken:
    _session = None

    def _load(self) -> None:
        raise ImportError("onnxruntime")


def test_contextual_vectors_fall_back_to_nothing_without_the_encoder() -> None:
    terms = ContextualTerms(embedder=_Broken())
    assert terms.vectors({"物流": [("物流很快", 0, 2)]}) == {}
    assert not terms.available


def _collector(docs: dict[str, set[str]]) -> GapCollector:
    collector = GapCollector.__new__(GapCollector)
    collector.terms = {term: TermEvidence(clauses=len(ids), docs={d: ("", "neutral") for d in ids},
                                          cooc=Counter()) for term, ids in docs.items()}
    return collector


def test_grouping_joins_compounds_shared_evidence_and_close_vectors_only() -> None:
    collector = _collector({"快递": {"1", "2", "3"}, "快递员": {"4", "5"}, "包装": {"6", "7", "8"},
                            "盒子": {"7", "8"}, "味道": {"9", "10"}, "香味": {"11", "12"}})
    a, b, far = np.array([1.0, 0.0, 0.0]), np.array([0.8, 0.6, 0.0]), np.array([0.0, 0.0, 1.0])
    vectors = {"味道": a, "香味": b, "快递": far, "快递员": far, "包装": np.array([0.0, 1.0, 0.0]),
               "盒子": np.array([0.5, 0.0, 0.5])}  # linked to 包装 only by shared evidence
    groups = group_terms(collector, ["快递", "包装", "味道", "快递员", "盒子", "香味"], vectors)
    assert sorted(map(sorted, groups)) == [["包装", "盒子"], ["味道", "香味"], ["快递", "快递员"]]
    assert len(group_terms(collector, ["味道", "香味"], {})) == 2  # no encoder, no shared evidence: apart
