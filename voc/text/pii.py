"""PII masking: mobile and landline numbers, ID numbers, bank cards, e-mail addresses.

Detection runs on a *view* of the text in which full-width ASCII (``１３８``, ``＠``, ``－``), the
ideographic space and the decimal digits of other scripts (``𝟏``, ``١``) are mapped to ASCII one code
point for one code point, so offsets in the view are offsets in the input. The same masker therefore
runs on normalised text and on raw text; ``voc.text.original_mask`` runs it on a normalised view of a
raw original (entities, tags, invisible characters, superscripts…) and maps the spans back.

What is found, in the forms customers write:

* Mainland mobiles (optionally +86/0086), landlines with an area code, 18-digit IDs, bank cards,
  Hong Kong/Macau numbers with their country code, Taiwan mobiles, and any 8-digit number right
  after a word that announces a phone (电话, 号码, 手机, 联系, tel…).
* Digits separated by up to three of space, tab, NBSP, ``-``, dashes, ``.``, ``·`` and line breaks
  (``151.2345.6783``, ``110105 19900307 123X``, ``0746—6222903``). A line break may fall anywhere
  (``1381234⏎5678``); other separators must group the digits the way that kind is written, because
  lists, dates and decimals are digits with separators too ("2013 02 27 10 01 04", "500 700 900
  1200 1500", "43709.855856481503"): mobiles 3-4-4, 3-8, 7-4 or one digit at a time; bank cards one
  run, fours (dots only in fours), 4-6-5 or 6 + the rest; IDs, landlines and the other phones groups
  of three or more, or one digit at a time.
* Numbers in Chinese numerals read digit by digit, alone or mixed with digits: ``一三八一二三四五六七八``,
  〇/零/幺, 壹贰叁…, traditional forms, ``138一二三四5678``.
* E-mail addresses, internationalised and disguised ones included (see ``voc.text.pii_email``).

Candidates of every type are validated (ID: MOD 11-2 checksum and a real birth date; bank card:
Luhn and a card-like first digit). Overlapping candidates are masked as one item, typed by the
longest, then the most specific (ID > bank card > mobile > landline > e-mail): an 18-digit ID is
never reported as a bank card, the phone inside ``13812345678@qq.com`` is part of the e-mail, and no
part of a candidate that lost stays readable. Masking is idempotent: ``find(mask(x))`` is empty
(a placeholder such as ``[手机号]`` never announces the number after it).

Identifiers are not PII. A number that directly follows 订单号, 单号, 运单号, 快递单号, 工单号,
发票, 发票代码, 发票号码, 流水号, 交易号, 会员号, 编号 (and their traditional forms; up to four
characters of ``: ：#=是为``, brackets and spaces between) is an identifier and stays in the text as
written, so it remains a searchable token: it is not masked as a bank card (order numbers pass Luhn
one time in ten), a landline (invoice codes start with 0) or an announced 8-digit phone. Two kinds
of evidence outweigh that context:

* an ID number (checksum *and* a real birth date: a random 18-digit order number passes by chance
  about once in two million) is always masked, and so is an e-mail address;
* a mainland mobile number after 会员号/会员卡号 is masked, because member numbers are very often the
  customer's phone. After the other words an 11-digit ``1[3-9]…`` number is an identifier: JD-style
  order numbers look exactly like mobiles (``订单号：19513967161`` in the online_shopping corpus).

Not personal and never masked: 400/800 service hotlines, 95xxx bank/telecom short numbers, order
numbers that fail Luhn, digit runs inside longer digit runs. Not detected: 15-digit legacy IDs,
local landline numbers given without an area code, numbers spelled with 十/百 (一百三十八…) or 两,
bank cards written in other groupings, mobiles in groupings other than the above (``1381 234 5678``).

Every step is linear in the text length: numbers are only looked for inside *chunks* (digits joined
by at most three separator characters, found by one deterministic scan); the patterns, tried at
every start position of a chunk, are bounded (at most 19 digits and 18 gaps of ≤3 characters) and
their digit and separator classes are disjoint, so none can backtrack beyond its own length;
overlaps are resolved in one sorted sweep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Literal, NamedTuple

from voc.documents import PiiSpan
from voc.settings import PII_TYPES
from voc.text.pii_email import HINT_RE as _EMAIL_HINT_RE
from voc.text.pii_email import find_emails

TAGS: dict[str, str] = {
    "phone": "[手机号]",
    "landline": "[座机]",
    "id_number": "[身份证号]",
    "bank_card": "[银行卡号]",
    "email": "[邮箱]",
}
PLACEHOLDERS: frozenset[str] = frozenset(TAGS.values())
# Internal kinds: "other_phone" (Hong Kong, Taiwan, announced 8-digit) is reported as "phone" but,
# unlike a mainland mobile, gives way to identifier context.
_REPORTED = {"other_phone": "phone"}
# Tie-break between equally long candidates: the stronger validation wins.
_PRIORITY = {"id_number": 5, "bank_card": 4, "phone": 3, "other_phone": 3, "landline": 2, "email": 1}

# Only what the patterns look at: digits, letters, + % ( ) - . @ # _ and spaces. Chinese commas and
# the like stay as they are, so raw review text rarely needs a view at all.
_VIEW_RE = re.compile(
    "[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0b\uff05\uff08\uff09\uff0d\uff0e\uff20\uff03\uff3f\u3000]"
)
_VIEW_MAP = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_VIEW_MAP["\u3000"] = " "
_DIGIT_RE = re.compile(r"\d")  # any script's decimal digits; the view makes them ASCII
_OTHER_DECIMAL_RE = re.compile(r"[^\D0-9]")

# Chinese numerals read digit by digit (phone numbers are dictated that way); 两 and 十/百 are not
# digits of a number read out digit by digit.
_CN_DIGITS = {
    "0": "〇零",
    "1": "一幺壹",
    "2": "二贰貳",
    "3": "三叁參参",  # 参: what OpenCC makes of 參
    "4": "四肆",
    "5": "五伍",
    "6": "六陆陸",
    "7": "七柒",
    "8": "八捌",
    "9": "九玖",
}
_CN_TABLE = str.maketrans({char: digit for digit, chars in _CN_DIGITS.items() for char in chars})
_CN_CLASS = "".join(_CN_DIGITS.values())

_GAP_CHARS = " \t\u00a0\\-.\u2010-\u2015\u00b7\u30fb\r\n"
_G = f"[{_GAP_CHARS}]{{0,3}}"  # between any two digits
# Gaps with a line break can fall anywhere in a number; they do not end a digit group.
_LINE_BREAK_GAP_RE = re.compile(f"[{_GAP_CHARS}]*\n[{_GAP_CHARS}]*")
_DIGIT_GROUP_RE = re.compile(r"\d+")
# A Chinese numeral next to another digit (of either kind): only then is the numeral view built,
# so "一个" or "第一" never costs a second pass.
_CN_TRIGGER_RE = re.compile(
    f"[{_CN_CLASS}]{_G}[{_CN_CLASS}0-9\uff10-\uff19]|[0-9\uff10-\uff19]{_G}[{_CN_CLASS}]"
)
# Digits joined by short gaps; an ID's X check character may end one. No digit is next to a chunk.
_CHUNK_RE = re.compile(rf"\d(?:{_G}\d)*(?:{_G}[Xx])?")
_MIN_CHUNK_DIGITS = 8  # the shortest number looked for: an announced 8-digit phone
_REGION_BEFORE = 24  # how far before a chunk a pattern may begin: "+", "(", a phone keyword


def _overlapping(pattern: str) -> re.Pattern[str]:
    """A zero-width search for ``pattern`` at every position, captured in group 1."""
    return re.compile(f"(?=({pattern}))")


_AREA = rf"0{_G}(?:1{_G}0|2{_G}\d|[3-9]{_G}\d{_G}\d)"
_PATTERN_TEXT: dict[str, str] = {
    "phone": rf"(?<![\d+])(?:(?:\+|00)?86{_G})?(?P<core>1{_G}[3-9](?:{_G}\d){{9}})(?!\d)",
    # Area code: 010 or 02x (3 digits), else 0[3-9]xx; then a 7-8 digit local number (not 0...).
    "landline": rf"(?<!\d)(?:\([ ]?{_AREA}[ ]?\)|{_AREA}){_G}[1-9](?:{_G}\d){{6,7}}(?!\d)",
    "id_number": (
        rf"(?<!\d)[1-9](?:{_G}\d){{5}}{_G}(?:1{_G}[89]|2{_G}0)(?:{_G}\d){{2}}"
        rf"{_G}(?:0{_G}[1-9]|1{_G}[0-2]){_G}(?:0{_G}[1-9]|[12]{_G}\d|3{_G}[01])(?:{_G}\d){{3}}{_G}[\dXx](?![\dXx])"
    ),
    # 13-19 digits, first digit 3-6 or 9 as for real card numbers (Amex/JCB, Visa, Mastercard,
    # UnionPay, domestic 9xxx); how the digits are grouped is checked in _valid.
    "bank_card": rf"(?<!\d)[3-69](?:{_G}\d){{12,18}}(?!\d)",
}
_PATTERNS = {kind: _overlapping(text) for kind, text in _PATTERN_TEXT.items()}
# Kinds of variable length: a regex match is the longest, and when it fails validation a shorter
# one may not ("4111 1111 1111 1111 2件" is a card and a count), so group boundaries are tried too.
_WHOLE = {kind: re.compile(_PATTERN_TEXT[kind]) for kind in ("landline", "bank_card")}
_GROUP_END_RE = re.compile(f"\\d(?=[{_GAP_CHARS}])")
# Phones outside the mainland format, also masked as "phone": Hong Kong/Macau numbers with their
# country code, Taiwan mobiles, and any 8-digit number (optionally with a country code) right after a
# word that announces a phone number — "聯絡電話 6344 5490" is personal, a bare 8-digit run may be an
# order number.
_OTHER_PHONES: tuple[re.Pattern[str], ...] = (
    _overlapping(rf"(?<![\d+])(?:\+|00)?8{_G}5{_G}[23]{_G}(?P<core>[2-9](?:{_G}\d){{7}})(?!\d)"),
    _overlapping(rf"(?<![\d+])(?:(?:\+|00)?8{_G}8{_G}6{_G}|0{_G})(?P<core>9(?:{_G}\d){{8}})(?!\d)"),
)
_PHONE_CONTEXT = re.compile(
    # Neither inside nor across a placeholder: "电话[手机号] 20000001" must not announce the second
    # number once the first is masked.
    r"(?<!\[)(?:电话|電話|号码|號碼|手机|手機|联系|聯絡|聯繫|聯系|联络|致电|致電|打给|打給|来电|來電|回电|回電|拨打|撥打|"
    r"电联|電聯|call|tel|phone|mobile|whatsapp)[^0-9\[\]]{0,6}?"
    rf"((?:\+\d{{1,3}}{_G})?(?P<core>[2-9](?:{_G}\d){{7}}))(?!\d)",
    re.IGNORECASE,
)
# Words after which a number is an identifier, not PII (see the module docstring). The member group
# is kept apart: a mobile number there is still the customer's phone.
_FILLER = r"[\s:：#=＝是为為\-—(（)）\[\]【】\"“”'‘’+]{0,4}$"
_IDENTIFIER_CONTEXT = re.compile(
    r"(?:单号|單號|订单|訂單|运单|運單|发票|發票|发票代码|發票代碼|发票号|發票號|流水号|流水號|交易号|交易號|"
    r"编号|編號|单据号|單據號)(?:码|碼)?" + _FILLER,
    re.IGNORECASE,
)
_MEMBER_CONTEXT = re.compile(r"(?:会员|會員|会员卡|會員卡)(?:号|號)(?:码|碼)?" + _FILLER)
_ALWAYS_PII = frozenset({"id_number", "email"})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class _Candidate(NamedTuple):
    kind: str
    start: int
    end: int
    shown: str  # what a partial mask is made from: the matched view text, or the clean address


def id_number_valid(number: str) -> bool:
    """18-digit mainland resident ID: ISO 7064 MOD 11-2 check character and a real past birth date."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if _ID_CHECK[sum(int(d) * w for d, w in zip(number, _ID_WEIGHTS, strict=False)) % 11] != number[17].upper():
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return date(1890, 1, 1) <= born <= date.today()


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(char for char in text if "0" <= char <= "9")


