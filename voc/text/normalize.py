"""Text normalisation: the canonical form every later stage (PII, tokens, search) sees.

Decisions, so that every stage agrees on them:

* Width: NFKC, so full-width Latin, digits *and* punctuation become half-width (``１２３ＡＢＣ，`` →
  ``123ABC,``; ``！？：；（）`` → ``!?:;()``). Punctuation that NFKC leaves alone stays full-width
  (``。、“”【】《》``). One rule, no per-character exceptions, so search and display stay consistent.
* Runs of dots or ideographic full stops (``......``, ``。。。``, ``…``, ``……``) become a single ``…``
  (NFKC would turn ``…`` into ``...``; we fold it back so an ellipsis is one character).
* Runs of the same ``! ? , ; : ~ 、`` collapse to one (``！！！`` → ``!``). Emoji and ZWJ sequences are
  kept untouched, repeated emoji included: they carry sentiment.
* Newlines are kept (paragraph breaks help clause splitting) but runs of them, and the spaces around
  them, collapse to one ``\\n``; tabs and other spaces collapse to one space. ``keep_newlines=False``
  turns newlines into spaces too.
* HTML: entities are unescaped (``&#183;`` → ``·``, ``&nbsp;`` → space) and tags are removed
  (block tags such as ``<br>``/``<p>`` become a line break).
* Traditional → Simplified via OpenCC ``t2s`` (phrase-aware), only when the text has CJK.

The result is idempotent: ``n(n(x)) == n(x)``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

import opencc

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space are almost all of what NFKC changes
# in real reviews; replacing just the characters present is ~6x cheaper than NFKC on CJK text,
# and `unicodedata.is_normalized` (a quick check) tells us when the slow path is still needed.
_WIDE = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_WIDE["\u3000"] = " "
_WIDE["\xa0"] = " "  # &nbsp; once unescaped
_WIDE["\u2026"] = "..."  # what NFKC does; folded back to a single "…" below
_WIDE_RE = re.compile("[\uff01-\uff5e\u3000\u2026\xa0]")

_CJK_RE = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});?")
_BLOCK_TAGS = "br|p|div|li|tr|h[1-6]|hr|ul|ol|table|blockquote"
_BLOCK_TAG_RE = re.compile(rf"</?(?:{_BLOCK_TAGS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
# Only known tag names: "<iPhone 12>" in a review is text, not markup.
_INLINE_TAGS = (
    "a|b|i|u|s|em|strong|span|font|img|sup|sub|small|big|center|td|th|tbody|thead|html|body|head|"
    "meta|link|script|style|title|section|article|label|input|button|form|iframe|code|pre|strike"
)
_TAG_RE = re.compile(rf"</?(?:{_INLINE_TAGS})(?:\s[^<>]*)?/?>|<!--.*?-->", re.IGNORECASE | re.DOTALL)

# C0/C1 controls except \t \n \r (handled as whitespace), plus invisible format characters that
# only break matching (zero-width space, BOM, bidi marks, soft hyphen). ZWJ (U+200D) and variation
# selectors are deliberately absent: emoji sequences need them.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u200c\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
# Most reviews have no whitespace but single spaces and no punctuation run: one cheap scan each
# decides whether the (slower) rewriting passes are needed at all.
_SPACE_WORK_RE = re.compile(r"[^\S ]|  ")
_SPACE_RE = re.compile(r"[^\S\n]+")
_NEWLINE_RE = re.compile(r" ?\n\s*")
_ANY_SPACE_RE = re.compile(r"\s+")
_PUNCT_WORK_RE = re.compile(r"[.。…!?,;:~、]{2}")
_ELLIPSIS_RE = re.compile(r"[.。…]{2,}")
_REPEAT_RE = re.compile(r"([!?,;:~、])\1+")


class Normalizer:
    """Callable text normaliser; cheap to call, safe to pickle (OpenCC is rebuilt lazily)."""

    def __init__(self, to_simplified: bool = True, keep_newlines: bool = True) -> None:
        self.to_simplified = to_simplified
        self.keep_newlines = keep_newlines
        self._converter: opencc.OpenCC | None = None

    def __repr__(self) -> str:
        return f"Normalizer(to_simplified={self.to_simplified}, keep_newlines={self.keep_newlines})"

    # The OpenCC binding cannot be pickled; workers build their own on first use.
    def __getstate__(self) -> dict[str, Any]:
        return {"to_simplified": self.to_simplified, "keep_newlines": self.keep_newlines}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _t2s(self, text: str) -> str:
        if self._converter is None:
            self._converter = opencc.OpenCC("t2s")
        return self._converter.convert(text)

    def __call__(self, text: str) -> str:
        if not text:
            return ""
        # Width first, so that full-width "＆ａｍｐ；" or "＜ｂｒ＞" are treated like their ASCII forms.
        text = _to_half_width(text)
        if "&" in text:
            # Exports are often escaped twice or more ("&amp;nbsp;"): unescape to a fixed point
            # (each round shortens the text, so this ends), which keeps the result idempotent.
            unescaped = _ENTITY_RE.sub(_unescape_entity, text)
            while unescaped != text:
                text = unescaped
                unescaped = _ENTITY_RE.sub(_unescape_entity, text)
            text = _to_half_width(text)  # entities may decode to full-width characters
        if "<" in text:
            text = _TAG_RE.sub("", _BLOCK_TAG_RE.sub("\n", text))
        text = _CONTROL_RE.sub("", text)
        if self.to_simplified and _CJK_RE.search(text):
            text = self._t2s(text)
        if _SPACE_WORK_RE.search(text):
            if self.keep_newlines:
                text = _SPACE_RE.sub(" ", text)
                if "\n" in text:
                    text = _NEWLINE_RE.sub("\n", text)
            else:
                text = _ANY_SPACE_RE.sub(" ", text)
        if _PUNCT_WORK_RE.search(text):
            text = _REPEAT_RE.sub(r"\1", _ELLIPSIS_RE.sub("…", text))
        return text.strip()


def _unescape_entity(match: re.Match[str]) -> str:
    # html.unescape on the single entity keeps unknown names (e.g. "&foo;") verbatim.
    return html.unescape(match.group())


def _to_half_width(text: str) -> str:
    """NFKC, with a fast path for the characters that dominate Chinese text."""
    if text.isascii():
        return text
    for char in set(_WIDE_RE.findall(text)):
        text = text.replace(char, _WIDE[char])
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text
