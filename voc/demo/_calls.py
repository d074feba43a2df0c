"""Hotline files: telecom calls as JSONL turn lists, bank and retail after-sales calls as CSV transcripts."""

from __future__ import annotations

import random
from datetime import datetime

from voc.demo._hotline import CallWriter
from voc.demo._hotline_lex import BANKING_SCRIPTS, RETAIL_SCRIPTS, TELECOM_SCRIPTS
from voc.demo._lex_property_banking import BANKING
from voc.demo._lex_retail_food import RETAIL
from voc.demo._lex_telecom_logistics import TELECOM
from voc.demo._rows import Row, assign_ids, insert_bad, insert_duplicates
from voc.demo._util import fill, fmt_time, random_time

TELECOM_COLUMNS = ["call_id", "time", "channel", "industry", "agent", "duration_s", "product", "turns"]
BANKING_COLUMNS = ["call_id", "time", "channel", "industry", "agent", "duration_s", "product", "store", "transcript"]

# Telecom: a fibre outage in one district during the week of 12 October floods the hotline.
OUTAGE_START = datetime(2026, 10, 12)
OUTAGE_END = datetime(2026, 10, 18, 23, 59, 59)
TELECOM_TOPICS = {"宽带断网": 1.5, "话费乱扣": 2.0, "流量套餐": 2.0, "携号转网": 1.0, "信号": 1.0, "余额查询": 1.0,
                  "积分兑换": 0.6}
BROADBAND_PRODUCTS = ["千兆宽带", "300M宽带", "宽带+手机融合套餐", "199元家庭融合套餐"]
MOBILE_PRODUCTS = ["59元畅享套餐", "5G升级套餐129元", "流量日租包", "39元学生卡", "老年卡", "199元家庭融合套餐"]
OUTAGE_TOPICS = {**TELECOM_TOPICS, "宽带断网": 14.0}
BANKING_TOPICS = {"信用卡年费": 2.0, "手续费": 1.5, "卡冻结限额": 1.5, "挂失补卡": 1.0, "理财推销": 1.5,
                  "还款查询": 1.2, "账单分期": 0.8}
RETAIL_TOPICS = {"退换货": 3.0, "店员态度": 1.0, "会员积分": 1.0}

AGENTS = [f"{n:04d}" for n in (1023, 1047, 1102, 1135, 1188, 2016, 2031, 2077, 2093, 3005, 3018, 3042)]
PII_P = 0.15


def _duration(rng: random.Random, turns: list[tuple[str, str]]) -> int:
    """Speech at ~4 characters a second, a pause per turn, and sometimes hold music."""
    talk = sum(len(text) for _, text in turns) / 4 + 3 * len(turns)
    hold = rng.choice([0, 0, 0, 15, 30, 60, 120])
    return int(talk + hold + rng.randint(0, 20))


def hotline_telecom(rng: random.Random) -> tuple[list[Row], int]:
    slots = {**TELECOM.slots, "brand": ["{op}"]}
    writer = CallWriter(rng, "telecom", TELECOM_SCRIPTS, slots)
    times = [random_time(rng, hotline=True) for _ in range(196)]
    times += [random_time(rng, OUTAGE_START, OUTAGE_END, hotline=True) for _ in range(46)]
    rows: list[Row] = []
    for ts in times:
        topics = OUTAGE_TOPICS if OUTAGE_START <= ts <= OUTAGE_END else TELECOM_TOPICS
        agent = rng.choice(AGENTS)
        topic = writer.topic(topics)
        products = BROADBAND_PRODUCTS if topic == "宽带断网" else MOBILE_PRODUCTS
        cache = {"agent_no": agent, "product": rng.choice(products)}
        call = writer.call(topic, pii_p=PII_P, cache=cache)
        # Two export generations: the newer one writes role/text, the older one speaker/content.
        if rng.random() < 0.8:
            turns = [{"role": role, "text": text} for role, text in call.turns]
        else:
            turns = [{"speaker": "坐席" if role == "agent" else "客户", "content": text} for role, text in call.turns]
        rows.append({
            "_ts": ts, "_text": call.turns[1][1],
            "time": fmt_time(ts, "iso"), "channel": rng.choice(["10000号热线", "10000号热线", "APP在线转人工"]),
            "industry": "telecom", "agent": f"T{agent}", "duration_s": _duration(rng, call.turns),
            "product": cache["product"], "turns": turns,
        })
    next_id = assign_ids(rows, "call_id", "CALL-T-{:06d}", start=880001)
    insert_duplicates(rng, rows, 5)
    bad = [dict(rows[3], call_id=f"CALL-T-{next_id:06d}", time="前天上午十点"),
           dict(rows[7], call_id=f"CALL-T-{next_id + 1:06d}", turns=[])]
    insert_bad(rng, rows, bad)
    return rows, len(bad)


def hotline_banking(rng: random.Random) -> tuple[list[Row], int]:
    writers = {
        "banking": (CallWriter(rng, "banking", BANKING_SCRIPTS, {**BANKING.slots, "brand": ["{bank}"]}),
                    BANKING_TOPICS, BANKING),
        "retail": (CallWriter(rng, "retail", RETAIL_SCRIPTS, dict(RETAIL.slots)), RETAIL_TOPICS, RETAIL),
    }
    rows: list[Row] = []
    for _ in range(145):
        industry = "banking" if rng.random() < 0.75 else "retail"
        writer, topics, lex = writers[industry]
        ts = random_time(rng, hotline=True)
        agent = rng.choice(AGENTS)
        cache = {"agent_no": agent, "product": rng.choice(lex.slots["product"])}
        cache["store"] = fill("{store}", rng, lex.slots, cache)  # shares {bank}/{brand} with the greeting
        call = writer.call(writer.topic(topics), pii_p=PII_P, cache=cache)
        rows.append({
            "_ts": ts, "_text": call.turns[1][1],
            "time": fmt_time(ts, "slash_full"), "channel": "400热线" if industry == "retail" else "95客服热线",
            "industry": industry, "agent": f"B{agent}", "duration_s": _duration(rng, call.turns),
            "product": cache["product"], "store": cache["store"], "transcript": _transcript(rng, call.turns),
        })
    next_id = assign_ids(rows, "call_id", "CB{:07d}", start=2026001)
    insert_duplicates(rng, rows, 3)
    bad = [dict(rows[2], call_id=f"CB{next_id:07d}", transcript=""),
           dict(rows[9], call_id=f"CB{next_id + 1:07d}", time="上个月")]
    insert_bad(rng, rows, bad)
    return rows, len(bad)


def _transcript(rng: random.Random, turns: list[tuple[str, str]]) -> str:
    """One labelling per call, as each call-centre system has its own: 坐席/客服, 客户/用户, ：or :."""
    agent = rng.choice(["坐席", "坐席", "客服"])
    customer = rng.choice(["客户", "客户", "用户"])
    colon = "：" if rng.random() < 0.75 else ":"
    return "\n".join(f"{agent if role == 'agent' else customer}{colon}{text}" for role, text in turns)
