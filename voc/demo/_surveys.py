"""Survey files: retail and bank post-visit NPS surveys (CSV) and a residents' survey (XLSX)."""

from __future__ import annotations

import random
from datetime import datetime

from voc.demo._compose import Composer
from voc.demo._lex_property_banking import BANKING, PROPERTY
from voc.demo._lex_retail_food import RETAIL
from voc.demo._rows import (
    Row,
    add_noise,
    assign_ids,
    burst_times,
    insert_bad,
    insert_duplicates,
    nps_score,
    sentiment,
    spam_texts,
)
from voc.demo._util import fill, fmt_time, random_time

SURVEY_COLUMNS = ["id", "survey", "question", "respondent", "score", "text", "time", "channel", "industry",
                  "store", "product"]
PROPERTY_COLUMNS = ["编号", "问卷", "题目", "受访者", "评分", "回答", "时间", "渠道", "行业", "小区"]

_Q4 = datetime(2026, 10, 1)
SURVEYS = {
    "retail": (["门店购物体验调研（2026年第三季度）", "会员满意度回访"],
               ["门店购物体验调研（2026年第四季度）", "会员满意度回访"]),
    "banking": (["网点服务满意度调查2026Q3", "信用卡客户体验回访"],
                ["网点服务满意度调查2026Q4", "信用卡客户体验回访"]),
}
QUESTIONS = {
    "retail": ["您对本次购物体验还有什么建议？", "您给出这个分数的主要原因是什么？", "您最希望我们改进哪方面？",
               "您对门店服务还有什么意见或建议？"],
    "banking": ["您对本次网点服务还有什么建议？", "您给出这个分数的主要原因是什么？", "您认为我们最需要改进的地方是？"],
}
CHANNELS = ["短信问卷", "微信小程序", "门店扫码", "APP推送", "电话回访"]

# A campaign: account holders paste the same protest into the survey, each changing a word or two.
BANK_SPAM = ("强烈要求取消小额账户管理费！！每个季度偷偷扣钱，不通知不提醒，老百姓的血汗钱也要算计，"
             "请银行给个说法，退还这几年扣的所有费用，大家一起投诉到底！")
PROPERTY_SPAM = ("坚决反对物业费上涨！物业费从每平2.2元涨到3.5元，服务却越来越差，电梯三天两头坏，车库漏水没人管，"
                 "保安形同虚设。我们全体业主要求物业公开近三年账目、召开业主大会表决，不同意涨价！")


def _survey_name(rng: random.Random, industry: str, ts: datetime) -> str:
    q3, q4 = SURVEYS[industry]
    return rng.choice(q4 if ts >= _Q4 else q3)


def survey_retail_banking(rng: random.Random) -> tuple[list[Row], int]:
    writers = {"retail": Composer(rng, RETAIL), "banking": Composer(rng, BANKING)}
    lexicons = {"retail": RETAIL, "banking": BANKING}
    rows: list[Row] = []
    for _ in range(378):
        industry = "retail" if rng.random() < 0.55 else "banking"
        lex = lexicons[industry]
        ts = random_time(rng)
        label = sentiment(rng)
        cache: dict[str, str] = {"store": fill("{store}", rng, lex.slots, {})}
        if industry == "banking":
            cache["product"] = rng.choice(lex.slots["product"])
        text, _ = writers[industry].compose(label, cache=cache, survey=True)
        text, _ = add_noise(rng, text, pii_p=0.02)
        rows.append(_survey_row(rng, industry, ts, label, text, cache))
    for ts, text in zip(burst_times(rng, 6, datetime(2026, 9, 14), 3), spam_texts(rng, BANK_SPAM, 6), strict=True):
        cache = {"store": fill("{store}", rng, BANKING.slots, {}), "product": "储蓄卡"}
        rows.append(_survey_row(rng, "banking", ts, "negative", text, cache, score=0))
    next_id = assign_ids(rows, "id", "SV{:06d}", start=100001)
    insert_duplicates(rng, rows, 8)
    bad = []
    for i, (field, value) in enumerate([("score", "10分满分"), ("score", 11), ("text", ""), ("time", "昨天下午")]):
        lex = RETAIL if i % 2 == 0 else BANKING
        cache = {"store": fill("{store}", rng, lex.slots, {})}
        text = Composer(rng, lex).compose("negative", cache=cache)[0]
        row = _survey_row(rng, lex.industry, random_time(rng), "negative", text, cache)
        row["id"] = f"SV{next_id + i:06d}"
        row[field] = value
        bad.append(row)
    insert_bad(rng, rows, bad)
    return rows, len(bad)