def _layout(core: str) -> tuple[int, ...]:
    """Sizes of the digit groups; a line break can fall anywhere, so it does not end a group."""
    return tuple(len(group) for group in _DIGIT_GROUP_RE.findall(_LINE_BREAK_GAP_RE.sub("", core)))


# How people group the digits of each kind. Anything else with separators is more likely a list
# of numbers, a date or an IP address ("2013 02 27 10 01 04", "500 700 900 1200 1500").
_MOBILE_LAYOUTS = frozenset({(11,), (3, 8), (3, 4, 4), (7, 4), (1,) * 11})


def _layout_plausible(kind: str, core: str) -> bool:
    layout = _layout(core)
    if kind == "phone":
        return layout in _MOBILE_LAYOUTS
    if kind == "bank_card":
        in_fours = all(size == 4 for size in layout[:-1]) and 1 <= layout[-1] <= 4
        if "." in core or "\u00b7" in core:
            return in_fours  # "43709.855856481503" is a decimal, "4111.1111.1111.1111" a card
        return (
            len(layout) == 1
            or layout == (4, 6, 5)  # American Express
            or (len(layout) == 2 and layout[0] == 6)  # UnionPay 6 + 13
            or in_fours
        )
    # IDs, landlines, other phones: groups of three or more, or spelled out one digit at a time.
    return all(size >= 3 for size in layout) or all(size == 1 for size in layout)


