"""The encoder path end to end on a tiny random BERT built here: fine-tune (polarity + emotion
heads, checkpoint and resume), export to int8 ONNX, predict without torch, select it by setting,
and the cascade's routing. The real bge-small-zh encoder is tested in test_encoder_model.py."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

from models.sentiment.corpora import DomainData  # noqa: E402
from models.sentiment.encoder_train import EncoderTrainConfig, train_encoder  # noqa: E402
from voc.encoder.export import export_sentiment_encoder  # noqa: E402
from voc.encoder.runtime import EncoderSentimentModel  # noqa: E402
from voc.sentiment.cascade import CascadeBackend  # noqa: E402

WORDS = {
    "positive": ["好吃", "满意", "很快", "推荐"],
    "negative": ["难吃", "失望", "太慢", "垃圾"],
    "neutral": ["请问", "几点", "地址", "发票"],
}
FILLER = ["这家", "外卖", "今天", "老板", "菜品"]
EMOTION = {"positive": "satisfaction", "negative": "anger", "neutral": "none"}


def _sentences(n: int, seed: int, emotions: bool = True) -> DomainData:
    rng = random.Random(seed)
    data = DomainData()
    for i in range(n):
        label = ("positive", "negative", "neutral")[i % 3]
        words = [*rng.sample(FILLER, 2), rng.choice(WORDS[label])]
        rng.shuffle(words)
        data.texts.append("".join(words))
        data.labels.append(label)
        data.emotions.append(EMOTION[label] if emotions and i % 2 == 0 else "")
        data.categories.append("")
    return data


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tiny-bert")
    chars = sorted({ch for ws in WORDS.values() for w in ws for ch in w} | {ch for w in FILLER for ch in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    (base / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    transformers.BertTokenizerFast(str(base / "vocab.txt")).save_pretrained(base)
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )
    torch.manual_seed(0)
    transformers.BertModel(config, add_pooling_layer=False).save_pretrained(base)
    return base


CONFIG = EncoderTrainConfig(epochs=10, learning_rate=3e-3, batch_size=16, max_length=32, checkpoint_every=5)


@pytest.fixture(scope="module")
def exported(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("train")
    train_encoder(_sentences(240, seed=1), tiny_base, work, CONFIG)
    return export_sentiment_encoder(work, tiny_base, tmp_path_factory.mktemp("export"))


def test_training_learns_and_records_itself(exported: Path) -> None:
    meta = json.loads((exported / "voc_encoder.json").read_text(encoding="utf-8"))
    assert meta["polarities"] == ["negative", "neutral", "positive"]
    assert meta["training"]["last_loss"] < meta["training"]["first_loss"] / 2
    assert (exported / "model.int8.onnx").is_file() and not (exported / "model.fp32.onnx").exists()


def test_exported_model_predicts_unseen_sentences_without_torch(exported: Path) -> None:
    held_out = _sentences(90, seed=7)
    prediction = EncoderSentimentModel(exported).predict(held_out.texts)
    assert prediction.polarity.shape == (90, 3)
    np.testing.assert_allclose(prediction.polarity.sum(axis=1), 1.0, atol=1e-6)
    labels = [("negative", "neutral", "positive")[i] for i in prediction.polarity.argmax(axis=1)]
    assert np.mean([p == g for p, g in zip(labels, held_out.labels, strict=True)]) >= 0.9
    emotions = [prediction.emotions[i] for i in prediction.emotion.argmax(axis=1)]
    assert np.mean([e == EMOTION[g] for e, g in zip(emotions, held_out.labels, strict=True)]) >= 0.8


def test_a_texts_probabilities_do_not_depend_on_its_batch(exported: Path) -> None:
    model = EncoderSentimentModel(exported)
    texts = [*_sentences(12, seed=3).texts, "好", ""]
    together = model.predict_proba(texts)
    alone = np.vstack([model.predict_proba([t]) for t in texts])
    np.testing.assert_array_equal(together, alone)  # exactly: int8 scales activations per call


def test_interrupted_training_resumes_from_its_checkpoint(tiny_base: Path, tmp_path: Path) -> None:
    data = _sentences(96, seed=2)
    steps_seen: list[int] = []

    def stop_after_seven(step: int, steps: int, loss: float) -> None:
        steps_seen.append(step)
        if step == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_encoder(data, tiny_base, tmp_path, CONFIG, progress=stop_after_seven)
    assert (tmp_path / "checkpoint.pt").is_file() and not (tmp_path / "model.pt").exists()
    steps_seen.clear()
    train_encoder(data, tiny_base, tmp_path, CONFIG, progress=lambda step, steps, loss: steps_seen.append(step))
    assert steps_seen[0] == 6  # the checkpoint at step 5 was kept; step 6 onward runs again
    assert (tmp_path / "model.pt").is_file() and not (tmp_path / "checkpoint.pt").exists()


def test_setting_selects_the_exported_encoder(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voc.sentiment import load_analyzer
    from voc.settings import VocSettings

    monkeypatch.setenv("VOC_SENTIMENT_MODEL", str(exported))
    results = load_analyzer(VocSettings()).analyze(["今天外卖好吃", "菜品太慢", "请问发票地址"])
    assert [r.label for r in results] == ["positive", "negative", "neutral"]


class _Fixed:
    has_neutral = True

    def __init__(self, rows: dict[str, tuple[float, float, float]]) -> None:
        self.rows, self.calls = rows, []

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([self.rows[t] for t in texts], dtype=float).reshape(len(texts), 3)


def test_cascade_sends_only_unsure_texts_to_the_encoder() -> None:
    linear = _Fixed({"sure": (0.01, 0.01, 0.98), "weak": (0.3, 0.1, 0.6), "neutralish": (0.02, 0.1, 0.88)})
    encoder = _Fixed({"weak": (0.7, 0.2, 0.1), "neutralish": (0.1, 0.8, 0.1)})
    cascade = CascadeBackend(linear, encoder, confidence=0.95, neutral_ceiling=0.05, encoder_weight=1.0)
    proba = cascade.predict_proba(["sure", "weak", "neutralish"])
    assert encoder.calls == [["weak", "neutralish"]]
    np.testing.assert_allclose(proba, [(0.01, 0.01, 0.98), (0.7, 0.2, 0.1), (0.1, 0.8, 0.1)])
    mixed = CascadeBackend(linear, encoder, confidence=0.95, neutral_ceiling=0.05, encoder_weight=0.5)
    np.testing.assert_allclose(mixed.predict_proba(["sure", "weak"]), [(0.01, 0.01, 0.98), (0.5, 0.15, 0.35)])


class _Unsure:
    """Answers every text with an unsure distribution and records what it was asked."""

    has_neutral = True

    def __init__(self) -> None:
        self.asked: list[str] = []

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.asked += list(texts)
        return np.tile([0.4, 0.2, 0.4], (len(texts), 1))


def test_cascade_decides_documents_and_its_linear_stage_the_clauses() -> None:
    from voc.sentiment.analyzer import Analyzer

    linear, encoder = _Unsure(), _Unsure()
    text = "快递很快，包装也很好，就是价格有点贵，客服态度一般"
    result = Analyzer("<test>", backend=CascadeBackend(linear, encoder)).analyze([text])[0]
    assert len(result.clauses) == 4
    assert text in encoder.asked  # the document went to the encoder
    assert not {c.text for c in result.clauses} & set(encoder.asked)  # no clause did
    assert {c.text for c in result.clauses} <= set(linear.asked)


def test_one_backend_scores_a_single_clause_document_once() -> None:
    from voc.sentiment.analyzer import Analyzer

    backend = _Unsure()
    Analyzer("<test>", backend=backend).analyze(["太慢了", "味道不错，分量足"])
    assert sorted(backend.asked) == sorted(["太慢了", "味道不错，分量足", "味道不错", "分量足"])
