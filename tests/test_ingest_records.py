from __future__ import annotations

from datetime import datetime

import pytest

from voc.ingest.hotline import TranscriptError, parse_transcript, parse_turn_list
from voc.ingest.records import ColumnOptions, RowRejected, build_document, canonical_columns, parse_time


def build(source: str, values: dict, **options: str) -> object:
    mapping = canonical_columns(source, list(values), ColumnOptions(**options))
    return build_document(source, values, mapping, max_chars=20_000)


def test_transcript_lines_with_both_colons_and_continuations() -> None:
    turns = parse_transcript("坐席：您好，请问有什么可以帮您？\n客户:我家宽带又断了\n已经第三次了\n客服1：马上帮您报修")
    assert [(t.role, t.text) for t in turns] == [
        ("agent", "您好，请问有什么可以帮您？"),
        ("customer", "我家宽带又断了 已经第三次了"),
        ("agent", "马上帮您报修"),
    ]
    with pytest.raises(TranscriptError):
        parse_transcript("只是一段普通文字，没有说话人")


def test_turn_lists_in_both_shapes() -> None:
    turns = parse_turn_list([{"role": "agent", "text": "您好"}, {"speaker": "客户", "content": "我要投诉"}])
    assert [(t.role, t.text) for t in turns] == [("agent", "您好"), ("customer", "我要投诉")]
    assert parse_turn_list('[{"speaker": "用户", "text": "查话费"}]')[0].role == "customer"
    with pytest.raises(TranscriptError):
        parse_turn_list([{"speaker": "x", "text": "?"}])


def test_hotline_keeps_the_whole_call_and_analyses_customer_turns() -> None:
    doc = build("hotline", {"call_id": "C1", "transcript": "坐席：您好\n客户：信用卡年费怎么还扣了\n坐席：帮您查询"})
    assert doc.text == "信用卡年费怎么还扣了"
    assert "坐席：您好" in doc.text_original
    assert doc.external_id == "C1" and doc.meta["call_id"] == "C1"
    with pytest.raises(RowRejected, match="no customer turns"):
        build("hotline", {"transcript": "坐席：您好\n坐席：请问还在吗"})


def test_source_metadata_and_chinese_headers() -> None:
    survey = build("survey", {"编号": "7", "问卷": "门店回访", "题目": "还有什么建议？", "评分": "9", "回答": "很好",
                              "时间": "2026年9月3日 14:22", "门店": "徐汇店", "备注": "x"})
    assert survey.external_id == "7" and survey.text == "很好" and survey.store == "徐汇店"
    assert survey.meta["score"] == 9.0 and survey.meta["question"] == "还有什么建议？"
    assert survey.meta["extra"] == {"备注": "x"}
    assert survey.created_at == datetime(2026, 9, 3, 14, 22)
    review = build("review", {"content": "送得快", "platform": "美团", "rating": 5, "店铺": "老王面馆"})
    assert review.meta == {"rating": 5.0, "platform": "美团"} and review.store == "老王面馆"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"text": "  "}, "no text"),
        ({"text": "好", "time": "昨天下午"}, "unparsable time"),
        ({"text": "好", "score": "五星"}, "score must be a number"),
        ({"text": "好", "score": 11}, "outside 0-10"),
        ({"text": "x" * 20_001}, "over the 20,000 limit"),
        ({"text": ["not", "a", "string"]}, "text must be a string"),
    ],
)
def test_bad_rows_are_rejected_with_a_reason(values: dict, reason: str) -> None:
    with pytest.raises(RowRejected, match=reason):
        build("survey", values)


def test_explicit_columns_win_over_aliases() -> None:
    doc = build("review", {"text": "别用这个", "body": "真正的评论", "no": "A9"}, text_col="body", id_col="no")
    assert doc.text == "真正的评论" and doc.external_id == "A9"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-09-03 14:22:10", datetime(2026, 9, 3, 14, 22, 10)),
        ("2026/9/3", datetime(2026, 9, 3)),
        ("2026年9月3日", datetime(2026, 9, 3)),
        (1788000000, datetime(2026, 8, 29, 10, 40)),
        ("1788000000000", datetime(2026, 8, 29, 10, 40)),
        ("2026-09-03T06:00:00+08:00", datetime(2026, 9, 2, 22, 0)),
    ],
)
def test_time_formats(value: object, expected: datetime) -> None:
    assert parse_time(value) == expected