def _survey_row(rng: random.Random, industry: str, ts: datetime, label: str, text: str, cache: dict[str, str],
                score: int | None = None) -> Row:
    return {
        "_ts": ts, "_text": text,
        "survey": _survey_name(rng, industry, ts),
        "question": rng.choice(QUESTIONS[industry]),
        "respondent": f"M{rng.randint(10_000_000, 99_999_999)}",
        "score": nps_score(rng, label) if score is None else score,
        "text": text,
        "time": fmt_time(ts, "iso" if rng.random() < 0.85 else "slash_time"),
        "channel": rng.choice(CHANNELS),
        "industry": industry,
        "store": cache["store"],
        "product": cache.get("product", ""),
    }


PROPERTY_SURVEYS = ["2026年度业主满意度调查", "物业服务季度回访"]
PROPERTY_QUESTIONS = ["您对小区物业服务还有什么意见或建议？", "您给物业打这个分数的主要原因是？",
                      "您最希望物业改进哪方面？"]


def survey_property(rng: random.Random) -> tuple[list[Row], int]:
    """Cells keep native types (int scores, datetime times) as a survey tool's XLSX export does."""
    writer = Composer(rng, PROPERTY)
    rows: list[Row] = []
    for _ in range(184):
        label = sentiment(rng)
        cache = {"store": rng.choice(PROPERTY.slots["store"])}
        text, _ = writer.compose(label, cache=cache, survey=True)
        text, _ = add_noise(rng, text, pii_p=0.02)
        rows.append(_property_row(rng, random_time(rng), label, text, cache["store"]))
    spam_times = burst_times(rng, 10, datetime(2026, 10, 20), 4)
    for ts, text in zip(spam_times, spam_texts(rng, PROPERTY_SPAM, 10), strict=True):
        rows.append(_property_row(rng, ts, "negative", text, "锦绣华庭", score=0))
    next_id = assign_ids(rows, "编号", "WY-{:05d}")
    insert_duplicates(rng, rows, 4)
    bad = []
    for i, (field, value) in enumerate([("评分", "非常满意"), ("回答", None), ("时间", "上周三")]):
        cache = {"store": rng.choice(PROPERTY.slots["store"])}
        row = _property_row(rng, random_time(rng), "negative", writer.compose("negative", cache=cache)[0],
                            cache["store"])
        row["编号"] = f"WY-{next_id + i:05d}"
        row[field] = value
        bad.append(row)
    insert_bad(rng, rows, bad)
    return rows, len(bad)


def _property_row(rng: random.Random, ts: datetime, label: str, text: str, community: str,
                  score: int | None = None) -> Row:
    # Some survey tools export the date as text; most keep it a real date cell.
    when: datetime | str = ts if rng.random() < 0.88 else fmt_time(ts, "slash")
    return {
        "_ts": ts, "_text": text,
        "问卷": rng.choice(PROPERTY_SURVEYS),
        "题目": rng.choice(PROPERTY_QUESTIONS),
        "受访者": f"{rng.randint(1, 18)}-{rng.randint(1, 4)}-{rng.randint(2, 32)}0{rng.randint(1, 4)}",
        "评分": nps_score(rng, label) if score is None else score,
        "回答": text,
        "时间": when,
        "渠道": rng.choice(["微信公众号", "管家上门", "业主群链接", "短信问卷"]),
        "行业": "property",
        "小区": community,
    }
