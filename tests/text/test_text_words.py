from __future__ import annotations

import random

import pytest

from voc.text.tokenize import Tokenizer
from voc.text.words import WordCandidate, discover_words

COMMON = [
    "快递", "包装", "质量", "价格", "客服", "物流", "速度", "态度", "商品", "发货", "收到", "满意", "喜欢", "推荐",
    "购买", "朋友", "东西", "颜色", "尺码", "味道", "服务", "时间", "问题", "下次", "还会", "非常", "一般", "不错",
    "今天", "昨天", "晚上", "早上", "门口", "小区", "电话", "老板", "店铺", "衣服", "鞋子", "水果",
]
BRAND = "喵速达"  # made up: not in any dictionary


def synthetic_corpus(seed: int = 0, size: int = 600) -> list[str]:
    """Reviews of common words; about a third mention the brand, each time in a different context."""
    rng = random.Random(seed)
    texts = []
    for _ in range(size):
        words = rng.sample(COMMON, rng.randint(4, 8))
        if rng.random() < 0.35:
            words.insert(rng.randint(0, len(words)), BRAND)
        punctuation = rng.choice(["，", "。", "！", " "])
        texts.append(punctuation.join(words) + rng.choice(["", "。", "！！"]))
    # Placeholders left by PII masking must not be mined as words.
    texts += [f"我的卡号是[银行卡号]，电话[手机号]{rng.choice(COMMON)}" for _ in range(50)]
    return texts


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return synthetic_corpus()


def test_planted_word_found_on_top(tokenizer: Tokenizer, corpus: list[str]) -> None:
    found = discover_words(corpus, tokenizer)
    assert found, "nothing discovered"
    best = found[0]
    assert isinstance(best, WordCandidate)
    assert best.word == BRAND
    assert best.count == sum(text.count(BRAND) for text in corpus)
    assert best.pmi >= 3.0
    assert min(best.left_entropy, best.right_entropy) >= 1.0
    assert best.score == max(c.score for c in found)


def test_fragments_junctions_and_placeholders_rejected(tokenizer: Tokenizer, corpus: list[str]) -> None:
    words = {c.word for c in discover_words(corpus, tokenizer, top=1000)}
    # Fragments of the brand are never free on one side (喵速 is always followed by 达).
    assert not words & {"喵速", "速达", "喵速达快", "达快"}
    # Junctions of neighbouring common words are frequent but not cohesive.
    junctions = {a[-1] + b[0] for a in COMMON for b in COMMON if a != b}
    assert not words & junctions
    # Known words (dictionary) and PII placeholders are excluded.
    assert not words & set(COMMON)
    assert not words & {"银行卡号", "卡号", "手机号", "行卡号"}
    assert words <= {BRAND}


def test_thresholds(tokenizer: Tokenizer, corpus: list[str]) -> None:
    count = sum(text.count(BRAND) for text in corpus)
    assert discover_words(corpus, tokenizer, min_count=count + 1) == []
    assert discover_words(corpus, tokenizer, min_entropy=50.0) == []
    assert discover_words(corpus, tokenizer, max_len=2) == []  # the brand has three characters
    assert discover_words(corpus, tokenizer, max_chars=40) == []  # input cap respected


def test_known_word_is_not_new(tokenizer: Tokenizer) -> None:
    rng = random.Random(3)
    texts = [f"{rng.choice(COMMON)}快递柜{rng.choice(COMMON)}" for _ in range(200)]
    assert "快递柜" not in {c.word for c in discover_words(texts, tokenizer)}  # domain dictionary


def test_compound_filter(tokenizer: Tokenizer) -> None:
    rng = random.Random(5)
    texts = [f"{rng.choice(COMMON)}，物流很快，{rng.choice(COMMON)}{rng.choice(COMMON)}" for _ in range(300)]
    # Cohesive and free enough here, but just 物流 + 很快: a phrase, not a new word.
    strict = {c.word for c in discover_words(texts, tokenizer, min_pmi=1.0, top=1000)}
    loose = {c.word for c in discover_words(texts, tokenizer, min_pmi=1.0, exclude_compounds=False, top=1000)}
    assert "物流很快" in loose
    assert "物流很快" not in strict


def test_empty_and_invalid(tokenizer: Tokenizer) -> None:
    assert discover_words([], tokenizer) == []
    assert discover_words(["123 abc !!!"], tokenizer) == []
    with pytest.raises(ValueError):
        discover_words(["好"], tokenizer, max_len=1)
