"""Turn a raw row into a Document (before normalisation), or a reason to reject it.

Each source kind keeps its own metadata: survey (survey, question, respondent, score 0-10),
hotline (call id, turns with roles, agent, duration), review (platform, product/store, rating 1-5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dateutil import parser as date_parser

from voc.documents import Document, Turn
from voc.ingest.hotline import (
    TranscriptError,
    customer_text,
    parse_transcript,
    parse_turn_list,
    render_transcript,
)

COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "序号", "评论id", "review_id", "record_id", "uid"),
    "text": ("text", "content", "内容", "评价内容", "评论", "评论内容", "回答", "answer", "review",
             "comment", "文本", "意见", "留言", "留言详情"),
    "time": ("time", "created_at", "timestamp", "date", "datetime", "时间", "日期", "创建时间",
             "评论时间", "留言时间"),
    "channel": ("channel", "渠道", "来源渠道"),
    "industry": ("industry", "行业"),
    "product": ("product", "商品", "产品", "sku", "cat", "品类"),
    "store": ("store", "门店", "店铺", "商家", "小区", "网点"),
}
SOURCE_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "survey": {
        "survey": ("survey", "问卷", "问卷名称"),
        "question": ("question", "题目", "问题"),
        "respondent": ("respondent", "受访者", "答卷人"),
        "score": ("score", "nps", "评分", "推荐度", "分数"),
    },
    "hotline": {
        "id": ("call_id", "通话id", "通话编号", "工单号"),
        "text": ("transcript", "通话内容", "对话", "录音转写"),
        "turns": ("turns", "dialogue", "utterances"),
        "agent": ("agent", "坐席工号", "坐席"),
        "duration_s": ("duration_s", "duration", "通话时长"),
    },
    "review": {
        "platform": ("platform", "平台"),
        "rating": ("rating", "星级", "stars", "评分"),
    },
}
SCORE_RANGES = {"score": (0.0, 10.0), "rating": (1.0, 5.0)}


class RowRejected(ValueError):
    """A row that cannot become a document; the message is the reason shown in the rejects file."""


@dataclass(frozen=True, slots=True)
class ColumnOptions:
    text_col: str | None = None
    id_col: str | None = None
    time_col: str | None = None


def _alias_table(source: str) -> dict[str, str]:
    table: dict[str, str] = {}
    merged = {**COMMON_ALIASES}
    for canonical, names in SOURCE_ALIASES[source].items():
        merged[canonical] = names + merged.get(canonical, ())
    for canonical, names in merged.items():
        for name in names:
            table.setdefault(name.lower(), canonical)
    return table


_ALIASES = {source: _alias_table(source) for source in SOURCE_ALIASES}
_DATE_WORDS = re.compile(r"[年月/.]")


def canonical_columns(source: str, columns: list[str], options: ColumnOptions) -> dict[str, str]:
    """Map file columns to canonical names; explicit --*-col options win over aliases."""
    explicit = {"text": options.text_col, "id": options.id_col, "time": options.time_col}
    mapping = {column: canonical for canonical, column in explicit.items() if column}
    used = set(mapping.values())
    for column in columns:
        canonical = _ALIASES[source].get(column.strip().lower())
        if column not in mapping and canonical and canonical not in used:
            mapping[column] = canonical
            used.add(canonical)
    return mapping


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds from JS exports
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    text = str(value).strip()
    if re.fullmatch(r"\d{10}(\d{3})?", text):
        return parse_time(int(text))
    text = _DATE_WORDS.sub("-", text).replace("日", " ").replace("号", " ")
    text = text.replace("时", ":").replace("点", ":").replace("分", "").replace("秒", "").strip(" -")
    try:
        parsed = date_parser.parse(text, yearfirst=True, fuzzy=False)
    except (ValueError, OverflowError) as exc:
        raise RowRejected(f"unparsable time {str(value)[:40]!r}") from exc
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def parse_number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise RowRejected(f"{name} must be a number, got {value!r}")
    try:
        number = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError as exc:
        raise RowRejected(f"{name} must be a number, got {str(value)[:40]!r}") from exc
    low, high = SCORE_RANGES.get(name, (float("-inf"), float("inf")))
    if not low <= number <= high:
        raise RowRejected(f"{name} {number:g} is outside {low:g}-{high:g}")
    return number


def _scalar(name: str, value: Any) -> str:
    if isinstance(value, dict | list):
        raise RowRejected(f"{name} must be a single value, got a {type(value).__name__}")
    return str(value).strip()


def build_document(
    source: str, values: dict[str, Any], mapping: dict[str, str], *, max_chars: int
) -> Document:
    """Validate a row and build its Document. The id is assigned after normalisation."""
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for column, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        canonical = mapping.get(column)
        if canonical:
            fields[canonical] = value
        else:
            extra[column] = value if isinstance(value, str | int | float | bool) else str(value)

    turns: list[Turn] = []
    raw_text = fields.get("text")
    if source == "hotline" and "turns" in fields:
        try:
            turns = parse_turn_list(fields["turns"])
        except TranscriptError as exc:
            raise RowRejected(str(exc)) from exc
    elif raw_text is not None and not isinstance(raw_text, str):
        raise RowRejected(f"text must be a string, got {type(raw_text).__name__}")
    elif source == "hotline" and raw_text:
        try:
            turns = parse_transcript(raw_text)
        except TranscriptError as exc:
            raise RowRejected(str(exc)) from exc
    if turns:
        has_text = isinstance(raw_text, str) and raw_text.strip()
        original = raw_text.strip() if has_text else render_transcript(turns)
        analysed = customer_text(turns)
        if not analysed:
            raise RowRejected("the call has no customer turns")
    else:
        if not isinstance(raw_text, str) or not raw_text.strip():
            raise RowRejected("no text")
        original = analysed = raw_text.strip()
    if len(original) > max_chars:
        raise RowRejected(f"text has {len(original):,} characters, over the {max_chars:,} limit")

    meta: dict[str, Any] = {}
    for name in ("score", "rating"):
        if name in fields:
            meta[name] = parse_number(name, fields[name])
    if "duration_s" in fields:
        meta["duration_s"] = parse_number("duration_s", fields["duration_s"])
    for name in ("survey", "question", "respondent", "platform", "agent"):
        if name in fields:
            meta[name] = _scalar(name, fields[name])
    if extra:
        meta["extra"] = extra

    external_id = _scalar("id", fields["id"]) if "id" in fields else None
    if source == "hotline" and external_id:
        meta["call_id"] = external_id
    return Document(
        id="",
        source=source,
        text=analysed,
        text_original=original,
        external_id=external_id or None,
        created_at=parse_time(fields["time"]) if "time" in fields else None,
        channel=_scalar("channel", fields["channel"]) if "channel" in fields else None,
        industry=_scalar("industry", fields["industry"]) if "industry" in fields else None,
        product=_scalar("product", fields["product"]) if "product" in fields else None,
        store=_scalar("store", fields["store"]) if "store" in fields else None,
        meta=meta,
        turns=turns,
    )
