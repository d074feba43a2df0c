"""The encoder span tagger end to end on a tiny random BERT built here: fine-tune (three token heads,
masked kinds, checkpoint and resume), export to int8 ONNX, tag without torch."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

from models.aspects.corpora import Span, SpanExample  # noqa: E402
from models.aspects.tagger_train import TaggerTrainConfig, token_targets, train_tagger  # noqa: E402
from voc.aspects import load_tagger_dir  # noqa: E402
from voc.aspects.export import export_tagger  # noqa: E402

ASPECTS = ["屏幕", "电池", "快递", "客服"]
OPINIONS = {"很好": "positive", "太差": "negative", "一般": "neutral"}
FILLER = ["这个", "觉得", "真的"]


def _examples(n: int, seed: int) -> list[SpanExample]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        head, aspect = rng.choice(FILLER), rng.choice(ASPECTS)
        opinion, polarity = rng.choice(list(OPINIONS.items()))
        text = head + aspect + opinion
        spans = [Span(2, 4, "aspect"), Span(4, 6, "opinion", polarity)]
        out.append(SpanExample(text, spans, "zhijiang"))
    return out


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tiny-bert")
    chars = sorted({ch for w in [*ASPECTS, *OPINIONS, *FILLER] for ch in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    (base / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    transformers.BertTokenizerFast(str(base / "vocab.txt")).save_pretrained(base)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    torch.manual_seed(0)
    transformers.BertModel(config, add_pooling_layer=False).save_pretrained(base)
    return base


CONFIG = TaggerTrainConfig(epochs=12, learning_rate=3e-3, batch_size=16, max_length=32, checkpoint_every=5,
                           freeze_word_embeddings=False)


def test_unlabelled_kinds_are_masked_not_taught_as_absent() -> None:
    offsets = [(0, 0), (0, 1), (1, 2), (2, 3), (0, 0)]
    atepc = SpanExample("屏幕好", [Span(0, 2, "aspect", "positive")], "atepc_phone")
    aspect, opinion, polarity = token_targets(atepc, offsets)
    assert aspect == [-100, 1, 2, 0, -100]
    assert opinion == [-100] * 5  # atepc marks no opinions: nothing learned from its silence
    assert polarity == [-100, 2, 2, -100, -100]


def test_tagger_trains_resumes_exports_and_tags(tiny_base: Path, tmp_path: Path) -> None:
    trained = train_tagger(_examples(160, seed=1), tiny_base, tmp_path / "run", CONFIG)
    assert (trained / "model.pt").is_file() and not (trained / "checkpoint.pt").exists()
    tagger = load_tagger_dir(export_tagger(trained, tiny_base, tmp_path / "export"))
    held_out = _examples(30, seed=2)
    right = 0
    for example, spans in zip(held_out, tagger.tag([e.text for e in held_out]), strict=True):
        found = {(s.start, s.end, s.kind, s.polarity if s.kind == "opinion" else "") for s in spans}
        wanted = {(s.start, s.end, s.kind, s.polarity) for s in example.spans}
        right += wanted <= found
    assert right >= 24, right


def test_a_cut_off_run_resumes_from_its_checkpoint(tiny_base: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import models.aspects.tagger_train as tagger_train

    examples = _examples(96, seed=3)
    config = TaggerTrainConfig(epochs=2, learning_rate=3e-3, batch_size=16, max_length=32, checkpoint_every=5)

    class Cut(Exception):
        pass

    def cut(*_args: object) -> None:
        raise Cut

    with monkeypatch.context() as patch:
        patch.setattr(tagger_train, "save_model", cut)  # the run dies before model.pt: step 10's checkpoint stays
        with pytest.raises(Cut):
            train_tagger(examples, tiny_base, tmp_path, config)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=False)["step"] == 10
    steps_seen: list[int] = []
    monkeypatch.setattr(tagger_train, "run_loop", _recording(tagger_train.run_loop, steps_seen))
    train_tagger(examples, tiny_base, tmp_path, config)
    assert (tmp_path / "model.pt").is_file() and not (tmp_path / "checkpoint.pt").exists()
    assert steps_seen == [11, 12]  # resumed after step 10, not from the start


def _recording(run_loop, steps_seen: list[int]):  # type: ignore[no-untyped-def]
    def wrapped(model, plan, batch_loss, out, config, progress=None):  # type: ignore[no-untyped-def]
        return run_loop(model, plan, batch_loss, out, config, lambda step, steps, loss: steps_seen.append(step))
    return wrapped
