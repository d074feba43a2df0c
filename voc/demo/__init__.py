"""The sample corpus that ``voc demo`` ingests: what is in each file, and where the files live.

The files in ``data/`` are written by ``python -m voc.demo.generate`` from the project's own
templates (no public dataset is copied). ``rows`` and ``bad_rows`` are checked against the
generator's output by ``tests/test_demo_corpus.py``; the demo test compares ``bad_rows`` with the
ingester's rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class DemoFile:
    name: str             # file name inside the data dir
    source: str           # "survey" | "hotline" | "review"
    format: str           # "csv" | "tsv" | "jsonl" | "xlsx"
    encoding: str         # what it was written in (for docs/tests; the ingester detects it); XLSX: its XML parts
    text_col: str | None  # column holding the text; None for JSONL calls with a turn list
    id_col: str | None
    time_col: str | None
    rows: int             # data rows written, duplicates and bad rows included
    bad_rows: int         # rows the ingester must reject (reasons in the comment beside each entry)
    description: str


@dataclass(frozen=True)
class EmergingIssue:
    """A trend planted in the corpus for topic-trend work to find."""

    industry: str
    file: str
    keywords: tuple[str, ...]  # the first, plus any one of the others, marks a document about it
    start: str  # ISO date the rise begins
    end: str
    description: str


DEMO_FILES: tuple[DemoFile, ...] = (
    # bad: score "10分满分" (not a number), score 11 (outside 0-10), empty text, time "昨天下午"
    DemoFile("survey_retail_banking.csv", "survey", "csv", "utf-8-sig", "text", "id", "time", 396, 4,
             "Retail-store and bank-branch post-visit NPS surveys; open answers; UTF-8 with BOM."),
    # bad: 评分 "非常满意" (not a number), empty 回答, 时间 "上周三"
    DemoFile("survey_property.xlsx", "survey", "xlsx", "utf-8", "回答", "编号", "时间", 201, 3,
             "Residents' satisfaction survey for property management; Chinese headers; date cells."),
    # bad: time "前天上午十点", empty turn list
    DemoFile("hotline_telecom.jsonl", "hotline", "jsonl", "utf-8", None, "call_id", "time", 249, 2,
             "Telecom hotline calls as turn lists ({role,text} and older {speaker,content} exports)."),
    # bad: empty transcript, time "上个月"
    DemoFile("hotline_banking.csv", "hotline", "csv", "utf-8", "transcript", "call_id", "time", 150, 2,
             "Bank and retail after-sales hotline calls as 坐席：/客户： transcripts."),
    # bad: 星级 "五星" (not a number), 星级 7 (outside 1-5), empty 评价内容, 时间 "前天晚上"
    DemoFile("reviews_food_delivery_gbk.csv", "review", "csv", "gbk", "评价内容", "编号", "时间", 500, 4,
             "Food-delivery reviews from 美团/饿了么/大众点评; Chinese headers; GBK-encoded."),
    # bad: a text over 20,000 characters, rating "好评" (not a number), time "昨天下午"
    DemoFile("reviews_logistics.tsv", "review", "tsv", "utf-8", "text", "id", "time", 350, 3,
             "E-commerce logistics and online-retail reviews and social posts; tab-separated."),
    # bad: empty text, rating 6 (outside 1-5)
    DemoFile("reviews_hk_tw_big5.csv", "review", "csv", "big5", "text", "id", "time", 100, 2,
             "Hong Kong and Taiwan retail and telecom reviews in Traditional Chinese; Big5-encoded."),
)

EMERGING_ISSUES: tuple[EmergingIssue, ...] = (
    EmergingIssue(
        "logistics", "reviews_logistics.tsv", ("快递柜", "超时收费", "超时费", "保管费", "收费"),
        "2026-10-31", "2026-11-20",
        "Parcel-locker overtime fees: rare until late October, then a sharp rise to the end of the data.",
    ),
    EmergingIssue(
        "telecom", "hotline_telecom.jsonl", ("宽带", "断网", "断了", "连不上", "网断了"),
        "2026-10-12", "2026-10-18",
        "A broadband outage: hotline volume and 宽带断网 calls spike for one week.",
    ),
)

INDUSTRIES: tuple[str, ...] = ("retail", "food_delivery", "property", "banking", "telecom", "logistics")


def demo_data_dir() -> Path:
    """The packaged ``voc/demo/data`` directory."""
    return Path(str(resources.files("voc.demo") / "data"))