def _valid(kind: str, found: str, core: str) -> bool:
    # The cheap arithmetic first: most candidates in long digit runs fail it.
    if kind == "id_number" and not id_number_valid(_digits(found) + ("X" if found[-1] in "Xx" else "")):
        return False
    if kind == "bank_card":
        digits = _digits(found)
        if not (13 <= len(digits) <= 19 and luhn_valid(digits)):
            return False
    return _layout_plausible(kind, core)


def _tag(kind: str, _found: str) -> str:
    return TAGS[kind]


def _partial(kind: str, found: str) -> str:
    """Conventional partial masks; at most 4 trailing digits ever stay visible."""
    if kind == "email":
        local, _, domain = found.partition("@")
        return f"{local[0]}***@{domain}"
    digits = _digits(found) + ("X" if found[-1:] in "Xx" else "")
    if kind == "phone":
        if len(digits) >= 11 and digits[-11] == "1":  # mainland mobile, perhaps after +86 / 0086
            return f"{digits[-11:-8]}****{digits[-4:]}"
        return f"{'*' * (min(len(digits), 10) - 4)}{digits[-4:]}"
    if kind == "landline":
        area = 3 if digits[1] in "12" else 4
        return f"{digits[:area]}-{'*' * (len(digits) - area - 4)}{digits[-4:]}"
    if kind == "id_number":
        return f"{digits[:3]}{'*' * 11}{digits[-4:]}"
    return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"


