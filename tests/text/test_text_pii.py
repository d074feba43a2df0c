from __future__ import annotations

import pickle

import pytest

from voc.documents import PiiSpan
from voc.text.pii import PLACEHOLDERS, PiiMasker

# Independent reference implementations, so the tests do not trust the code under test.
ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def with_id_check(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def with_luhn_digit(body: str) -> str:
    for check in "0123456789":
        digits = [int(d) for d in reversed(body + check)]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


VALID_ID = with_id_check("11010519900307123")
VALID_CARD = with_luhn_digit("622202123456789012")  # 19 digits, UnionPay-like


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.fixture(scope="module")
def masker() -> PiiMasker:
    return PiiMasker()


def test_reference_values_are_what_we_think() -> None:
    assert with_id_check("11010519491231002") == "11010519491231002X"  # the GB 11643 example
    assert with_luhn_digit("411111111111111") == "4111111111111111"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("电话13812345678谢谢", "phone"),
        ("电话138-1234-5678谢谢", "phone"),
        ("电话138 1234 5678谢谢", "phone"),
        ("电话+86 13812345678谢谢", "phone"),
        ("电话8613812345678谢谢", "phone"),
        ("座机010-12345678谢谢", "landline"),
        ("座机0755-8888 8888谢谢", "landline"),
        ("座机(021)62345678谢谢", "landline"),
        (f"身份证{VALID_ID}谢谢", "id_number"),
        (f"卡号{VALID_CARD}谢谢", "bank_card"),
        ("卡号4111 1111 1111 1111谢谢", "bank_card"),
        ("卡号4111-1111-1111-1111谢谢", "bank_card"),
        ("邮箱zhang.san+vip@example.com.cn谢谢", "email"),
    ],
)
def test_each_type_found_and_tagged(masker: PiiMasker, text: str, kind: str) -> None:
    masked, spans = masker.mask(text)
    assert [s.type for s in spans] == [kind]
    span = spans[0]
    assert text[: span.start].endswith(("电话", "座机", "身份证", "卡号", "邮箱"))
    assert text[span.end :] == "谢谢"
    assert masked == text[: span.start] + masked[span.masked_start : span.masked_end] + "谢谢"
    assert masked[span.masked_start : span.masked_end] in PLACEHOLDERS


@pytest.mark.parametrize(
    "text",
    [
        "身份证" + VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1"),  # wrong check character
        "身份证" + with_id_check("11010519901307123"),  # month 13
        "订单号" + VALID_CARD[:-1] + str((int(VALID_CARD[-1]) + 1) % 10),  # fails Luhn
        "客服热线400-820-8820",
        "热线4008208820或800-810-8888",
        "银行客服95588",
        "订单号1381234567890123",  # phone digits inside a longer run
        "编号213812345678",  # phone digits preceded by another digit
        "价格138元",
    ],
)
def test_not_pii(masker: PiiMasker, text: str) -> None:
    assert masker.mask(text) == (text, [])


def test_spans_index_input_and_output(masker: PiiMasker) -> None:
    text = f"我叫张三，手机13812345678，身份证{VALID_ID}，邮箱a@b.cn。"
    masked, spans = masker.mask(text)
    assert masked == "我叫张三，手机[手机号]，身份证[身份证号]，邮箱[邮箱]。"
    assert [s.type for s in spans] == ["phone", "id_number", "email"]
    assert [text[s.start : s.end] for s in spans] == ["13812345678", VALID_ID, "a@b.cn"]
    assert [masked[s.masked_start : s.masked_end] for s in spans] == ["[手机号]", "[身份证号]", "[邮箱]"]
    assert all(isinstance(s, PiiSpan) for s in spans)


def test_full_width_digits_masked_in_raw_text(masker: PiiMasker) -> None:
    raw = f"电话{to_fullwidth('138-1234-5678')}，身份证{to_fullwidth(VALID_ID)}"
    masked, spans = masker.mask(raw)
    assert masked == "电话[手机号]，身份证[身份证号]"
    assert raw[spans[0].start : spans[0].end] == to_fullwidth("138-1234-5678")


