"""Review files: food delivery (GBK CSV), e-commerce logistics and online retail (TSV), HK/TW (Big5 CSV)."""

from __future__ import annotations

import random
from datetime import datetime

from voc.demo._compose import Composer
from voc.demo._hant import HANT_PLATFORMS, HANT_RETAIL, HANT_TELECOM, TRADITIONAL
from voc.demo._lex_retail_food import FOOD, FOOD_MENU
from voc.demo._lex_telecom_logistics import LOGISTICS, LOGISTICS_COURIER_ASPECTS, SHOP_PRODUCTS
from voc.demo._rows import (
    Row,
    add_noise,
    assign_ids,
    blank_id_pairs,
    burst_times,
    insert_bad,
    insert_duplicates,
    long_text,
    sentiment,
    spam_texts,
    star_rating,
)
from voc.demo._util import email, fmt_time, random_time, weighted

FOOD_COLUMNS = ["编号", "平台", "店铺", "商品", "星级", "评价内容", "时间", "渠道", "行业"]
REVIEW_COLUMNS = ["id", "platform", "store", "product", "rating", "text", "time", "channel", "industry"]
HANT_COLUMNS = [*REVIEW_COLUMNS, "region"]

FOOD_SPAM = ("新店开业大酬宾！本店所有菜品现点现做，干净卫生，好评返现：收到餐后五星好评并晒图，"
             "联系商家即可领取5元红包，加VX：ms20260888还可以进福利群每天抽免单，先到先得，欢迎新老顾客光临！")
LOGISTICS_SPAM = ("【避雷】云兔快递把我价值三千多的东西弄丢了，打客服电话永远占线，网点电话没人接，"
                  "投诉到平台也只会让我等，已经半个月了一点结果都没有！！大家寄东西千万别选这家，"
                  "转发让更多人看到，别再被坑了！")

# Logistics: parcel lockers start charging overtime fees; complaints climb over the last three weeks.
EMERGING_START = datetime(2026, 10, 31)
EMERGING_END = datetime(2026, 11, 20, 23, 59, 59)
LOCKER_BOOST = {"快递柜超时收费": 6.0}


def reviews_food(rng: random.Random) -> tuple[list[Row], int]:
    writer = Composer(rng, FOOD, emoji=False)  # GBK cannot encode emoji
    rows: list[Row] = []
    for _ in range(470):
        label = sentiment(rng)
        ts = random_time(rng)
        store = rng.choice(FOOD.slots["store"])
        cache = {"store": store, "dish": rng.choice(FOOD_MENU[store])}
        text, _ = writer.compose(label, cache=cache)
        text, _ = add_noise(rng, text, pii_p=0.02, html_p=0.03, punct_p=0.06)
        rows.append(_food_row(rng, ts, label, text, cache))
    spam_store = "湘味小厨"
    for ts, text in zip(burst_times(rng, 12, datetime(2026, 8, 22), 5), spam_texts(rng, FOOD_SPAM, 12), strict=True):
        rows.append(_food_row(rng, ts, "positive", text, {"store": spam_store, "dish": "小炒肉盖饭"}, rating=5))
    next_id = assign_ids(rows, "编号", "{:d}", start=5_308_812_001)
    insert_duplicates(rng, rows, 10)
    blank_id_pairs(rng, rows, "编号", 4)
    bad = []
    for i, (field, value) in enumerate([("星级", "五星"), ("星级", "7"), ("评价内容", ""), ("时间", "前天晚上")]):
        store = rng.choice(FOOD.slots["store"])
        cache = {"store": store, "dish": rng.choice(FOOD_MENU[store])}
        label = sentiment(rng)
        row = _food_row(rng, random_time(rng), label, writer.compose(label, cache=cache)[0], cache)
        row["编号"] = str(next_id + i)
        row[field] = value
        bad.append(row)
    insert_bad(rng, rows, bad)
    return rows, len(bad)


def _food_row(rng: random.Random, ts: datetime, label: str, text: str, cache: dict[str, str],
              rating: int | None = None) -> Row:
    platform = weighted(rng, {"美团": 50, "饿了么": 35, "大众点评": 15})
    return {
        "_ts": ts, "_text": text,
        "平台": platform, "店铺": cache["store"], "商品": cache["dish"],
        "星级": str(star_rating(rng, label) if rating is None else rating),
        "评价内容": text,
        "时间": fmt_time(ts, "minute" if rng.random() < 0.8 else "slash"),
        "渠道": "外卖平台" if platform != "大众点评" else "点评网站",
        "行业": "food_delivery",
    }


RETAIL_ASPECTS = ("商品质量", "退换货", "客服", "包装破损")
SOCIAL = ("小红书", "微博")


