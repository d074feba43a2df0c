"""The fast paths of the linear sentiment model give the results of the straightforward ones.

``LinearHead.decision`` gathers only the weights of each row's features and small inputs are
hashed in Python (``_hash_rows``); both must match the full sparse-dense product over sklearn's
``HashingVectorizer`` features, on a few hundred varied texts and on the shipped models.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from voc.sentiment import default_aspect_model_path, default_model_path, lexicon
from voc.sentiment.analyzer import Analyzer, _score
from voc.sentiment.aspects import aspect_input
from voc.sentiment.linear import SMALL_INPUT_CHARS, LinearSentimentModel, _sigmoid


def varied_texts(count: int = 300) -> list[str]:
    """Short and long, opinionated and neutral, Latin, digits, emoji, Traditional, blank."""
    rng = random.Random(0)
    words = [*lexicon.POSITIVE_WORDS, *lexicon.NEGATIVE_WORDS, *lexicon.ABBREVIATIONS]
    terms = [term for group in lexicon.ASPECT_TERMS.values() for term in group]
    fillers = ["很", "太", "不", "没有", "也", "就是", "但是", "虽然", "了", "的", "吗", "呵呵", "！", "，", "。", "？",
               "👍", "😡", "[怒]", "iPhone", "OK", "123", " ", "這個", "態度", "ＡＢＣ", "~~"]
    texts = ["", " ", "好", "差评", "👍👍", "？？？", "快递太慢了，客服态度也差", "菜很好吃，送餐也快"]
    while len(texts) < count:
        # lengths from a clause to a long review, so that both hashing paths are exercised
        size = rng.choice([1, 2, 3, 5, 8, 15, 30, 60])
        parts = [rng.choice(rng.choice((words, terms, fillers))) for _ in range(size)]
        texts.append("".join(parts))
    return texts


TEXTS = varied_texts()


@pytest.fixture(scope="module", params=["document", "aspect"])
def model(request: pytest.FixtureRequest) -> LinearSentimentModel:
    path = default_model_path() if request.param == "document" else default_aspect_model_path()
    return LinearSentimentModel.load(path)


def reference_proba(model: LinearSentimentModel, texts: list[str]) -> np.ndarray:
    """``predict_proba`` as it was: sklearn features, full ``x @ weights`` per head."""
    x = model.vectorizer.transform(texts)
    p_pos = _sigmoid(model.polarity.decision_dense(x))
    p_neu = _sigmoid(model.subjectivity.decision_dense(x)) if model.subjectivity else np.zeros(len(texts))
    return np.column_stack([(1 - p_neu) * (1 - p_pos), p_neu, (1 - p_neu) * p_pos])


def test_texts_cover_both_hashing_paths() -> None:
    lengths = [len(t) for t in TEXTS]
    assert len(TEXTS) >= 300
    assert min(lengths) == 0 and max(lengths) > SMALL_INPUT_CHARS
    assert sum(n <= SMALL_INPUT_CHARS for n in lengths) > 100 and sum(n > SMALL_INPUT_CHARS for n in lengths) > 20


def test_python_hashing_matches_sklearn(model: LinearSentimentModel) -> None:
    for text in TEXTS:
        ours = model.features([text])
        theirs = model.vectorizer.transform([text])
        assert np.array_equal(ours.indptr, theirs.indptr), text
        assert np.array_equal(ours.indices, theirs.indices), text
        assert np.array_equal(ours.data, theirs.data), text
    # several short texts in one small call: row boundaries must line up too
    batch = [t for t in TEXTS if len(t) <= 12][:8]
    assert 0 < sum(map(len, batch)) <= SMALL_INPUT_CHARS
    assert (model.features(batch) != model.vectorizer.transform(batch)).nnz == 0


def test_sparse_decision_matches_full_product(model: LinearSentimentModel) -> None:
    x = model.vectorizer.transform(TEXTS)
    for head in filter(None, (model.polarity, model.subjectivity)):
        np.testing.assert_allclose(head.decision(x), head.decision_dense(x), rtol=0, atol=1e-9)
        assert head.decision(x[:0]).shape == (0,)


def test_probabilities_match_reference_one_by_one_and_batched(model: LinearSentimentModel) -> None:
    expected = reference_proba(model, TEXTS)
    batched = model.predict_proba(TEXTS)
    single = np.vstack([model.predict_proba([text]) for text in TEXTS])
    np.testing.assert_allclose(batched, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(single, expected, rtol=0, atol=1e-6)
    # the texts are not trivially alike: the check would notice a wrong weight
    assert np.ptp(expected[:, 2]) > 0.5


def test_aspect_inputs_match_reference() -> None:
    model = LinearSentimentModel.load(default_aspect_model_path())
    inputs = [aspect_input(term, text) for term, text in zip(["价格", "快递", "客服"] * 100, TEXTS, strict=False)]
    np.testing.assert_allclose(model.predict_proba(inputs), reference_proba(model, inputs), rtol=0, atol=1e-6)


def test_result_dict_is_asdict() -> None:
    analyzer = Analyzer(default_model_path(), default_aspect_model_path())
    for result in analyzer.analyze(TEXTS[:100]):
        assert result.to_dict() == dataclasses.asdict(result)
        assert list(result.to_dict()) == list(dataclasses.asdict(result))


@pytest.mark.parametrize("proba", [[0.1, 0.2, 0.7], [0.9, 0.1, 0.0], [0.5, 0.0, 0.5], [2.0, 0.0, -1.0]])
def test_score_is_clipped_difference(proba: list[float]) -> None:
    p = np.asarray(proba)
    assert _score(p) == round(float(np.clip(p[2] - p[0], -1.0, 1.0)), 4)
