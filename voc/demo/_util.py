"""Building blocks shared by the demo-corpus generators: slot filling, timestamps, PII and noise.

Everything takes an explicit ``random.Random`` so the whole corpus is a pure function of one seed.
Nothing here iterates over a set or uses ``hash()``: both vary between interpreter runs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

START = datetime(2026, 8, 1)
END = datetime(2026, 11, 20, 23, 59, 59)


@dataclass(frozen=True)
class Aspect:
    """Clause fragments about one aspect; no final punctuation, the composer adds it."""

    neg: Sequence[str]
    pos: Sequence[str] = ()
    ask: Sequence[str] = ()


@dataclass(frozen=True)
class Lexicon:
    """What customers of one industry talk about, and the words they fill in."""

    industry: str
    slots: Mapping[str, Sequence[str]]
    aspects: Mapping[str, Aspect]
    weights: Mapping[str, float] = field(default_factory=dict)  # default 1.0 per aspect
    short_neg: Sequence[str] = ()
    short_pos: Sequence[str] = ()
    short_neutral: Sequence[str] = ()
    glue_exclude: Sequence[str] = ()  # generic openers/closers that would sound wrong here (物业 has no 回购)


def _pick_num(values: Sequence[int | str]) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.choice(values))


# Numbers customers mention; a callable per slot keeps the ranges in one place.
NUMBER_SLOTS: dict[str, Callable[[random.Random], str]] = {
    "n_min": _pick_num([25, 30, 35, 40, 45, 50, 55, 60, 70, 80, 90, 100, 120]),
    "n_min_short": _pick_num([12, 15, 18, 20, 22, 25, 28]),
    "n_hour": _pick_num([2, 3, 4, 5, 6, 8, 10, 12]),
    "n_day": _pick_num(["两", "三", "四", "五", "六", "七", "十", "3", "4", "5", "8"]),
    "n_times": _pick_num(["两", "三", "四", "五", "好几", "N", "3", "4"]),
    "nth": _pick_num(["二", "三", "四", "五", "N"]),
    "swipes": _pick_num([1, 2, 3, 4, 5]),
    "points": _pick_num([860, 1200, 2350, 3560, 8800, 15000]),
    "due": _pick_num(list(range(1, 29))),
    "yuan": _pick_num([18, 22, 25, 28, 32, 35, 39, 45, 58, 68, 88]),
    "small_yuan": _pick_num(["0.5", "1", "1.5", "2", "3", "5"]),
    "big_yuan": _pick_num([199, 299, 399, 599, 899, 1299, 2399, 3500]),
    "price": _pick_num(["9.9", "12.8", "15.9", "19.9", "29.8", "39", "49.9"]),
    "price2": _pick_num(["13.8", "16.9", "22.5", "25.9", "35", "45", "59.9"]),
    "n_q": _pick_num([15, 20, 23, 30, 36, 41, 58, 70]),
    "pct": _pick_num([5, 8, 10, 12, 15, 20, 30]),
    "gb": _pick_num([20, 30, 40, 60, 80, 100]),
    "ms": _pick_num([200, 300, 460, 500, 999]),
    "fee": _pick_num(["1.8", "2.2", "2.5", "2.8", "3.2", "3.5", "4.2"]),
    "annual_fee": _pick_num([100, 200, 300, 480, 600, 1800]),
    "floor": _pick_num([6, 9, 11, 15, 18, 23, 27, 32]),
    "building": _pick_num([1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 15, 16, 18]),
}

_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random, slots: Mapping[str, Sequence[str]], cache: dict[str, str]) -> str:
    """Replace ``{slot}`` markers; one value per slot per record so a review names one store."""

    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in cache:
            if key in slots:
                cache[key] = fill(rng.choice(slots[key]), rng, slots, cache)
            elif key in NUMBER_SLOTS:
                cache[key] = NUMBER_SLOTS[key](rng)
            else:
                raise KeyError(f"unknown slot {{{key}}} in template {template!r}")
        return cache[key]

    return _SLOT.sub(repl, template)


def weighted(rng: random.Random, options: Mapping[str, float]) -> str:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys], k=1)[0]


# Feedback arrives mostly in waking hours; hotline calls are bounded by the 8:00-22:00 service window.
_HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 5, 6, 6, 7, 9, 8, 6, 6, 6, 7, 8, 10, 11, 10, 7, 3]


def random_time(
    rng: random.Random, start: datetime = START, end: datetime = END, *, hotline: bool = False
) -> datetime:
    days = (end.date() - start.date()).days
    day = start.date() + timedelta(days=rng.randint(0, days))
    weights = [w if (not hotline or 8 <= h < 22) else 0 for h, w in enumerate(_HOUR_WEIGHTS)]
    hour = rng.choices(range(24), weights=weights, k=1)[0]
    return datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59))


def fmt_time(ts: datetime, style: str) -> str:
    """The date formats exports really come in; all are unambiguous year-month-day."""
    if style == "iso":
        return ts.strftime("%Y-%m-%d %H:%M:%S")
    if style == "iso_t":
        return ts.strftime("%Y-%m-%dT%H:%M:%S")
    if style == "minute":
        return ts.strftime("%Y-%m-%d %H:%M")
    if style == "slash":
        return f"{ts.year}/{ts.month}/{ts.day}"
    if style == "slash_time":
        return f"{ts.year}/{ts.month}/{ts.day} {ts.hour}:{ts.minute:02d}"
    if style == "slash_full":
        return ts.strftime("%Y/%m/%d %H:%M:%S")
    raise ValueError(style)


# ---------------------------------------------------------------------------------------------- PII

_AREA_CODES = ["110101", "110105", "310104", "310115", "440305", "440106", "320102", "330106",
               "510107", "420106", "370202", "350203", "610113", "120104"]
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a mainland resident ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number(rng: random.Random) -> str:
    born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 44))
    first17 = f"{rng.choice(_AREA_CODES)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def luhn_check_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


# Debit cards are 19 digits, credit cards 16, as on real mainland cards.
_CARD_BINS = [("622202", 19), ("621700", 19), ("622848", 19), ("621483", 19), ("622588", 16),
              ("625802", 16), ("438088", 16)]


def bank_card(rng: random.Random) -> str:
    bin_, length = rng.choice(_CARD_BINS)
    body = bin_ + "".join(str(rng.randint(0, 9)) for _ in range(length - len(bin_) - 1))
    return body + luhn_check_digit(body)


_MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                    "157", "158", "159", "177", "180", "182", "185", "186", "187", "188", "189", "199"]


def mobile(rng: random.Random, style: str | None = None) -> str:
    num = rng.choice(_MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
    style = style or rng.choices(["plain", "dash", "space", "plus"], weights=[6, 2, 1, 1])[0]
    if style == "dash":
        return f"{num[:3]}-{num[3:7]}-{num[7:]}"
    if style == "space":
        return f"{num[:3]} {num[3:7]} {num[7:]}"
    if style == "plus":
        return f"+86 {num}"
    return num


def landline(rng: random.Random) -> str:
    area, digits = rng.choice([("021", 8), ("010", 8), ("0755", 8), ("020", 8), ("0571", 8), ("028", 8)])
    local = str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))
    return f"({area}){local}" if rng.random() < 0.2 else f"{area}-{local}"


_PINYIN = ["zhangwei", "wangfang", "lina", "liuyang", "chenjing", "yangli", "zhaolei", "huangmin",
           "zhoujie", "wuhao", "xuqian", "sunxiaoyu", "maqiang", "zhuting", "hulin", "guoxin"]
_MAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "gmail.com", "outlook.com"]


def email(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f"{rng.randint(10_000_000, 3_999_999_999)}@qq.com"
    return f"{rng.choice(_PINYIN)}{rng.choice(['', '_', '.'])}{rng.randint(1, 2005)}@{rng.choice(_MAIL_DOMAINS)}"


def pii_sentence(rng: random.Random) -> str:
    """A sentence in which a customer volunteers contact or account details in free text."""
    kind = rng.choices(["mobile", "landline", "id", "card", "email"], weights=[5, 1, 1.5, 1.5, 1.5])[0]
    if kind == "mobile":
        return rng.choice(["有问题请联系我{v}", "我电话{v}，麻烦尽快回电", "手机号{v}，打不通就发短信",
                           "联系方式：{v}", "留个电话{v}，请负责人联系我"]).format(v=mobile(rng))
    if kind == "landline":
        return rng.choice(["白天打我单位电话{v}", "座机{v}，工作日都在"]).format(v=landline(rng))
    if kind == "id":
        return rng.choice(["我身份证号{v}，你们自己查", "登记的身份证是{v}"]).format(v=id_number(rng))
    if kind == "card":
        return rng.choice(["退款请打到这张卡{v}", "扣款的卡号是{v}", "我的卡号{v}，查一下流水"]).format(
            v=bank_card(rng))
    return rng.choice(["发票请发我邮箱{v}", "处理结果发到{v}", "邮箱{v}，有回复请发邮件"]).format(v=email(rng))


# -------------------------------------------------------------------------------------------- noise

_FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def to_fullwidth(text: str) -> str:
    """What some IMEs and old systems emit: ASCII letters and digits as full-width forms."""
    return "".join(_FULLWIDTH.get(ch, ch) if ch.isalnum() else ch for ch in text)


def html_noise(rng: random.Random, text: str) -> str:
    """Scraped review text often keeps HTML entities from the page it came from."""
    choice = rng.randint(0, 3)
    if choice == 0 and "，" in text:
        return text.replace("，", "，&nbsp;", 1)
    if choice == 1:
        return text + rng.choice(["&nbsp;&nbsp;", "&#183;&#183;&#183;", "&lt;br&gt;"])
    if choice == 2:
        return rng.choice(["&quot;", "&#8220;"]) + text + rng.choice(["&quot;", "&#8221;"])
    return text.replace("和", "&amp;", 1) if "和" in text else text + " &amp;&amp;"


def punct_run(rng: random.Random, text: str) -> str:
    """Angry and excited customers type runs of punctuation."""
    if text.endswith(("？", "?")):
        return text.rstrip("？?") + rng.choice(["？？？", "？！？！", "???"])
    run = rng.choice(["！！！！", "！！！", "。。。。", "。。。。。。", "......", "!!!", "~~~"])
    return text.rstrip("。！？!?.~") + run


def mutate(rng: random.Random, text: str, pool: str, n: int) -> str:
    """Change ``n`` characters, the way copy-paste spam dodges exact-duplicate filters."""
    chars = list(text)
    positions = [i for i, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff" or ch.isdigit()]
    for pos in rng.sample(positions, n):
        options = "0123456789" if chars[pos].isdigit() else pool  # a digit stays a digit: 5元 -> 6元
        chars[pos] = rng.choice([c for c in options if c != chars[pos]])
    return "".join(chars)
