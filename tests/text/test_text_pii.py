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


# Issue 17 item 7: written forms the masker missed, and identifiers it mistook for PII.
# tests/text/test_pii_properties.py checks the same classes with generated values.
@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        (f"身份证 {VALID_ID[:6]} {VALID_ID[6:14]} {VALID_ID[14:]} 谢谢", "id_number", None),
        (f"身份证{VALID_ID[:6]}-{VALID_ID[6:14]}-{VALID_ID[14:]}谢谢", "id_number", None),
        ("手机151.2345.6783谢谢", "phone", "151.2345.6783"),
        ("手机1381234\n5678谢谢", "phone", "1381234\n5678"),
        ("手机13812\r\n345678谢谢", "phone", "13812\r\n345678"),
        ("号码 6344 5490 谢谢", "phone", "6344 5490"),
        ("聯繫號碼：6344-5490谢谢", "phone", "6344-5490"),
        ("手机一三八一二三四五六七八谢谢", "phone", "一三八一二三四五六七八"),
        ("手机幺三八〇〇〇〇一二三四谢谢", "phone", "幺三八〇〇〇〇一二三四"),
        ("手机壹叁捌壹贰叁肆伍陆柒捌谢谢", "phone", "壹叁捌壹贰叁肆伍陆柒捌"),
        ("手機壹參捌壹貳參肆伍陸柒捌谢谢", "phone", "壹參捌壹貳參肆伍陸柒捌"),
        ("手机138一二三四5678谢谢", "phone", "138一二三四5678"),
        ("手机一三八 一二三四 五六七八谢谢", "phone", "一三八 一二三四 五六七八"),
        ("手机1 3 8 1 2 3 4 5 6 7 8谢谢", "phone", "1 3 8 1 2 3 4 5 6 7 8"),
        ("座机0746—6222903谢谢", "landline", "0746—6222903"),
        (f"卡号{' '.join(VALID_CARD[i : i + 4] for i in range(0, 19, 4))}谢谢", "bank_card", None),
        (f"卡号{VALID_CARD[:9]}\n{VALID_CARD[9:]}谢谢", "bank_card", None),
        ("邮箱：张三@例子.中国谢谢", "email", "张三@例子.中国"),
        ("我的邮箱是张三@例子.中国谢谢", "email", "张三@例子.中国"),
        ("邮箱 user@bücher.de 谢谢", "email", "user@bücher.de"),
        ("邮箱 zhangsan at qq dot com 谢谢", "email", "zhangsan at qq dot com"),
        ("邮箱 zhangsan(at)qq.com 谢谢", "email", "zhangsan(at)qq.com"),
        ("邮箱 zhangsan [at] example [dot] com 谢谢", "email", "zhangsan [at] example [dot] com"),
        ("邮箱zhangsan#qq.com谢谢", "email", "zhangsan#qq.com"),
        ("邮箱zhangsan艾特163点com谢谢", "email", "zhangsan艾特163点com"),
        ("回复.CHUNLING219@SOHU.COM谢谢", "email", "CHUNLING219@SOHU.COM"),
    ],
)
def test_written_forms_found(masker: PiiMasker, text: str, kind: str, found: str | None) -> None:
    spans = masker.mask(text)[1]
    assert [s.type for s in spans] == [kind]
    if found is not None:
        assert text[spans[0].start : spans[0].end] == found


@pytest.mark.parametrize(
    "text",
    [
        "订单号4111111111111111已发货",  # Luhn-valid, card-like: an order number here
        "订单号：4111 1111 1111 1111 已发货",
        "快递单号 " + VALID_CARD + " 已签收",
        "会员号 4111111111111111",
        "发票号码 044031900111",  # starts like a landline with a 4-digit area code
        "发票代码：044031900111",
        "發票號碼 044031900111",
        "订单号码 62345678",  # 8 digits after 号码: the invoice/order word decides
        "订单号：19513967161 衣服比实体店的薄",  # JD-style order numbers look like mobiles
        "运单号为 13812345678",
        "工单号#075588888888",
        "流水号 0755-8888 8888",
        "交易号:6222021234567890128",
        "编号 0912-345-678",
    ],
)
def test_identifiers_after_context_words_not_masked(masker: PiiMasker, text: str) -> None:
    assert masker.mask(text) == (text, [])


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"订单号 {VALID_ID}", "id_number"),  # checksum and a birth date outweigh the word
        ("会员号 13812345678", "phone"),  # member numbers are often the customer's phone
        ("会员卡号:138-1234-5678", "phone"),
        ("订单号 123，卡号 4111111111111111", "bank_card"),  # the card follows 卡号, not 订单号
        ("订单号 123 电话 62345678", "phone"),
        ("订单号是 a@b.cn", "email"),
    ],
)
def test_strong_evidence_outweighs_identifier_context(masker: PiiMasker, text: str, kind: str) -> None:
    assert [s.type for s in masker.mask(text)[1]] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "1703 2301 2001 1002 1302 1402 2201 201 2502",  # a segmented list of room numbers
        "每人每年 500 700 900 1200 1500 元",
        "上户 2013 02 27 10 01 04 第一",  # a date and time written with spaces
        "尺码 38 39 40 41 42 43 44 码",
        "数值 43709.855856481503",  # a spreadsheet date serial, 17 digits
        "IP 205.159 121.41 105.198",
        "大城 23 29 35 1507 36 40 702",
        "第一二三名，一一对应，二〇二三年",
        "look at google.com",  # a bare "at" needs a mailbox provider or a disguised dot
        "C#.net 和 #话题# 不是邮箱",
    ],
)
def test_lists_dates_and_decimals_not_pii(masker: PiiMasker, text: str) -> None:
    assert masker.mask(text) == (text, [])


def test_identifier_stays_a_searchable_token(masker: PiiMasker) -> None:
    from voc.text.tokenize import Tokenizer

    masked = masker.mask("订单号4111111111111111已发货，发票号码 044031900111")[0]
    tokens = Tokenizer().tokenize(masked)
    assert "4111111111111111" in tokens and "044031900111" in tokens


def test_partial_style_of_disguised_forms() -> None:
    partial = PiiMasker(style="partial")
    assert partial.mask("邮箱 zhangsan at qq dot com")[0] == "邮箱 z***@qq.com"
    assert partial.mask("手机一三八一二三四五六七八")[0] == "手机138****5678"
    assert partial.mask("手机151.2345.6783")[0] == "手机151****6783"


def test_placeholders_never_announce_a_number(masker: PiiMasker) -> None:
    # "[手机号]" contains the phone keyword 手机: masked text must not make the next number a phone.
    masked = masker.mask("我的电话是13812345678 20000001,谢谢")[0]
    assert masked == "我的电话是[手机号] 20000001,谢谢"
    assert masker.find(masked) == []
