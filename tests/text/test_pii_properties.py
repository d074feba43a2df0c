"""Property tests for the PII masker (issue 17 item 7): every written form of every PII type is
found with its type and leaves no run of 7 of its digits; identifiers after an identifier word are
never masked; masking is idempotent and its spans add up; the work is linear in the text length."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voc.text.normalize import Normalizer
from voc.text.pii import PLACEHOLDERS, PiiMasker

MASKER = PiiMasker()
NORMALIZER = Normalizer()
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Context with no digit, numeral, Latin letter or keyword in it, so any find comes from the PII.
FILLER = st.text(alphabet="的了很好吃服务态度差送餐慢味道不错下次还会来老板娘热情，。！ ", max_size=12)

# Independent references (not the code under test).
ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def with_id_check(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def with_luhn_digit(body: str) -> str:
    for check in "0123456789":
        digits = [int(d) for d in reversed(body + check)]
        if sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)) % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def digit_strings(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=length, max_size=length)


MOBILES = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"), digit_strings(9))
IDS = st.builds(
    lambda region, born, serial: with_id_check(f"{region}{born:%Y%m%d}{serial}"),
    st.builds(lambda first, rest: first + rest, st.sampled_from("123456789"), digit_strings(5)),
    st.builds(lambda days: date(1930, 1, 1) + timedelta(days=days), st.integers(0, 30_000)),
    digit_strings(3),
)
CARDS = st.builds(
    lambda first, rest: with_luhn_digit(first + rest),
    st.sampled_from("34569"),
    st.sampled_from([14, 15, 17]).flatmap(digit_strings),  # 16, 17 and 19 digits in all
)
LANDLINES = st.builds(
    lambda area, first, rest: f"{area}{first}{rest}",
    st.sampled_from(["010", "021", "0755", "0746", "0571"]),
    st.sampled_from("23456789"),
    st.sampled_from([6, 7]).flatmap(digit_strings),
)

# How people write a number. Each takes the digits (and a random source) and returns the text.
SEPARATORS = [" ", "-", ".", "\n", " - ", "\r\n", "\u00a0", "—"]
CN_NUMERALS = {
    "0": "〇零",
    "1": "一幺壹",
    "2": "二贰貳",
    "3": "三叁參参",
    "4": "四肆",
    "5": "五伍",
    "6": "六陆陸",
    "7": "七柒",
    "8": "八捌",
    "9": "九玖",
}
Render = Callable[[str, random.Random], str]


def grouped(sizes: list[int]) -> Render:
    def render(digits: str, rng: random.Random) -> str:
        separator = rng.choice(SEPARATORS)
        groups, position = [], 0
        for size in sizes:
            groups.append(digits[position : position + size])
            position += size
        groups.append(digits[position:])
        return separator.join(group for group in groups if group)

    return render


def broken_line(digits: str, rng: random.Random) -> str:
    cut = rng.randrange(1, len(digits))
    return digits[:cut] + rng.choice(["\n", "\r\n", " \n"]) + digits[cut:]


def full_width(digits: str, _rng: random.Random) -> str:
    return "".join(chr(ord(char) + 0xFEE0) for char in digits)


def math_bold(digits: str, _rng: random.Random) -> str:
    return "".join(chr(0x1D7CE + int(char)) if char.isdigit() else char for char in digits)


def chinese_numerals(digits: str, rng: random.Random) -> str:
    # Mixed with Arabic digits now and then, as people type them.
    return "".join(rng.choice(CN_NUMERALS[d]) if d in CN_NUMERALS and rng.random() < 0.8 else d for d in digits)


def spelled_out(digits: str, _rng: random.Random) -> str:
    return " ".join(digits)


def plain(digits: str, _rng: random.Random) -> str:
    return digits


MOBILE_FORMS: list[Render] = [
    plain, grouped([3, 4, 4]), grouped([3, 8]), grouped([7, 4]), broken_line, full_width, math_bold,
    chinese_numerals, spelled_out,
]
ID_FORMS: list[Render] = [
    plain, grouped([6, 8, 4]), grouped([6, 4, 4, 4]), broken_line, full_width, math_bold, chinese_numerals,
]
CARD_FORMS: list[Render] = [plain, grouped([4, 4, 4, 4, 4]), broken_line, full_width, math_bold, chinese_numerals]
LANDLINE_FORMS: list[Render] = [plain, grouped([4, 8]), broken_line, full_width, math_bold]


def _as_digits(text: str) -> str:
    """Digits of any kind made ASCII, everything else kept: what a reader could still piece together."""
    folded = NORMALIZER(text)
    return folded.translate({ord(c): d for d, chars in CN_NUMERALS.items() for c in chars})


def _assert_gone(masked: str, digits: str) -> None:
    readable = re.sub(r"[^0-9]", "", _as_digits(masked))  # separators removed: no help from them either
    assert not any(digits[i : i + 7] in readable for i in range(len(digits) - 6)), masked


@PROPERTY_SETTINGS
@given(st.data(), FILLER, FILLER)
def test_every_written_form_of_a_number_is_found(data: st.DataObject, before: str, after: str) -> None:
    kind, strategy, forms = data.draw(
        st.sampled_from([
            ("phone", MOBILES, MOBILE_FORMS),
            ("id_number", IDS, ID_FORMS),
            ("bank_card", CARDS, CARD_FORMS),
            ("landline", LANDLINES, LANDLINE_FORMS),
        ])
    )
    digits = data.draw(strategy)
    render = data.draw(st.sampled_from(forms))
    written = render(digits, random.Random(data.draw(st.integers(0, 2**32))))
    label = {"phone": "手机", "id_number": "身份证", "bank_card": "卡号", "landline": "座机"}[kind]
    text = f"{before}{label}：{written}。{after}"
    start = text.index(written)
    masked, spans = MASKER.mask(text)
    assert [s.type for s in spans if s.start <= start and s.end >= start + len(written)] == [kind], (text, spans)
    _assert_gone(masked, digits)
    # The same on the normalised text, which is what the index and topics see.
    masked, spans = MASKER.mask(NORMALIZER(text))
    assert [s.type for s in spans] == [kind], (NORMALIZER(text), spans)
    _assert_gone(masked, digits)


LOCAL_PARTS = st.from_regex(r"[a-z][a-z0-9]{2,10}(?:[._][a-z0-9]{1,5})?", fullmatch=True)
ASCII_DOMAINS = st.sampled_from(["qq.com", "163.com", "example.com.cn", "company.org", "mail.bücher.de"])
EMAIL_FORMS = [
    lambda local, domain: f"{local}@{domain}",
    lambda local, domain: f"{local}＠{domain}",
    lambda local, domain: f"{local}(at){domain}",
    lambda local, domain: f"{local} [at] {domain.replace('.', ' [dot] ')}",
    lambda local, domain: f"{local} at {domain.replace('.', ' dot ')}",
    lambda local, domain: f"{local}艾特{domain.replace('.', '点')}",
]


@PROPERTY_SETTINGS
@given(LOCAL_PARTS, ASCII_DOMAINS, st.sampled_from(EMAIL_FORMS), FILLER, FILLER)
def test_every_written_form_of_an_email_is_found(
    local: str, domain: str, form: Callable[[str, str], str], before: str, after: str
) -> None:
    written = form(local, domain)
    text = f"{before}邮箱：{written} {after}"
    masked, spans = MASKER.mask(text)
    start = text.index(written)
    assert [s.type for s in spans if s.start <= start and s.end >= start + len(written)] == ["email"], text
    assert local not in masked


@PROPERTY_SETTINGS
@given(st.sampled_from(["张三", "李小龙", "王五"]), st.sampled_from(["例子.中国", "公司.网络", "bücher.de"]), FILLER)
def test_internationalised_email_is_found(local: str, domain: str, after: str) -> None:
    text = f"我的邮箱是{local}@{domain} {after}"
    masked = MASKER.mask(text)[0]
    assert masked.startswith("我的邮箱是[邮箱]") and local not in masked


IDENTIFIER_WORDS = [
    "订单号", "单号", "运单号", "快递单号", "发票", "发票代码", "发票号码", "工单号", "流水号", "交易号",
    "会员号", "编号", "訂單號", "發票號碼",
]
MEMBER_WORDS = {"会员号"}


@PROPERTY_SETTINGS
@given(
    st.sampled_from(IDENTIFIER_WORDS),
    st.sampled_from(["", " ", "：", ":", "是", "为 ", "# "]),
    st.one_of(CARDS, LANDLINES, st.from_regex(r"[2-9][0-9]{7}", fullmatch=True), MOBILES),
    FILLER,
)
def test_identifiers_after_identifier_words_are_never_masked(word: str, filler: str, number: str, after: str) -> None:
    if word in MEMBER_WORDS and len(number) == 11 and number[0] == "1":
        return  # a mobile after 会员号 is the customer's phone: masked on purpose
    text = f"{word}{filler}{number}，{after}"
    assert MASKER.mask(text) == (text, [])


@PROPERTY_SETTINGS
@given(st.sampled_from(IDENTIFIER_WORDS), IDS)
def test_an_id_number_is_masked_after_any_word(word: str, number: str) -> None:
    assert [s.type for s in MASKER.mask(f"{word} {number}")[1]] == ["id_number"]


PII_PIECES = st.one_of(
    MOBILES, IDS, CARDS, LANDLINES, st.just("a.b@qq.com"), st.just("zhangsan at qq dot com"),
    st.from_regex(r"[0-9 .\-\n]{1,20}", fullmatch=True), st.sampled_from(["电话", "订单号", "号码", "一三八", "@"]),
)


@PROPERTY_SETTINGS
@given(st.lists(st.one_of(PII_PIECES, FILLER), max_size=8).map("".join), st.sampled_from(["tag", "partial"]))
def test_spans_add_up_and_masking_is_idempotent(text: str, style: str) -> None:
    masker = PiiMasker(style=style)  # type: ignore[arg-type]
    masked, spans = masker.mask(text)
    rebuilt, position = [], 0
    for span in spans:
        assert position <= span.start < span.end <= len(text)
        rebuilt.append(text[position : span.start] + masked[span.masked_start : span.masked_end])
        position = span.end
    rebuilt.append(text[position:])
    assert "".join(rebuilt) == masked
    if style == "tag":
        assert all(masked[s.masked_start : s.masked_end] in PLACEHOLDERS for s in spans)
        assert MASKER.find(masked) == []


def _best_time(text: str, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        MASKER.mask(text)
        best = min(best, time.perf_counter() - started)
    return best


def test_work_is_linear_in_the_text_length() -> None:
    """10x the text may cost ~10x the time, never ~100x (quadratic), for adversarial texts."""
    rng = random.Random(0)
    adversarial: dict[str, Callable[[int], str]] = {
        "digits and separators": lambda n: "".join(
            rng.choice("0123456789") + rng.choice(["", " ", "-", ".", "\n", "  "]) for _ in range(n)
        )[:n],
        "spelled-out digits": lambda n: ("1 3 8 " * n)[:n],
        "numerals and digits": lambda n: "".join(rng.choice("一二三四五六七八九〇1234 ") for _ in range(n)),
        "at and dot words": lambda n: ("a at b dot " * n)[:n],
        "at signs": lambda n: ("a@" * n)[:n],
        "one long local part": lambda n: "a" * (n - 7) + "@qq.com",
        "keywords and numbers": lambda n: ("电话" + "8" * 7 + " ") * (n // 10),
    }
    for name, make in adversarial.items():
        small, large = make(10_000), make(100_000)
        ratio = _best_time(large, repeats=2) / max(_best_time(small), 1e-4)
        assert ratio < 35, f"{name}: 10x longer text took {ratio:.0f}x as long"


def test_masker_still_pickles_and_agrees() -> None:
    import pickle

    text = "手机一三八一二三四五六七八，邮箱 zhangsan at qq dot com，订单号4111111111111111"
    assert pickle.loads(pickle.dumps(MASKER)).mask(text) == MASKER.mask(text)
