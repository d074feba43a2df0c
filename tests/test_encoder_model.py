"""The shipped fine-tuned encoder (models/sentiment/encoder) and the cascade voc uses by default."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")

from voc.encoder.fetch import EncoderUnavailable
from voc.encoder.runtime import EncoderSentimentModel
from voc.sentiment import default_encoder_path, load_analyzer
from voc.sentiment.cascade import CascadeBackend
from voc.sentiment.linear import LinearSentimentModel
from voc.settings import VocSettings


def test_shipped_encoder_is_small_and_carries_its_licence() -> None:
    root = default_encoder_path()
    size = sum(p.stat().st_size for p in root.iterdir() if p.is_file())
    assert size <= 25 * 2**20
    assert "MIT" in (root / "LICENSE-bge-small-zh-v1.5.txt").read_text(encoding="utf-8")
    assert (root / "MODEL_CARD.md").is_file()


def test_inference_needs_no_torch() -> None:
    code = (
        "import sys\n"
        "from voc.sentiment import load_analyzer\n"
        "from voc.settings import VocSettings\n"
        "r = load_analyzer(VocSettings(sentiment_model='cascade')).analyze(['请问发票怎么开'])\n"
        "print('torch' in sys.modules, type(load_analyzer(VocSettings()).backend).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "CascadeBackend"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("linear", LinearSentimentModel), ("encoder", EncoderSentimentModel), ("cascade", CascadeBackend)],
)
def test_setting_names_the_backend(name: str, kind: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_SENTIMENT_MODEL", name)
    assert isinstance(load_analyzer(VocSettings()).backend, kind)


def test_default_falls_back_to_linear_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import voc.sentiment.backends as backends

    monkeypatch.setattr(backends, "default_encoder_path", lambda: tmp_path)  # no encoder there
    with caplog.at_level(logging.WARNING, logger="voc.sentiment.backends"):
        analyzer = load_analyzer(VocSettings())
    assert isinstance(analyzer.backend, LinearSentimentModel)
    assert "linear model alone" in caplog.text
    with pytest.raises(EncoderUnavailable, match=r"voc_encoder\.json"):
        load_analyzer(VocSettings(sentiment_model="cascade"))  # asked for by name: no silent fallback


def test_a_documents_result_does_not_depend_on_its_batch() -> None:
    analyzer = load_analyzer(VocSettings(sentiment_model="encoder"))
    texts = ["请问发票怎么开", "外卖送得很快，味道不错", "客服电话一直打不通，等了四十分钟，太失望了", "还行"]
    together = [r.probabilities for r in analyzer.analyze(texts)]
    alone = [analyzer.analyze([t])[0].probabilities for t in texts]
    assert together == alone


def test_cascade_sends_a_share_of_short_reviews_to_the_encoder() -> None:
    from models.sentiment.corpora import load_domain

    texts = load_domain("waimai_10k").texts[:400]
    cascade = load_analyzer(VocSettings(sentiment_model="cascade")).backend
    share = float(np.mean(~cascade.linear_is_sure(cascade.linear.predict_proba(texts))))
    assert 0.05 < share < 0.6  # the linear model answers most, the encoder still decides many


HOTLINE_ENQUIRIES = [
    "我想问一下我的订单什么时候发货", "请帮我查一下退款进度", "你好，我要修改收货地址", "信用卡账单日是哪天",
    "我上周买的冰箱，想问下安装师傅什么时候上门", "麻烦帮我转人工客服", "我的快递显示已签收，但我没收到，想确认一下",
]
COMPLAINTS = [
    "不是不想用，是真的太卡了", "等了一个小时还没送到，饭都凉了", "客服电话打了十几次都没人接",
    "说好的七天无理由退货，结果就是不给退", "质量太差了，用了两天就坏了",
]


def test_enquiries_are_no_longer_all_negative_and_complaints_stay_negative() -> None:
    # the four-set linear model labelled all seven enquiries negative (most above 0.9)
    results = load_analyzer(VocSettings()).analyze(HOTLINE_ENQUIRIES + COMPLAINTS)
    enquiries, complaints = results[: len(HOTLINE_ENQUIRIES)], results[len(HOTLINE_ENQUIRIES) :]
    assert sum(r.label == "neutral" for r in enquiries) >= 4
    assert all(r.label == "negative" for r in complaints)
