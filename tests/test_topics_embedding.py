"""PpmiSifEmbedder: corpus-trained word vectors that relate documents sharing no words, reusable after fit."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from voc.settings import VocSettings
from voc.topics.embedding import PpmiSifEmbedder, TfidfSvdEmbedder, make_embedder

# Each theme has two disjoint word halves; a document uses one half only, so two documents of the same
# theme but different halves share no theme word. Both halves appear next to the same context words.
THEMES = {
    "logistics": (["快递", "物流", "包裹", "快递员"], ["驿站", "发货", "签收", "配送"], ["慢", "到货"]),
    "taste": (["味道", "口感", "香菜", "太咸"], ["米饭", "分量", "汤汁", "好吃"], ["菜品", "厨师"]),
    "billing": (["话费", "套餐", "扣费", "流量"], ["账单", "月租", "退费", "营业厅"], ["电信", "运营商"]),
}
FILLER = ["这次", "真的", "有点", "非常", "我们", "一直", "希望", "今天"]


def corpus(per_half: int = 80, seed: int = 0) -> tuple[list[list[str]], list[str], list[tuple[str, int]]]:
    rng = random.Random(seed)
    tokens: list[list[str]] = []
    keys: list[tuple[str, int]] = []
    for theme, (first, second, context) in THEMES.items():
        for half, words in enumerate((first, second)):
            for _ in range(per_half):
                doc = rng.sample(words, 3) + rng.sample(context, 1) + rng.sample(FILLER, 3)
                rng.shuffle(doc)
                tokens.append(doc)
                keys.append((theme, half))
    return tokens, ["".join(doc) for doc in tokens], keys


def mean_cosine(vectors: np.ndarray, keys: list[tuple[str, int]], same_theme: bool) -> float:
    """Mean cosine over document pairs from *different* halves, of the same theme or of different ones."""
    sims = vectors @ vectors.T
    themes = np.array([theme for theme, _ in keys])
    halves = np.array([half for _, half in keys])
    mask = (halves[:, None] != halves[None, :]) & ((themes[:, None] == themes[None, :]) == same_theme)
    return float(sims[mask].mean())


def test_documents_of_one_theme_are_close_without_sharing_a_theme_word() -> None:
    tokens, texts, keys = corpus()
    vectors = PpmiSifEmbedder(n_components=20, lsa_components=10).fit_transform(tokens, texts)
    assert vectors.shape == (len(tokens), 30)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    within, across = mean_cosine(vectors, keys, True), mean_cosine(vectors, keys, False)
    # Bag-of-words LSA sees only the shared context word here; the word vectors carry the rest.
    lsa = TfidfSvdEmbedder(n_components=20).fit_transform(tokens, texts)
    assert within - across > 0.2
    assert within - across > mean_cosine(lsa, keys, True) - mean_cosine(lsa, keys, False) + 0.1


def test_fit_is_deterministic_and_transform_reproduces_it() -> None:
    tokens, texts, _ = corpus()
    first = PpmiSifEmbedder(n_components=20, lsa_components=10)
    fitted = first.fit_transform(tokens, texts)
    again = PpmiSifEmbedder(n_components=20, lsa_components=10).fit_transform(tokens, texts)
    np.testing.assert_array_equal(fitted, again)
    np.testing.assert_allclose(first.transform(tokens[:25], texts[:25]), fitted[:25], atol=1e-5)


def test_new_documents_after_a_pickle_round_trip() -> None:
    tokens, texts, keys = corpus()
    embedder = PpmiSifEmbedder(n_components=20, lsa_components=10)
    fitted = embedder.fit_transform(tokens, texts)
    restored = pickle.loads(pickle.dumps(embedder))
    new = [["发货", "签收", "真的", "没见过的词"], ["未登录", "词语"]]
    rows = restored.transform(new, ["".join(doc) for doc in new])
    assert rows.shape == (2, fitted.shape[1]) and np.isfinite(rows).all()
    np.testing.assert_allclose(rows, embedder.transform(new, ["".join(doc) for doc in new]))
    # A new logistics complaint lands nearer the logistics documents than the others; a document of
    # unknown words only gets a zero row (it later stays an outlier) rather than an error.
    themes = np.array([theme for theme, _ in keys])
    sims = fitted @ rows[0]
    assert sims[themes == "logistics"].mean() > sims[themes != "logistics"].mean() + 0.3
    assert not rows[1].any()


def test_small_corpus_and_unfitted_use() -> None:
    tokens = [["快递", "很慢"], ["快递", "丢件"], ["味道", "不错"], ["味道", "太咸"], ["话费", "扣费"]]
    vectors = PpmiSifEmbedder().fit_transform(tokens, ["".join(t) for t in tokens])
    assert vectors.shape[0] == 5 and np.isfinite(vectors).all()
    with pytest.raises(RuntimeError):
        PpmiSifEmbedder().transform(tokens, ["".join(t) for t in tokens])


def test_make_embedder_names_and_the_default_setting() -> None:
    assert isinstance(make_embedder("ppmi-sif"), PpmiSifEmbedder)
    assert isinstance(make_embedder("ppmi"), PpmiSifEmbedder)
    assert isinstance(make_embedder("tfidf-svd"), TfidfSvdEmbedder)
    assert isinstance(make_embedder(VocSettings().topic_embedding), PpmiSifEmbedder)
    assert isinstance(make_embedder("default"), PpmiSifEmbedder)
