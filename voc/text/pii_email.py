"""E-mail addresses for the PII masker, in the forms customers actually write them.

Found: ``a.b+c@example.com.cn``; internationalised addresses (``张三@例子.中国``, ``user@bücher.de``);
and addresses written to dodge filters: ``zhangsan(at)qq.com``, ``zhangsan [at] qq [dot] com``,
``zhangsan 艾特 qq.com``, ``zhangsan at qq dot com``, ``qq点com``, ``qq。com``.

Two forms are ambiguous with ordinary text and are accepted only with more evidence: a bare
`` at `` ("bought it at jd.com") and ``#`` (hashtags, ``C#``) count as the ``@`` of an address only
when the dot is also disguised (``dot``, ``点``…) or the domain is a well-known mailbox provider
(``zhangsan#qq.com``, ``zhangsan at 163.com``).

A non-ASCII local part cannot be delimited in unspaced Chinese ("我的邮箱是张三@例子.中国"): it is
the run of word characters before the ``@`` (at most 24), cut after the last lead-in word
(邮箱, 是, 给…). When the character before ``@`` is ASCII, the local part is the ASCII run only,
so "联系我zhangsan@qq.com" masks just the address.

The work is linear in the text length: a local part is scanned back once (the run before each
separator; a run ends at the separator before it), the domain is ≤ 9 labels of ≤ 63 characters,
and label and dot characters are disjoint.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# The separator between local part and domain; the view has already mapped full-width ＠＃（ to ASCII.
_AT_RE = re.compile(
    r"@|#|艾特|\s{0,2}[(\[{<（【]\s{0,2}at\s{0,2}[)\]}>）】]\s{0,2}|\s{1,3}at\s{1,3}",
    re.IGNORECASE,
)
# Cheap pre-check on raw text (full-width forms included): is an address possible at all?
HINT_RE = re.compile("[@#\uff20\uff03]|艾特|[aA\uff41\uff21][tT\uff54\uff34]")

_DOT = r"(?:\.|。|点|點|\s{0,2}[(\[{<（【]\s{0,2}dot\s{0,2}[)\]}>）】]\s{0,2}|\s{1,3}dot\s{1,3})"
_ANY_DOT_RE = re.compile(_DOT, re.IGNORECASE)
# Label characters never include a dot character (点 included), so labels and dots cannot be split
# two ways and the domain pattern never backtracks more than one label.
_UNICODE_LABEL = r"[^\W_点點](?:[^\W_点點]|-){0,62}"
_CJK_TLDS = "中国|中國|公司|网络|網絡|香港|台湾|台灣|新加坡|在线|集团|商城|我爱你|移动|信息|网址|网店"
_ASCII_TLD = r"[A-Za-z]{2,24}(?![A-Za-z-])"  # a digit may follow: "a@qq.com13800000000"
_DOMAIN_RE = re.compile(
    # A CJK top-level domain only after a real dot: "a@qq.com。公司…" is an address and a sentence.
    rf"{_UNICODE_LABEL}(?:{_DOT}{_UNICODE_LABEL}){{0,8}}{_DOT}(?:{_ASCII_TLD}|(?<=\.)(?:{_CJK_TLDS}))",
    re.IGNORECASE,
)
_MAILBOX_PROVIDERS = frozenset({
    "qq", "163", "126", "188", "139", "189", "yeah", "21cn", "sina", "sohu", "tom", "foxmail", "aliyun",
    "gmail", "googlemail", "outlook", "hotmail", "live", "msn", "yahoo", "icloud", "me", "mail",
})
_ASCII_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_LOCAL_PUNCT = "._%+-"
_MAX_UNICODE_LOCAL = 24
# Words that introduce an address and so end a non-ASCII local part ("发邮件给张三@…" → 张三).
_LEAD_IN_RE = re.compile("邮箱|郵箱|信箱|邮件|郵件|地址|联系|聯繫|聯絡|联络|是|为|為|到|给|給|至|发|發")


class EmailMatch(NamedTuple):
    start: int
    end: int
    local: str
    domain: str  # dots written as "."; what a partial mask shows


def find_emails(view: str) -> list[EmailMatch]:
    """Addresses in ``view`` (full-width already folded to ASCII), in order, not overlapping."""
    found: list[EmailMatch] = []
    last_end = 0
    for at in _AT_RE.finditer(view):
        if at.start() < last_end:
            continue
        separator = at.group()
        is_at_sign = separator == "@"
        domain = _DOMAIN_RE.match(view, at.end())
        if domain is None:
            continue
        local_start = _local_start(view, at.start(), unicode_allowed=is_at_sign, floor=last_end)
        if local_start is None:
            continue
        clean_domain = _ANY_DOT_RE.sub(".", domain.group())
        if separator.strip().lower() in ("#", "at"):
            # Ambiguous separators need a second sign of an address (see the module docstring).
            disguised_dot = any(dot.group() != "." for dot in _ANY_DOT_RE.finditer(domain.group()))
            if not disguised_dot and clean_domain.split(".", 1)[0].lower() not in _MAILBOX_PROVIDERS:
                continue
        found.append(EmailMatch(local_start, domain.end(), view[local_start : at.start()], clean_domain))
        last_end = domain.end()
    return found


def _local_start(view: str, at: int, *, unicode_allowed: bool, floor: int) -> int | None:
    """Where the local part ending at ``at`` begins, or None when there is none."""
    if at == 0 or at <= floor:
        return None
    before = view[at - 1]
    if before in _ASCII_LOCAL_CHARS or not unicode_allowed:
        # The whole run, even past the 64 characters an address may have: a cut would leave
        # digits readable. Each run ends at the separator after it, so it is scanned once.
        start = at
        while start > floor and view[start - 1] in _ASCII_LOCAL_CHARS:
            start -= 1
    elif before.isalnum():
        start = at
        while start > floor and at - start < _MAX_UNICODE_LOCAL and (
            view[start - 1].isalnum() or view[start - 1] in _LOCAL_PUNCT
        ):
            start -= 1
        lead_ins = list(_LEAD_IN_RE.finditer(view, start, at - 1))
        if lead_ins:
            start = lead_ins[-1].end()
        while start > floor and view[start - 1] in _ASCII_LOCAL_CHARS:  # never cut an ASCII run
            start -= 1
    else:
        return None
    while start < at and view[start] in _LOCAL_PUNCT:
        start += 1
    return start if start < at else None
