from __future__ import annotations

import pickle

import pytest

from voc.text.normalize import Normalizer


@pytest.fixture(scope="module")
def normalize() -> Normalizer:
    return Normalizer()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１２３ＡＢＣ，", "123ABC,"),
        ("价格：９９元（含运费）", "价格:99元(含运费)"),
        ("全角　空格", "全角 空格"),
        ("句号。顿号、引号“好”", "句号。顿号、引号“好”"),  # NFKC leaves these full-width
    ],
)
def test_width_folding(normalize: Normalizer, raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_traditional_to_simplified(normalize: Normalizer) -> None:
    assert normalize("這個產品質量很好") == "这个产品质量很好"
    assert normalize("頭髮後面") == "头发后面"


def test_traditional_kept_when_disabled() -> None:
    assert Normalizer(to_simplified=False)("這個產品") == "這個產品"


def test_html_entities_and_tags(normalize: Normalizer) -> None:
    assert normalize("张三&#183;李四") == "张三·李四"
    assert normalize("A&amp;B&nbsp;好") == "A&B 好"
    assert normalize("第一行<br>第二行<br/>第三行") == "第一行\n第二行\n第三行"
    assert normalize("<p>很<b>好</b></p>") == "很好"
    assert normalize("&amp;nbsp;双重转义") == "双重转义"
    assert normalize("&amp;amp;lt;") == "<"
    assert normalize("＜ｂｒ＞全角标签＆ａｍｐ；") == "全角标签&"  # width folded before markup
    assert normalize("AT&T &foo;") == "AT&T &foo;"  # not entities: left alone


def test_text_in_angle_brackets_is_not_markup(normalize: Normalizer) -> None:
    assert normalize("<iPhone 12> 不错") == "<iPhone 12> 不错"


def test_control_characters_and_whitespace(normalize: Normalizer) -> None:
    assert normalize("a\x00b\u200bc\ufeffd") == "abcd"
    assert normalize("  很好\t\t不错  ") == "很好 不错"
    assert normalize("第一段 \r\n\n\n  第二段") == "第一段\n第二段"
    assert Normalizer(keep_newlines=False)("第一段\n\n第二段") == "第一段 第二段"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("太好了！！！！", "太好了!"),
        ("什么???", "什么?"),
        ("等了好久。。。。。", "等了好久…"),
        ("等了好久......", "等了好久…"),
        ("等了好久……", "等了好久…"),
        ("好吃~~~~", "好吃~"),
        ("价格3.5元", "价格3.5元"),  # a single dot is not an ellipsis
        ("好!?", "好!?"),  # different marks are not a run
    ],
)
def test_punctuation_runs(normalize: Normalizer, raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_emoji_and_zwj_sequences_survive(normalize: Normalizer) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    text = f"太棒了😂😂👍🏻 {family} ❤️"
    assert normalize(text) == text


def test_idempotent(normalize: Normalizer) -> None:
    samples = ["１２３ＡＢＣ，好！！", "這個&amp;那個……<br>真的???", "a \n\n b……", "&amp;amp;amp;", "＜ｐ＞", ""]
    for sample in samples:
        once = normalize(sample)
        assert normalize(once) == once


def test_picklable() -> None:
    normalizer = Normalizer(to_simplified=True)
    normalizer("這個")  # builds the OpenCC converter, which itself cannot be pickled
    copy = pickle.loads(pickle.dumps(normalizer))
    assert copy("這個產品") == "这个产品"
