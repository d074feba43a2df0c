"""The refinement step: documents' words re-decide topics the clustering got wrong, without letting a broad
topic absorb the specific ones, and new documents land where the same words landed in the fit."""

from __future__ import annotations

import pickle
import random

import numpy as np

from voc.topics.model import TopicModel
from voc.topics.refinement import CrossFitRefiner, NoRefinement

THEMES = {
    "logistics": ["快递", "物流", "配送", "包裹", "快递员", "驿站", "发货", "签收"],
    "taste": ["味道", "口感", "好吃", "香菜", "太咸", "米饭", "分量", "汤汁"],
    "billing": ["话费", "套餐", "扣费", "流量", "账单", "月租", "退费", "营业厅"],
}
FILLER = ["这次", "真的", "有点", "非常", "我们", "一直", "希望", "今天"]


def corpus(per_theme: int = 120, seed: int = 0) -> tuple[list[list[str]], np.ndarray]:
    rng = random.Random(seed)
    tokens, truth = [], []
    for index, words in enumerate(THEMES.values()):
        for _ in range(per_theme):
            tokens.append(rng.sample(words, 4) + rng.sample(FILLER, 3))
            truth.append(index)
    return tokens, np.array(truth)


def test_mislabelled_documents_move_to_the_topic_their_words_belong_to() -> None:
    tokens, truth = corpus()
    labels = truth.copy()
    wrong = np.random.default_rng(0).choice(len(labels), size=len(labels) // 8, replace=False)
    labels[wrong] = (labels[wrong] + 1) % len(THEMES)
    refined = CrossFitRefiner().fit_refine(tokens, labels)
    assert (labels == truth).mean() < 0.9
    assert (refined == truth).mean() > 0.98
    assert (refined[wrong] == truth[wrong]).mean() > 0.95


def test_a_broad_topic_does_not_absorb_a_specific_one() -> None:
    """One business's feedback: most reviews are general praise, a few are about noise. Some general
    reviews mention noise in passing, so the noise words are no monopoly of the small topic; without
    balanced class weights the broad topic takes every noise review."""
    rng = random.Random(1)
    general = ["酒店", "房间", "不错", "干净", "服务", "前台", "早餐", "位置", "方便", "热情"]
    noise = ["隔音", "吵", "噪音", "隔壁"]
    tokens = [rng.sample(general, 5) + (rng.sample(noise, 1) if rng.random() < 0.1 else []) for _ in range(600)]
    tokens += [rng.sample(general, 4) + rng.sample(noise, 1) for _ in range(40)]
    labels = np.array([0] * 600 + [1] * 40)
    refined = CrossFitRefiner().fit_refine(tokens, labels)
    assert (refined[600:] == 1).mean() > 0.9
    quiet = [i for i in range(600) if not set(tokens[i]) & set(noise)]
    assert (refined[quiet] == 0).mean() > 0.95


def test_outliers_and_unknown_word_documents_keep_their_labels_and_topics_stay_consecutive() -> None:
    tokens, truth = corpus(per_theme=60)
    labels = np.where(truth == 2, 5, truth)  # indices with gaps (0, 1, 5) come back as 0, 1, 2
    labels[:5] = -1
    tokens.append(["独一无二"])  # below min_df: no feature to judge it by
    labels = np.append(labels, 1)
    refined = CrossFitRefiner().fit_refine(tokens, labels)
    assert (refined[:5] == -1).all()
    assert refined[-1] == 1
    assert np.array_equal(refined[5:-1], truth[5:])


def test_predict_picks_the_topic_of_the_words_and_abstains_on_unknown_ones() -> None:
    refiner = CrossFitRefiner()
    assert refiner.predict([["快递"]]) is None  # before fitting it has no opinion
    tokens, truth = corpus()
    refiner.fit_refine(tokens, truth)
    chosen = refiner.predict([["话费", "扣费", "套餐"], ["驿站", "签收"], ["量子", "纠缠"]])
    assert chosen is not None
    assert chosen.tolist() == [2, 0, -1]


def test_nothing_to_refine_leaves_labels_alone() -> None:
    tokens, truth = corpus(per_theme=30)
    one_topic = np.zeros(len(tokens), dtype=np.int64)
    assert np.array_equal(CrossFitRefiner().fit_refine(tokens, one_topic), one_topic)
    assert np.array_equal(CrossFitRefiner(rounds=0).fit_refine(tokens, truth), truth)
    assert np.array_equal(NoRefinement().fit_refine(tokens, truth), truth)


def test_assign_gives_fitted_documents_their_fitted_topics() -> None:
    tokens, _ = corpus()
    texts = ["".join(doc) for doc in tokens]
    model = TopicModel(tag_of=lambda word: None)
    fit = model.fit(tokens, texts)
    assigned, similarity = model.assign(tokens, texts)
    assert (assigned == fit.labels).mean() > 0.98
    assert np.allclose(similarity[assigned == fit.labels], fit.similarity[assigned == fit.labels], atol=1e-5)


def test_a_model_saved_before_refinement_existed_assigns_by_nearest_centroid() -> None:
    tokens, _ = corpus()
    texts = ["".join(doc) for doc in tokens]
    model = TopicModel(tag_of=lambda word: None)
    model.fit(tokens, texts)
    state = model.__getstate__()
    del state["refiner"]
    old = TopicModel.__new__(TopicModel)
    old.__setstate__(state)
    assert isinstance(old.refiner, NoRefinement)
    assigned, _ = old.assign(tokens[:10], texts[:10])
    assert (assigned >= 0).all()
    assert pickle.loads(pickle.dumps(model)).refiner.predict(tokens[:3]) is not None