def test_same_result_on_raw_and_normalised_text(masker: PiiMasker) -> None:
    from voc.text.normalize import Normalizer

    raw = f"联系我：{to_fullwidth('13812345678')}　或　{to_fullwidth('zhang@example.com')}！！"
    normalised = Normalizer()(raw)
    assert [s.type for s in masker.mask(raw)[1]] == [s.type for s in masker.mask(normalised)[1]]
    assert masker.mask(normalised)[0] == "联系我:[手机号] 或 [邮箱]!"


def test_overlaps_most_specific_wins(masker: PiiMasker) -> None:
    # An 18-digit ID also passes Luhn one time in ten; it must still be an ID.
    assert [s.type for s in masker.mask(f"号码{VALID_ID}")[1]] == ["id_number"]
    # A QQ mailbox contains a phone-like number: one e-mail, not a phone inside an e-mail.
    masked, spans = masker.mask("邮箱13812345678@qq.com")
    assert masked == "邮箱[邮箱]" and [s.type for s in spans] == ["email"]


def test_partial_style() -> None:
    partial = PiiMasker(style="partial")
    assert partial.mask("电话+86 138-1234-5678")[0] == "电话138****5678"
    assert partial.mask("卡号4111 1111 1111 1111")[0] == "卡号4111********1111"
    assert partial.mask("邮箱alice@example.com")[0] == "邮箱a***@example.com"
    assert partial.mask(f"身份证{VALID_ID}")[0] == f"身份证{VALID_ID[:3]}{'*' * 11}{VALID_ID[-4:]}"
    assert partial.mask("座机010-12345678")[0] == "座机010-****5678"
    masked, spans = partial.mask(f"卡号{VALID_CARD}")
    visible = [c for c in masked[spans[0].masked_start : spans[0].masked_end] if c.isdigit()]
    assert len(visible) == 8  # 4 leading + 4 trailing, never more


def test_type_selection_and_validation() -> None:
    only_email = PiiMasker(["email"])
    assert only_email.mask("13812345678 a@b.cn")[0] == "13812345678 [邮箱]"
    with pytest.raises(ValueError, match="unknown PII types"):
        PiiMasker(["passport"])
    with pytest.raises(ValueError, match="style"):
        PiiMasker(style="stars")  # type: ignore[arg-type]


def test_fast_path_without_digits(masker: PiiMasker) -> None:
    assert masker.mask("没有任何数字的评论") == ("没有任何数字的评论", [])


@pytest.mark.parametrize("style", ["tag", "partial"])
def test_picklable(style: str) -> None:
    masker = PiiMasker(["phone", "email"], style=style)  # type: ignore[arg-type]
    copy = pickle.loads(pickle.dumps(masker))
    assert copy.mask("电话13812345678") == masker.mask("电话13812345678")
    assert copy.types == ("phone", "email")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("聯絡電話 7724 7585，方案很划算", "聯絡電話 [手机号]，方案很划算"),
        ("请致电+852 6344 5490", "请致电[手机号]"),
        ("手機0912-345-678", "手機[手机号]"),
        ("+886 912 345 678 找我", "[手机号] 找我"),
        ("Tel: 6234 5678", "Tel: [手机号]"),
        ("订单号 12345678 已发货", "订单号 12345678 已发货"),  # a bare 8-digit run is not a phone
    ],
)
def test_hong_kong_taiwan_and_announced_phones(text: str, masked: str) -> None:
    assert PiiMasker().mask(text)[0] == masked


def test_partial_style_never_shows_more_than_four_digits_of_short_phones() -> None:
    assert PiiMasker(style="partial").mask("電話 2345 6789")[0] == "電話 ****6789"
    assert PiiMasker(style="partial").mask("手機0912-345-678")[0] == "手機******5678"