class PiiMasker:
    """Finds and masks PII; ``mask`` returns the masked text and where each item was."""

    def __init__(self, types: Iterable[str] = PII_TYPES, style: Literal["tag", "partial"] = "tag") -> None:
        self.types = tuple(types)
        unknown = sorted(set(self.types) - set(PII_TYPES))
        if unknown:
            raise ValueError(f"unknown PII types {unknown}; known: {list(PII_TYPES)}")
        if style not in ("tag", "partial"):
            raise ValueError(f"unknown PII mask style {style!r}; use 'tag' or 'partial'")
        self.style = style
        self._digit_patterns = [(kind, _PATTERNS[kind]) for kind in self.types if kind != "email"]
        self._email = "email" in self.types
        self._other_phones = "phone" in self.types
        # Module-level functions, not lambdas: the masker must pickle for worker processes.
        self._replace: Callable[[str, str], str] = _tag if style == "tag" else _partial

    def __repr__(self) -> str:
        return f"PiiMasker(types={list(self.types)}, style={self.style!r})"

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """Validated, non-overlapping ``(type, start, end)`` in ``text``, in order."""
        return [(_REPORTED.get(c.kind, c.kind), c.start, c.end) for c in self._find(text)]

    def mask(self, text: str) -> tuple[str, list[PiiSpan]]:
        found = self._find(text)
        if not found:
            return text, []
        parts: list[str] = []
        spans: list[PiiSpan] = []
        position = 0
        length = 0
        for candidate in found:
            kind = _REPORTED.get(candidate.kind, candidate.kind)
            parts.append(text[position : candidate.start])
            length += candidate.start - position
            replacement = self._replace(kind, candidate.shown)
            parts.append(replacement)
            spans.append(PiiSpan(kind, candidate.start, candidate.end, length, length + len(replacement)))
            length += len(replacement)
            position = candidate.end
        parts.append(text[position:])
        return "".join(parts), spans

    def _find(self, text: str) -> list[_Candidate]:
        has_digits = _DIGIT_RE.search(text) is not None
        has_numerals = _CN_TRIGGER_RE.search(text) is not None
        maybe_email = self._email and _EMAIL_HINT_RE.search(text) is not None
        if not (has_digits or has_numerals or maybe_email):
            return []
        view = _ascii_view(text)
        candidates: list[_Candidate] = []
        if has_digits:
            candidates.extend(self._numbers(view))
        if maybe_email:
            candidates.extend(
                _Candidate("email", found.start, found.end, f"{found.local}@{found.domain}")
                for found in find_emails(view)
            )
        if has_numerals:
            # A second view with Chinese numerals as digits; only chunks that hold a numeral are
            # searched again, so "王一13812345678" still finds the phone in the first view. What the
            # first pass found is blanked out, as masking will: the result must not depend on it.
            numeral_view = _blanked(view, candidates).translate(_CN_TABLE)
            candidates.extend(self._numbers(numeral_view, plain_view=view))
        return _resolve(candidates)

    def _numbers(self, view: str, plain_view: str | None = None) -> list[_Candidate]:
        """Number candidates in the chunks of ``view``; with ``plain_view``, only in chunks that differ from it."""
        candidates: list[_Candidate] = []
        for chunk in _CHUNK_RE.finditer(view):
            chunk_start, chunk_end = chunk.span()
            if chunk_end - chunk_start < _MIN_CHUNK_DIGITS or (
                plain_view is not None and view[chunk_start:chunk_end] == plain_view[chunk_start:chunk_end]
            ):
                continue
            if sum(char.isdigit() for char in chunk.group()) < _MIN_CHUNK_DIGITS:
                continue
            region_start = max(0, chunk_start - _REGION_BEFORE)
            found = list(self._chunk_candidates(view, region_start, chunk_end))
            # Only what ends inside this chunk: the region reaches back into the text before it.
            found = [c for c in found if chunk_start < c.end <= chunk_end]
            before = view[max(0, chunk_start - 16) : chunk_start]
            if _MEMBER_CONTEXT.search(before):
                found = [c for c in found if c.kind in _ALWAYS_PII or c.kind == "phone"]
            elif _IDENTIFIER_CONTEXT.search(before):
                found = [c for c in found if c.kind in _ALWAYS_PII]
            candidates.extend(found)
        return candidates

    def _chunk_candidates(self, view: str, start: int, end: int) -> Iterable[_Candidate]:
        patterns = [(kind, pattern) for kind, pattern in self._digit_patterns]
        if self._other_phones:
            patterns += [("other_phone", pattern) for pattern in (*_OTHER_PHONES, _PHONE_CONTEXT)]
        for kind, pattern in patterns:
            for match in pattern.finditer(view, start, end):
                found = match.group(1)
                # "core": the number without its country code, where a pattern names one.
                core = match.group("core") if "core" in pattern.groupindex else found
                if _valid(kind, found, core):
                    yield _Candidate(kind, match.start(1), match.end(1), found)
                elif kind in _WHOLE:
                    shorter = _shorter_valid(kind, found)
                    if shorter:
                        yield _Candidate(kind, match.start(1), match.start(1) + len(shorter), shorter)


