"""Topic builds at scale: stratified sample, approximate k-NN graph, every document assigned in batches."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score
from sqlalchemy import select

from voc.settings import VocSettings
from voc.store import documents
from voc.topics.model import TopicModel
from voc.topics.reduction import knn_graph
from voc.topics.sampling import ASSIGN_TICKS, allocate, assign_batches, stratified_sample
from voc.topics.service import match_topic_ids, match_topic_ids_by_counts

THEMES = {
    "logistics": ["快递", "物流", "配送", "包裹", "快递员", "驿站", "发货", "签收", "运单", "揽收"],
    "taste": ["味道", "口感", "好吃", "香菜", "太咸", "米饭", "分量", "汤汁", "辣椒", "油腻"],
    "billing": ["话费", "套餐", "扣费", "流量", "账单", "月租", "退费", "营业厅", "短信", "宽带"],
    "property": ["物业", "电梯", "保安", "小区", "停车位", "绿化", "物业费", "门禁", "垃圾", "维修"],
}
FILLER = ["这次", "真的", "有点", "非常", "我们", "一直", "希望", "今天", "上次", "还是", "已经", "马上",
          "昨天", "朋友", "家里", "下午", "晚上", "周末", "老板", "客服"]


def corpus(per_theme: int, seed: int = 0) -> tuple[list[list[str]], list[str], list[str]]:
    rng = random.Random(seed)
    tokens, texts, labels = [], [], []
    for theme, words in THEMES.items():
        for _ in range(per_theme):
            doc = rng.sample(words, 4) + rng.sample(FILLER, 4)
            rng.shuffle(doc)
            tokens.append(doc)
            texts.append("".join(doc))
            labels.append(theme)
    return tokens, texts, labels


def test_allocation_is_proportional_with_a_minimum_for_every_non_empty_stratum() -> None:
    counts = np.array([5000, 3000, 1500, 40, 7, 1])
    taken = allocate(counts, 1000, min_per_stratum=20)
    assert taken.sum() == 1000
    assert (taken >= np.minimum(counts, 20)).all() and (taken <= counts).all()
    assert taken[3] == 20 and taken[4] == 7 and taken[5] == 1  # small strata: the minimum or all they have
    big = taken[:3] / taken[:3].sum()
    assert np.allclose(big, counts[:3] / counts[:3].sum(), atol=0.01)  # the rest in proportion
    # more strata than the minimum allows: one document each, still every stratum
    assert (allocate(np.full(50, 10), 30, min_per_stratum=20) == 1).all()
    assert (allocate(counts, 10**6, min_per_stratum=20) == counts).all()  # a sample as big as the corpus


def test_stratified_sample_covers_every_stratum_and_is_deterministic_per_seed() -> None:
    rng = random.Random(1)
    keys = [f"2026-{rng.choice(['01', '02', '03'])}\x1f{rng.choice(['review', 'hotline'])}\x1f"
            f"{rng.choice(['food', 'telecom', 'bank'])}" for _ in range(20_000)]
    keys += ["2025-12\x1fsurvey\x1fhotel"] * 3  # a tiny stratum
    first = stratified_sample(keys, 2000, min_per_stratum=20, seed=0)
    assert first.size == 2000 and np.unique(first).size == 2000
    assert {keys[i] for i in first} == set(keys)
    assert sum(keys[i] == "2025-12\x1fsurvey\x1fhotel" for i in first) == 3
    assert np.array_equal(first, stratified_sample(keys, 2000, min_per_stratum=20, seed=0))
    assert not np.array_equal(first, stratified_sample(keys, 2000, min_per_stratum=20, seed=1))


def test_approximate_knn_graph_recalls_the_exact_one() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 64))
    points = centres[rng.integers(0, 30, 6000)] + 0.6 * rng.normal(size=(6000, 64))
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    exact = knn_graph(points, 15)
    approx = knn_graph(points, 15, approximate=True, threads=1)
    again = knn_graph(points, 15, approximate=True, threads=1)
    assert (approx != again).nnz == 0  # the same seed builds the same graph
    shared = exact.multiply(approx > 0).nnz  # edges of the exact graph the approximate one has
    assert shared / exact.nnz >= 0.85
    assert approx.diagonal().sum() == 0 and (approx != approx.T).nnz == 0  # no self loops, symmetric


def test_a_sampled_fit_assigns_every_document_close_to_the_exact_fit() -> None:
    tokens, texts, labels = corpus(600)
    exact = TopicModel().fit(tokens, texts)
    fitted = stratified_sample([lab[0] for lab in labels], 600, min_per_stratum=20, seed=0)
    model = TopicModel()
    fit = model.fit([tokens[i] for i in fitted], [texts[i] for i in fitted])
    ticks: list[str] = []
    batches = ((np.arange(s, min(s + 500, len(texts))), tokens[s:s + 500], texts[s:s + 500])
               for s in range(0, len(texts), 500))
    assigned = np.full(len(texts), -2)
    for positions, found in assign_batches(model, batches, fitted, fit.labels, len(texts), ticks.append):
        assigned[positions] = found
    assert (assigned >= -1).all() and ticks == ["assign"] * ASSIGN_TICKS
    assert np.array_equal(assigned[fitted], fit.labels)  # a fitted document keeps its fitted topic
    exact_nmi = normalized_mutual_info_score(labels, exact.labels)
    assert exact_nmi > 0.9
    assert normalized_mutual_info_score(labels, assigned) >= exact_nmi - 0.02


def test_id_matching_by_counts_is_the_matching_by_document_sets() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        old = rng.choice([-2, -1, 4, 7, 9, 12], size=300)
        new = np.where(rng.random(300) < 0.7, np.searchsorted([4, 7, 9, 12], old) % 5, rng.integers(-1, 5, 300))
        new = np.where(old < 0, rng.integers(-1, 5, 300), new)
        sets = [{i for i in range(300) if new[i] == t} for t in range(int(new.max()) + 1)]
        old_sets = {t: {i for i in range(300) if old[i] == t} for t in (4, 7, 9, 12) if (old == t).any()}
        assert match_topic_ids_by_counts(new, old, 20) == match_topic_ids(sets, old_sets, 20)


def _write_feedback(path: Path, per_theme: int) -> dict[str, str]:
    _, texts, labels = corpus(per_theme, seed=5)
    theme_of = {}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "time", "industry"])
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            writer.writerow([f"r{i}", text, f"2026-0{1 + i % 3}-1{i % 9}", ["food", "telecom"][i % 2]])
            theme_of[text] = label
    return theme_of


def _topics_by_text(service) -> dict[str, int]:
    with service.store.engine.connect() as conn:
        return {row.text: row.topic_id for row in conn.execute(select(documents.c.text, documents.c.topic_id))}


def _nmi(service, theme_of: dict[str, str]) -> float:
    topics = _topics_by_text(service)
    return normalized_mutual_info_score([theme_of.get(t, "?") for t in topics], list(topics.values()))


def test_a_sampled_build_assigns_every_stored_document_with_stable_ids(tmp_path: Path) -> None:
    from voc.service import Voc

    settings = VocSettings(home=tmp_path / "home", workers=1, analysis_stages=[], topic_sample_threshold=500,
                           topic_sample_size=400, topic_sample_min_per_stratum=5)
    voc = Voc(settings)
    try:
        theme_of = _write_feedback(tmp_path / "feedback.csv", 200)
        voc.ingest(tmp_path / "feedback.csv", "review")
        exact = voc.topics.build(sample=10**6)  # a sample as large as the scope: every document fitted
        assert exact.n_fitted == exact.n_documents
        exact_nmi = _nmi(voc, theme_of)
        ticks: list[str] = []
        first = voc.topics.build(progress=ticks.append)  # above the threshold: sampled
        assert first.n_fitted == 400 < first.n_documents and ticks.count("assign") == ASSIGN_TICKS
        topics = _topics_by_text(voc)
        assert None not in topics.values()  # every document, sampled or not, has a topic (or -1)
        assert _nmi(voc, theme_of) >= exact_nmi - 0.05 and exact_nmi > 0.7
        assert sum(t.size for t in voc.topics.list_topics()) == sum(v >= 0 for v in topics.values())
        again = voc.topics.build()  # same documents, same seed: the same topics under the same ids
        assert again.carried_over == again.n_topics == first.n_topics
        assert _topics_by_text(voc) == topics
        with pytest.raises(ValueError, match="positive"):
            voc.topics.build(sample=0)
    finally:
        voc.close()