def reviews_logistics(rng: random.Random) -> tuple[list[Row], int]:
    writer = Composer(rng, LOGISTICS)
    times = [random_time(rng) for _ in range(285)] + [random_time(rng, EMERGING_START, EMERGING_END) for _ in range(40)]
    rows: list[Row] = []
    for ts in times:
        emerging = ts >= EMERGING_START
        industry = "logistics" if emerging or rng.random() < 0.7 else "retail"
        allowed = (*LOGISTICS_COURIER_ASPECTS, "包装破损", "客服") if industry == "logistics" else RETAIL_ASPECTS
        label = sentiment(rng, {"negative": 62, "neutral": 16, "positive": 22} if emerging else None)
        shop = rng.choice(LOGISTICS.slots["shop"])
        cache = {"shop": shop, "product": rng.choice(SHOP_PRODUCTS[shop])}
        text, aspect = writer.compose(label, cache=cache, allowed=allowed,
                                      aspect_weights=LOCKER_BOOST if emerging else None)
        platform = weighted(rng, {"淘宝": 30, "京东": 25, "拼多多": 25, "小红书": 10, "微博": 10})
        if platform == "微博" and aspect == "快递柜超时收费":
            text = "#快递柜超时收费# " + text
        elif platform == "微博" and "courier" in cache:
            text = f"@{cache['courier']} {text}"
        text, _ = add_noise(rng, text, pii_p=0.02, html_p=0.04, punct_p=0.06)
        rows.append(_review_row(rng, ts, label, text, cache["shop"], cache["product"], industry, platform))
    spam_times = burst_times(rng, 12, datetime(2026, 9, 25), 6)
    for ts, text in zip(spam_times, spam_texts(rng, LOGISTICS_SPAM, 12), strict=True):
        platform = rng.choice(["微博", "小红书", "淘宝"])
        rows.append(_review_row(rng, ts, "negative", text, "数码优品官方店", "蓝牙耳机", "logistics", platform))
    next_id = assign_ids(rows, "id", "R{:07d}", start=7_000_001)
    insert_duplicates(rng, rows, 7)
    blank_id_pairs(rng, rows, "id", 3)
    bad = []
    for i, (field, value) in enumerate([("text", long_text(rng)), ("rating", "好评"), ("time", "昨天下午")]):
        shop = rng.choice(LOGISTICS.slots["shop"])
        cache = {"shop": shop, "product": rng.choice(SHOP_PRODUCTS[shop])}
        text = writer.compose("negative", cache=cache)[0]
        row = _review_row(rng, random_time(rng), "negative", text, cache["shop"], cache["product"], "logistics", "淘宝")
        row["id"] = f"R{next_id + i:07d}"
        row[field] = value
        bad.append(row)
    insert_bad(rng, rows, bad)
    return rows, len(bad)


def _review_row(rng: random.Random, ts: datetime, label: str, text: str, store: str, product: str,
                industry: str, platform: str) -> Row:
    # Social posts carry no star rating; the cell stays empty, which is not an error.
    rating = "" if platform in SOCIAL else str(star_rating(rng, label))
    return {
        "_ts": ts, "_text": text,
        "platform": platform, "store": store, "product": product, "rating": rating, "text": text,
        "time": fmt_time(ts, "iso"), "channel": "社交媒体" if platform in SOCIAL else "电商评价",
        "industry": industry,
    }


HK_STORES = {"retail": ["惠康佳超市旺角店", "惠康佳超市沙田店", "百佳福超市銅鑼灣店"],
             "telecom": ["港聯流動旺角門市", "港聯流動觀塘門市"]}
TW_STORES = {"retail": ["好鄰居超市信義店", "好鄰居超市板橋店", "美日生活館台中店", "全家福便利商店中山店",
                        "小確幸生活百貨高雄店"],
             "telecom": ["遠通電訊西門門市", "遠通電訊台中門市", "星河電信板橋門市"]}
FORUMS = ("PTT", "Dcard", "連登", "Facebook")


def _hant_pii(rng: random.Random) -> str:
    """Contact details as HK and TW customers write them (not mainland formats)."""
    kind = rng.randint(0, 2)
    if kind == 0:
        number = f"09{rng.randint(10, 99)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}"
        return rng.choice(["有問題請打給我 {v}", "我的手機 {v}"]).format(v=number)
    if kind == 1:
        return f"聯絡電話 {rng.choice('5679')}{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    return rng.choice(["我的信箱是 {v}", "回覆請寄到 {v}"]).format(v=email(rng))


def reviews_hk_tw(rng: random.Random) -> tuple[list[Row], int]:
    writers = {"retail": Composer(rng, HANT_RETAIL, emoji=False, phrases=TRADITIONAL),
               "telecom": Composer(rng, HANT_TELECOM, emoji=False, phrases=TRADITIONAL)}
    rows: list[Row] = []
    for _ in range(96):
        industry = "retail" if rng.random() < 0.5 else "telecom"
        region = "HK" if rng.random() < 0.4 else "TW"
        store = rng.choice((HK_STORES if region == "HK" else TW_STORES)[industry])
        label = sentiment(rng)
        lex = HANT_RETAIL if industry == "retail" else HANT_TELECOM
        cache = {"store": store, "product": rng.choice(lex.slots["product"])}
        text, _ = writers[industry].compose(label, cache=cache)
        text, _ = add_noise(rng, text, pii_p=0.03, fw_p=0.02, punct_p=0.05, pii=_hant_pii)
        rows.append(_hant_row(rng, random_time(rng), label, text, cache, industry, region))
    next_id = assign_ids(rows, "id", "HT{:05d}", start=30001)
    insert_duplicates(rng, rows, 2)
    bad = [dict(rows[4], id=f"HT{next_id:05d}", text="", _text=""),
           dict(rows[11], id=f"HT{next_id + 1:05d}", rating="6", platform="Google 評論")]
    insert_bad(rng, rows, bad)
    return rows, len(bad)


def _hant_row(rng: random.Random, ts: datetime, label: str, text: str, cache: dict[str, str], industry: str,
              region: str) -> Row:
    platform = rng.choice([p for p in HANT_PLATFORMS if region == "HK" or p != "連登"])
    return {
        "_ts": ts, "_text": text,
        "platform": platform, "store": cache["store"], "product": cache.get("product", ""),
        "rating": "" if platform in FORUMS else str(star_rating(rng, label)), "text": text,
        "time": fmt_time(ts, "slash"), "channel": "論壇" if platform in FORUMS else "地圖評論",
        "industry": industry, "region": region,
    }
