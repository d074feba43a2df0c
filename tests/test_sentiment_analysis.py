"""Document, clause and aspect analysis with the shipped default model, hard cases included."""

from __future__ import annotations

import pickle

import pytest

from voc.sentiment import SentimentResult, load_analyzer
from voc.sentiment.clauses import deciding_span, split_clauses
from voc.settings import VocSettings


@pytest.fixture(scope="module")
def analyzer():  # type: ignore[no-untyped-def]
    return load_analyzer(VocSettings(sentiment_model=None))


def one(analyzer, text: str) -> SentimentResult:  # type: ignore[no-untyped-def]
    return analyzer.analyze([text])[0]


def test_result_contract(analyzer) -> None:  # type: ignore[no-untyped-def]
    texts = ["菜很好吃，送餐也快", "太难吃了，再也不点了", ""]
    results = analyzer.analyze(texts)
    assert len(results) == 3
    for result in results:
        assert result.label in {"negative", "neutral", "positive"}
        assert -1.0 <= result.score <= 1.0
        assert set(result.probabilities) == {"negative", "neutral", "positive"}
        assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
        assert result.to_dict()["label"] == result.label
    assert results[0].label == "positive" and results[0].score > 0.5
    assert results[1].label == "negative" and results[1].score < -0.5
    assert results[2].label == "neutral" and results[2].clauses == []
    assert analyzer.analyze([]) == []


def test_clause_offsets_point_into_the_text(analyzer) -> None:  # type: ignore[no-untyped-def]
    text = "快递很快，包装也很好，就是价格有点贵"
    result = one(analyzer, text)
    assert [c.text for c in result.clauses] == ["快递很快", "包装也很好", "就是价格有点贵"]
    assert [c.label for c in result.clauses] == ["positive", "positive", "negative"]
    for clause in result.clauses:
        assert text[clause.start : clause.end] == clause.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("不是不好吃", "positive"),  # double negation
        ("并不是不满意，只是有点小贵", "positive"),
        ("并不是不满意，只是物流太慢了，客服也不回", "negative"),  # the negated clause is not the whole text
        ("味道不怎么好", "negative"),
        ("虽然包装很精美，但是味道很差", "negative"),  # the later clause decides
        ("虽然送得有点慢，但是味道真的很棒", "positive"),
        ("难道不好吃吗？", "positive"),  # rhetorical question affirming
        ("这也叫五星级酒店？", "negative"),  # rhetorical question denying
        ("能不能快点送啊", "negative"),
        ("凭什么不给退款", "negative"),
        ("服务真好呵呵，等了两个小时", "negative"),  # sarcasm
        ("送餐速度可真是“快”啊", "negative"),
        ("我真是醉了，又送错了", "negative"),
        ("這家店的服務態度很差", "negative"),  # Traditional characters
        ("東西很好，下次還來買", "positive"),
        ("yyds！", "positive"),  # slang and abbreviations
        ("kf态度太差了", "negative"),
        ("差评", "negative"),
        ("绝绝子", "positive"),
        ("👍👍👍", "positive"),  # emoji
        ("😡😡", "negative"),
        ("[怒][怒]", "negative"),
        ("无", "neutral"),  # one-word answers
        ("还行", "neutral"),
        ("暂无", "neutral"),
        ("满意", "positive"),
        ("请问发票怎么开", "neutral"),  # neutral requests
        ("你好，请问什么时候发货？", "neutral"),
        ("想问一下可以开专票吗", "neutral"),
    ],
)
def test_hard_cases(analyzer, text: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert one(analyzer, text).label == expected


def test_complaint_phrased_as_a_question_is_not_neutral(analyzer) -> None:  # type: ignore[no-untyped-def]
    assert one(analyzer, "请问为什么这么难吃").label == "negative"


def test_aspects_with_polarity_and_opinion_span(analyzer) -> None:  # type: ignore[no-untyped-def]
    text = "快递很快，包装也很好，就是价格有点贵，客服态度很差"
    aspects = {a.aspect: a for a in one(analyzer, text).aspects}
    assert aspects["物流配送"].polarity == "positive"
    assert aspects["包装"].polarity == "positive"
    assert aspects["价格"].polarity == "negative" and aspects["价格"].opinion == "有点贵"
    assert aspects["服务态度"].polarity == "negative"
    for aspect in aspects.values():
        assert text[aspect.start : aspect.end] in aspect.opinion or aspect.opinion == text[aspect.start : aspect.end]
        assert -1 <= aspect.score <= 1


def test_aspect_polarity_handles_negation_and_sarcasm(analyzer) -> None:  # type: ignore[no-untyped-def]
    aspects = {a.aspect: a for a in one(analyzer, "菜不新鲜，售后也不处理").aspects}
    # the CRF tagger marks 菜不新鲜 as one opinion span (菜 too short a term for it): the negated
    # opinion word must still be inside it and decide the polarity
    assert aspects["口味"].polarity == "negative" and "不新鲜" in aspects["口味"].opinion
    sarcastic = {a.aspect: a for a in one(analyzer, "服务真好呵呵").aspects}
    assert sarcastic["服务态度"].polarity == "negative"


def test_bare_aspect_mention_reports_nothing(analyzer) -> None:  # type: ignore[no-untyped-def]
    assert one(analyzer, "快递到了").aspects == []


def test_analyzer_pickles_by_reference(analyzer) -> None:  # type: ignore[no-untyped-def]
    payload = pickle.dumps(analyzer)
    assert len(payload) < 2_000  # paths, not weights: cheap to send to worker processes
    clone = pickle.loads(payload)
    texts = ["送餐很快，味道不错", "太慢了"]
    assert [r.to_dict() for r in clone.analyze(texts)] == [r.to_dict() for r in analyzer.analyze(texts)]


def test_clause_splitting_rules() -> None:
    assert [c.text for c in split_clauses("很好吃，就是送得慢")] == ["很好吃", "就是送得慢"]
    assert [c.text for c in split_clauses("就是好吃！")] == ["就是好吃"]  # emphasis, not contrast
    assert [c.text for c in split_clauses("味道再好不过了")] == ["味道再好不过了"]
    assert [c.text for c in split_clauses("菜不错但是太贵")] == ["菜不错", "但是太贵"]
    assert split_clauses("") == [] and split_clauses("，。！") == []
    clauses = split_clauses("虽然贵，但是好吃，下次还来")
    assert clauses[0].concessive and clauses[1].after_contrast
    span = deciding_span(clauses)
    assert span is not None and "虽然贵，但是好吃，下次还来"[span[0] : span[1]] == "但是好吃，下次还来"
    assert deciding_span(split_clauses("很好吃，就是送得慢")) is None
