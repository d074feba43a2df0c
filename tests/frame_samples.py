"""A varied sample of documents as an `analyse_frame` input: reviews, surveys, hotline calls (turns as a list,
as JSON and as a transcript), PII of every kind, Traditional characters, full-width text, empty and odd rows,
and rows from the public review, hotel, complaint and customer-service sets when ../shared/data is there.

`reference_document` analyses one row alone through `build_document` and the pipeline: the single-document
path the batch function must equal field by field.
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.pii_samples import email, id_number, luhn_16, phone
from voc.documents import Document
from voc.ingest.records import RowRejected, build_document
from voc.pipeline import Pipeline
from voc.settings import VocSettings

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _csv_texts(path: Path, column: str, count: int, rng: random.Random) -> list[str]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        texts = [row[column] for row in csv.DictReader(handle) if row.get(column)]
    return rng.sample(texts, min(count, len(texts)))


def _calls(count: int) -> list[list[dict[str, str]]]:
    path = SHARED_DATA / "jddc2019_cs_dialogue_sample" / "chat_0.1per.txt"
    if not path.is_file():
        return []
    sessions: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 7 and len(sessions) <= count:
                sessions[parts[0]].append({"role": "agent" if parts[2] == "1" else "customer", "text": parts[6]})
    return list(sessions.values())[:count]


def sample_rows(data_rows: int = 12, seed: int = 0) -> list[dict[str, Any]]:
    """Input rows (dicts with `analyse_frame`'s input columns)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = [
        {"source": "review", "text": f"快遞太慢了，但是東西不錯，有事打{phone(rng)}", "created_at": "2024-05-01 10:00",
         "store": "上海南京路店", "product": "奶茶", "rating": 4, "channel": "美团"},
        {"source": "review", "text": "ＡＢＣ全角字符，服务态度很差！！！", "created_at": "2024年5月2日", "rating": "1"},
        {"source": "review", "text": f"卡号{luhn_16(rng)}被扣了两次钱", "id": "r-2", "platform": "京东",
         "meta": {"订单邮箱": email(rng), "vip": True}},
        {"source": "survey", "text": f"身份证{id_number(rng)}办卡流程太复杂", "score": 3, "survey": "NPS 2024Q2",
         "question": "您不推荐的原因？", "respondent": "u-17", "created_at": 1714550400},
        {"source": "survey", "text": "很满意，下次还来", "score": 10, "industry": "餐饮", "meta": '{"门店等级": "A"}'},
        {"source": "hotline", "id": "call-1", "agent": "A001", "duration_s": 95,
         "turns": [{"role": "customer", "text": f"我的电话是{phone(rng)}，空调不制冷"},
                   {"role": "agent", "text": "好的，帮您登记维修"},
                   {"role": "customer", "text": "師傅什麼時候上門？"}]},
        {"source": "hotline", "id": "call-2",
         "turns": json.dumps([{"role": "客户", "text": "退款一直没到账"}, {"role": "客服", "text": "请稍等"}],
                             ensure_ascii=False)},
        {"source": "hotline", "text": "客户：快递丢件了\n客服：我帮您查一下\n客户：谢谢", "created_at": "2024-06-01"},
        # rows the batch must reject with a reason, never drop
        {"source": "review", "text": "   "},
        {"source": "survey", "text": "还行", "score": 42},
        {"source": "review", "text": "时间不对", "created_at": "not a date"},
        {"source": "hotline", "turns": [{"role": "agent", "text": "您好"}]},
        {"source": "forum", "text": "来源不对"},
        {"source": "review", "text": "元数据不对", "meta": "[1, 2]"},
        # the same text twice with different context: two documents; the same row twice: one id
        {"source": "review", "text": "很好", "store": "A"},
        {"source": "review", "text": "很好", "store": "B"},
        {"source": "review", "text": "很好", "store": "B"},
    ]
    for text in _csv_texts(SHARED_DATA / "waimai_10k" / "waimai_10k.csv", "review", data_rows, rng):
        rows.append({"source": "review", "text": text, "industry": "外卖", "created_at": datetime(2024, 7, 3, 12)})
    for text in _csv_texts(SHARED_DATA / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv", "review",
                           data_rows // 2, rng):
        rows.append({"source": "review", "text": text, "industry": "酒店"})
    for text in _csv_texts(SHARED_DATA / "tipdm2020_gov_complaint_messages" / "fujian3_messages_with_votes_raw.csv",
                           "留言详情", data_rows // 2, rng):
        rows.append({"source": "survey", "text": text, "channel": "留言板", "created_at": "2019/2/28 11:25:05"})
    for index, turns in enumerate(_calls(data_rows // 2)):
        rows.append({"source": "hotline", "id": f"jd-{index}", "turns": turns})
    return rows


FRAME_TO_CANONICAL = {"created_at": "time"}


def reference_document(row: dict[str, Any], settings: VocSettings, pipeline: Pipeline) -> Document | str:
    """The row analysed alone: build_document, then the pipeline on a batch of one. A rejected row gives
    its reason."""
    values = {FRAME_TO_CANONICAL.get(name, name): value for name, value in row.items()
              if name not in ("source", "meta") and value is not None}
    meta = row.get("meta")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError:
            return "meta is not a JSON object"
    if meta is not None and not isinstance(meta, dict):
        return "meta must be an object"
    if row["source"] not in ("survey", "hotline", "review"):
        return "unknown source"
    try:
        doc = build_document(row["source"], values, {name: name for name in values},
                             max_chars=settings.max_text_chars)
    except RowRejected as exc:
        return str(exc)
    if meta:
        doc.meta["extra"] = meta
    return pipeline([doc])[0]