def _shorter_valid(kind: str, found: str) -> str | None:
    """The longest valid prefix of ``found`` that ends where a digit group ends, if any."""
    fewest_digits = 13 if kind == "bank_card" else 10
    for group_end in reversed([end.end() for end in _GROUP_END_RE.finditer(found)]):
        prefix = found[:group_end]
        if len(prefix) < fewest_digits:
            break
        if _WHOLE[kind].fullmatch(prefix) and _valid(kind, prefix, prefix):
            return prefix
    return None


def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
    """One item per group of overlapping candidates, covering all of them, typed by the best one.

    The best is the longest, then the most specific. The item spans the whole group, so that no
    part of a candidate that lost is left readable ("3414031539448⏎0a.b@qq.com": a card and an
    e-mail share the "0"; both are masked).
    """
    if len(candidates) < 2:
        return candidates
    candidates.sort(key=lambda c: (c.start, c.end))
    resolved: list[_Candidate] = []
    group = [candidates[0]]
    group_end = candidates[0].end
    for candidate in candidates[1:]:
        if candidate.start < group_end:
            group.append(candidate)
            group_end = max(group_end, candidate.end)
            continue
        resolved.append(_merge(group, group_end))
        group, group_end = [candidate], candidate.end
    resolved.append(_merge(group, group_end))
    return resolved


def _merge(group: list[_Candidate], end: int) -> _Candidate:
    best = min(group, key=lambda c: (c.start - c.end, -_PRIORITY[c.kind], c.start))
    return best if len(group) == 1 else best._replace(start=group[0].start, end=end)


def _blanked(view: str, candidates: list[_Candidate]) -> str:
    """``view`` with each candidate's characters replaced by NUL (not a digit, gap or numeral)."""
    if not candidates:
        return view
    chars = list(view)
    for candidate in candidates:
        chars[candidate.start : candidate.end] = "\0" * (candidate.end - candidate.start)
    return "".join(chars)


def _ascii_view(text: str) -> str:
    """Same length as ``text``, with full-width digits, letters and symbols, and the decimal digits of
    other scripts (``𝟏``, ``١``), made ASCII."""
    for char in set(_VIEW_RE.findall(text)):
        text = text.replace(char, _VIEW_MAP[char])
    if not text.isascii():
        for char in set(_OTHER_DECIMAL_RE.findall(text)):
            text = text.replace(char, str(int(char)))
    return text
