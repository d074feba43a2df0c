"""PII masking for text kept as it was written: ``text_original``, metadata values, store/channel names.

The masker works on normalised text, where a number is a run of ASCII digits. As written, many forms
only become such a run after normalisation — ``138 1234 5678`` with no-break or ideographic spaces or
tabs, a zero-width space or soft hyphen inside, math-bold / circled / superscript digits, ``138&#49;…``,
``138<b>1234</b>…`` — so masking the original with the masker alone leaves them raw.

Detection therefore runs on a *view* of the original that repeats the normaliser's rewriting steps
(NFKC width, HTML entities, tags, invisible characters, whitespace and punctuation runs) and remembers,
for every view character, the original characters it came from. Each item found in the view is masked
in the original over all the characters it covers; everything else — Traditional characters,
full-width punctuation, line breaks — stays as the customer wrote it.

Then a check turns this into a guarantee: when the normalised form of the masked original still shows
the masker anything (a normaliser step the view does not copy, say), the stored original becomes the
masked normalised text. An original is never kept with PII the normalised text would have masked.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from voc.documents import PiiSpan

# The normaliser's own patterns, so that the view and the normalised text cannot drift apart.
from voc.text.normalize import _BLOCK_TAG_RE, _CONTROL_RE, _ELLIPSIS_RE, _ENTITY_RE, _REPEAT_RE, _TAG_RE
from voc.text.pii import PiiMasker

# Stored instead of the original in the one case masking cannot be made to hold (a masker whose own
# output it detects again): the text itself is kept in normalised, masked form in ``text`` anyway.
WITHHELD = "[原文含无法遮盖的个人信息，未保存]"

# Characters NFKC may change: everything but ASCII and the CJK ideograph blocks, which it leaves alone.
_MAYBE_WIDE_RE = re.compile("[^\x00-\x7f\u3400-\u4dbf\u4e00-\u9fff]")
_INLINE_SPACE_RE = re.compile(r"[^\S\n]+")
_NEWLINE_RE = re.compile(r" ?\n\s*")
_ANY_SPACE_RE = re.compile(r"\s+")


def mask_original(original: str, masker: PiiMasker, normalize: Callable[[str], str], *,
                  normalized: str | None = None, keep_newlines: bool = True) -> str:
    """``original`` with every PII item masked that the masker finds in it or in its normalised form.

    ``normalize`` is the pipeline's normaliser; ``normalized`` is ``normalize(original)`` when the caller
    has it already (it saves one normalisation).
    """
    if not original:
        return original
    normal = normalized if normalized is not None else normalize(original)
    masked, spans_as_written = masker.mask(original)
    if not spans_as_written and not masker.find(normal):
        return original  # nothing as written, nothing after normalisation: the usual case
    view = _View.of(masked).normalised(keep_newlines)
    masked_view, spans = masker.mask(view.text)
    if spans:
        ranges: list[tuple[int, int, str]] = []
        for span in spans:
            start, end = view.starts[span.start], view.ends[span.end - 1]
            replacement = masked_view[span.masked_start:span.masked_end]
            if ranges and start < ranges[-1][1]:  # two items inside one original unit (an entity): one mask
                ranges[-1] = (ranges[-1][0], max(end, ranges[-1][1]), ranges[-1][2])
            else:
                ranges.append((start, end, replacement))
        masked = _replace(masked, ranges)
    if masker.find(normalize(masked)):
        return masked_normalised(normal, masker, normalize)
    return masked


def mask_completely(text: str, masker: PiiMasker, max_rounds: int = 4) -> tuple[str, list[PiiSpan]]:
    """``masker.mask``, repeated until the masker finds nothing in its own output.

    One round is all it takes almost always; but a masker may only see an item once its neighbour is a
    placeholder (a phone that context announces, right after a number it masked). Spans index ``text``;
    an item found in a later round that covers earlier ones is reported as one span.
    """
    masked, spans = masker.mask(text)
    if not spans or not masker.find(masked):
        return masked, spans
    view = _View.of(text)
    items: dict[tuple[int, int], str] = {}  # original range → PII type
    for _ in range(max_rounds):
        remasked, found = masker.mask(view.text)
        if not found:
            break
        for span in found:
            start, end = view.starts[span.start], view.ends[span.end - 1]
            items = {key: kind for key, kind in items.items() if not start <= key[0] < end}
            items[(start, end)] = span.type
        view = view.rewrite((span.start, span.end, remasked[span.masked_start:span.masked_end]) for span in found)
    if masker.find(view.text):
        return WITHHELD, []
    where: dict[tuple[int, int], list[int]] = {}
    for index, key in enumerate(zip(view.starts, view.ends, strict=True)):
        if key in items:
            where.setdefault(key, []).append(index)
    spans = [PiiSpan(items[key], key[0], key[1], where[key][0], where[key][-1] + 1) for key in sorted(where)]
    return view.text, spans


def masked_normalised(normal: str, masker: PiiMasker, normalize: Callable[[str], str]) -> str:
    """The masked normalised text, masked again until the masker sees nothing in its normal form."""
    text = normal
    for _ in range(4):
        text = normalize(masker.mask(text)[0])
        if not masker.find(text):
            return text
    return WITHHELD


def _replace(text: str, ranges: list[tuple[int, int, str]]) -> str:
    parts: list[str] = []
    position = 0
    for start, end, replacement in ranges:
        parts += (text[position:start], replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


@lru_cache(maxsize=4096)
def _nfkc(char: str) -> str:
    return unicodedata.normalize("NFKC", char)


@dataclass(slots=True)
class _View:
    """A rewritten text with, for every character, the span of the original it came from."""

    text: str
    starts: list[int]  # index in the original of the first character this one came from
    ends: list[int]  # index just past the last one

    @classmethod
    def of(cls, text: str) -> _View:
        return cls(text, list(range(len(text))), list(range(1, len(text) + 1)))

    def normalised(self, keep_newlines: bool) -> _View:
        """The normaliser's steps, in its order (Traditional → Simplified aside: it changes no digit)."""
        view = self._width()
        if "&" in view.text:
            # Unescaped to a fixed point, as the normaliser does ("&amp;#49;" → "&#49;" → "1").
            while True:
                unescaped = view.sub(_ENTITY_RE, lambda match: html.unescape(match.group()))
                if unescaped is view:
                    break
                view = unescaped
            view = view._width()
        if "<" in view.text:
            view = view.sub(_BLOCK_TAG_RE, lambda _: "\n").sub(_TAG_RE, lambda _: "")
        view = view.sub(_CONTROL_RE, lambda _: "")
        if keep_newlines:
            view = view.sub(_INLINE_SPACE_RE, lambda _: " ").sub(_NEWLINE_RE, lambda _: "\n")
        else:
            view = view.sub(_ANY_SPACE_RE, lambda _: " ")
        return view.sub(_ELLIPSIS_RE, lambda _: "…").sub(_REPEAT_RE, lambda match: match.group(1))

    def _width(self) -> _View:
        if self.text.isascii() or unicodedata.is_normalized("NFKC", self.text):
            return self
        return self.sub(_MAYBE_WIDE_RE, lambda match: _nfkc(match.group()))

    def sub(self, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]) -> _View:
        """Like ``pattern.sub``; each replacement's characters map to the whole span they replace.
        Returns ``self`` when nothing changed."""
        return self.rewrite((match.start(), match.end(), replace(match)) for match in pattern.finditer(self.text))

    def rewrite(self, replacements: Iterable[tuple[int, int, str]]) -> _View:
        """Replace ``text[start:end]`` for each ordered, non-overlapping ``(start, end, replacement)``."""
        parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        position = 0
        for start, end, replacement in replacements:
            if start == end or replacement == self.text[start:end]:
                continue
            parts += (self.text[position:start], replacement)
            starts += self.starts[position:start]
            ends += self.ends[position:start]
            starts += [self.starts[start]] * len(replacement)
            ends += [self.ends[end - 1]] * len(replacement)
            position = end
        if not parts:
            return self
        parts.append(self.text[position:])
        starts += self.starts[position:]
        ends += self.ends[position:]
        return _View("".join(parts), starts, ends)
