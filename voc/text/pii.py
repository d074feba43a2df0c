"""PII masking: mobile and landline numbers, ID numbers, bank cards, e-mail addresses.

Detection runs on a *view* of the text in which full-width ASCII (``１３８``, ``＠``, ``－``) and the
ideographic space are mapped to ASCII one code point for one code point, so offsets in the view are
offsets in the input. That lets the same masker run on raw, un-normalised text and on normalised
text with identical results.

Candidates of every type are validated (ID: MOD 11-2 checksum and a real birth date; bank card:
Luhn and a card-like first digit) and overlaps are resolved longest-first, then by specificity
(ID > bank card > mobile > landline > e-mail), so an 18-digit ID is never reported as a bank card
and the phone inside ``13812345678@qq.com`` is masked as part of the e-mail.

Not personal and never masked: 400/800 service hotlines, 95xxx bank/telecom short numbers, order
numbers that fail Luhn, digit runs inside longer digit runs. Not detected: 15-digit legacy IDs,
local landline numbers given without an area code, numbers written in Chinese numerals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Literal

from voc.documents import PiiSpan
from voc.settings import PII_TYPES

TAGS: dict[str, str] = {
    "phone": "[手机号]",
    "landline": "[座机]",
    "id_number": "[身份证号]",
    "bank_card": "[银行卡号]",
    "email": "[邮箱]",
}
PLACEHOLDERS: frozenset[str] = frozenset(TAGS.values())
# Tie-break between equally long candidates: the stronger validation wins.
_PRIORITY = {"id_number": 5, "bank_card": 4, "phone": 3, "landline": 2, "email": 1}

# Only what the patterns look at: digits, letters, + % ( ) - . @ _ and spaces. Chinese commas and
# the like stay as they are, so raw review text rarely needs a view at all.
_VIEW_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0b\uff05\uff08\uff09\uff0d\uff0e\uff20\uff3f\u3000]")
_VIEW_MAP = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_VIEW_MAP["\u3000"] = " "
_TRIGGER_RE = re.compile("[0-9@\uff10-\uff19\uff20]")

_SEP = "[ -]?"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "phone": re.compile(rf"(?<![\d+])(?:(?:\+|00)?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)"),
    # Area code: 010 or 02x (3 digits), else 0[3-9]xx; then a 7-8 digit local number (not 0...).
    "landline": re.compile(
        rf"(?<!\d)(?:\((?:010|02\d|0[3-9]\d\d)\)|(?:010|02\d|0[3-9]\d\d)){_SEP}[1-9]\d{{2,3}}{_SEP}\d{{4}}(?!\d)"
    ),
    "id_number": re.compile(
        r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dXx])"
    ),
    # Grouped in fours (13-19 digits in all) or one run of 13-19 digits; first digit 3-6 or 9 as
    # for real card numbers (Amex/JCB, Visa, Mastercard, UnionPay, domestic 9xxx).
    "bank_card": re.compile(
        r"(?<!\d)(?:[3-69]\d{3}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?|[3-69]\d{12,18})(?!\d)"
    ),
    "email": re.compile(
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    ),
}
# Phones outside the mainland format, also masked as "phone": Hong Kong/Macau numbers with their
# country code, Taiwan mobiles, and any 8-digit number (optionally with a country code) right after a
# word that announces a phone number — "聯絡電話 6344 5490" is personal, a bare 8-digit run may be an
# order number.
_OTHER_PHONES: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![\d+])(?:\+|00)?85[23][ -]?[2-9]\d{3}[ -]?\d{4}(?!\d)"),
    re.compile(r"(?<![\d+])(?:(?:\+|00)?886[ -]?9\d\d|09\d\d)[ -]?\d{3}[ -]?\d{3}(?!\d)"),
)
_PHONE_CONTEXT = re.compile(
    r"(?:电话|電話|手机|手機|联系|聯絡|聯繫|聯系|致电|致電|打给|打給|call|tel|phone|whatsapp)[^0-9]{0,6}?"
    r"((?:\+\d{1,3}[ -]?)?[2-9]\d{3}[ -]?\d{4})(?!\d)",
    re.IGNORECASE,
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


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
    return "".join(char for char in text if char.isdigit())


def _valid(kind: str, found: str) -> bool:
    if kind == "id_number":
        return id_number_valid(found)
    if kind == "bank_card":
        digits = _digits(found)
        return 13 <= len(digits) <= 19 and luhn_valid(digits)
    return True


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
        return self._find(text)[1]

    def mask(self, text: str) -> tuple[str, list[PiiSpan]]:
        view, found = self._find(text)
        if not found:
            return text, []
        parts: list[str] = []
        spans: list[PiiSpan] = []
        position = 0
        length = 0
        for kind, start, end in found:
            parts.append(text[position:start])
            length += start - position
            replacement = self._replace(kind, view[start:end])
            parts.append(replacement)
            spans.append(PiiSpan(kind, start, end, length, length + len(replacement)))
            length += len(replacement)
            position = end
        parts.append(text[position:])
        return "".join(parts), spans

    def _find(self, text: str) -> tuple[str, list[tuple[str, int, int]]]:
        if not _TRIGGER_RE.search(text):
            return text, []
        view = _ascii_view(text)
        candidates: list[tuple[str, int, int]] = []
        for kind, pattern in self._digit_patterns:
            for match in pattern.finditer(view):
                if _valid(kind, match.group()):
                    candidates.append((kind, match.start(), match.end()))
        if self._other_phones:
            for pattern in _OTHER_PHONES:
                candidates.extend(("phone", m.start(), m.end()) for m in pattern.finditer(view))
            candidates.extend(("phone", m.start(1), m.end(1)) for m in _PHONE_CONTEXT.finditer(view))
        if self._email and "@" in view:
            candidates.extend(("email", m.start(), m.end()) for m in _PATTERNS["email"].finditer(view))
        if len(candidates) < 2:
            return view, candidates
        candidates.sort(key=lambda c: (c[1] - c[2], -_PRIORITY[c[0]], c[1]))
        chosen: list[tuple[str, int, int]] = []
        for candidate in candidates:
            if all(candidate[2] <= start or candidate[1] >= end for _, start, end in chosen):
                chosen.append(candidate)
        chosen.sort(key=lambda c: c[1])
        return view, chosen


def _ascii_view(text: str) -> str:
    """Same length as ``text``, with full-width digits, letters and symbols made ASCII."""
    for char in set(_VIEW_RE.findall(text)):
        text = text.replace(char, _VIEW_MAP[char])
    return text
