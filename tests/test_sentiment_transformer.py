"""Loading any Hugging Face classifier directory (a tiny BERT built and trained here, no downloads)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from models.sentiment.data import LabelledData  # noqa: E402
from voc.sentiment.transformer import TransformerSentimentModel, label_columns  # noqa: E402

POSITIVE = ["好吃", "满意", "很快", "新鲜", "推荐", "热情"]
NEGATIVE = ["难吃", "失望", "太慢", "变质", "垃圾", "冷漠"]
FILLER = ["这家", "外卖", "今天", "味道", "送餐", "老板", "菜品", "感觉"]


def _sentences(n: int, seed: int) -> LabelledData:
    rng = random.Random(seed)
    data = LabelledData()
    for i in range(n):
        positive = i % 2 == 0
        words = [*rng.sample(FILLER, 2), rng.choice(POSITIVE if positive else NEGATIVE)]
        rng.shuffle(words)
        data.texts.append("".join(words))
        data.labels.append("positive" if positive else "negative")
    return data


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT and a character vocabulary, saved like a hub checkpoint."""
    base = tmp_path_factory.mktemp("tiny-bert")
    chars = sorted({ch for w in POSITIVE + NEGATIVE + FILLER + ["好的", "还行"] for ch in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    (base / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # positional: the keyword is vocab_file in transformers 4 and vocab in 5
    tokenizer = transformers.BertTokenizerFast(str(base / "vocab.txt"))
    tokenizer.save_pretrained(base)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(base)  # no classification head: training adds one
    return base


@pytest.fixture(scope="module")
def trained(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A binary classifier fine-tuned with a plain torch loop and saved like a hub checkpoint:
    the format any Hugging Face sequence-classification model arrives in."""
    out = tmp_path_factory.mktemp("tiny-sentiment")
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification.from_pretrained(
        str(tiny_base), num_labels=2, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1}
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny_base))
    data = _sentences(192, seed=1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(8):
        for begin in range(0, len(data.texts), 16):
            enc = tokenizer(data.texts[begin : begin + 16], padding=True, return_tensors="pt")
            labels = torch.tensor([int(y == "positive") for y in data.labels[begin : begin + 16]])
            model(**enc, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_loaded_model_predicts_unseen_sentences(trained: Path) -> None:
    model = TransformerSentimentModel.load(str(trained), device="cpu")
    held_out = _sentences(60, seed=7)
    proba = model.predict_proba(held_out.texts)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(proba[:, 1] == 0)  # binary model: no neutral mass
    predicted = ["positive" if p[2] >= p[0] else "negative" for p in proba]
    accuracy = np.mean([p == g for p, g in zip(predicted, held_out.labels, strict=True)])
    assert accuracy >= 0.9


def test_batched_and_single_predictions_agree(trained: Path) -> None:
    model = TransformerSentimentModel.load(str(trained), device="cpu")
    texts = [*_sentences(10, seed=3).texts, "好的"]  # mixed lengths: padding must not change results
    together = model.predict_proba(texts)
    alone = np.vstack([model.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_setting_selects_transformer_analyzer(trained: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voc.sentiment import load_analyzer
    from voc.settings import VocSettings

    monkeypatch.setenv("VOC_SENTIMENT_MODEL", str(trained))
    analyzer = load_analyzer(VocSettings())
    results = analyzer.analyze(["今天外卖很快，老板热情", "菜品难吃，太慢"])
    assert [r.label for r in results] == ["positive", "negative"]
    assert all(-1 <= r.score <= 1 and abs(sum(r.probabilities.values()) - 1) < 1e-3 for r in results)


def test_label_columns_map_common_conventions() -> None:
    assert label_columns({0: "LABEL_0", 1: "LABEL_1"}) == [0, 2]
    assert label_columns({0: "negative", 1: "neutral", 2: "positive"}) == [0, 1, 2]
    assert label_columns({0: "positive", 1: "negative"}) == [2, 0]
    with pytest.raises(ValueError):
        label_columns({0: "joy", 1: "anger"})
