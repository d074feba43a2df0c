"""Test texts leave the benchmark's training data, including spacing/punctuation variants."""

from __future__ import annotations

from models.sentiment.data import LabelledData, text_key, without_texts


def test_text_key_ignores_spacing_punctuation_width_and_case() -> None:
    # the shapes seen between chnsenticorp_htl_all and online_shopping's 酒店 reviews
    assert text_key("Chexk in倒是蛮快, Chexk out用了近半个小时") == text_key("Chexkin倒是蛮快,Chexkout用了近半个小时")
    assert text_key("太慢了，差评") == text_key("太慢了！差评！")
    assert text_key("ＡＢＣ好评") == text_key("abc 好评")  # full-width letters (NFKC)
    # wording differences are kept apart
    assert text_key("很好吃") != text_key("不好吃")


def test_without_texts_exact_by_default_and_near_duplicates_when_normalising() -> None:
    data = LabelledData(
        texts=["房间很大，早餐不错。", "房间很大,早餐不错", "服务太差了", "位置方便"],
        labels=["positive", "positive", "negative", "positive"],
    )
    banned = {"房间很大，早餐不错。"}

    exact = without_texts(data, banned)
    assert exact.texts == ["房间很大,早餐不错", "服务太差了", "位置方便"]
    assert exact.dropped == {"in_test": 1}

    normalised = without_texts(data, banned, normalise=True)
    assert normalised.texts == ["服务太差了", "位置方便"]
    assert normalised.labels == ["negative", "positive"]
    assert normalised.dropped == {"in_test": 1, "near_duplicate_of_test": 1}
    # the input is not modified
    assert len(data.texts) == 4
