"""Highlight snippets: one window of a document's text with the query terms marked, as HTML.

Done on the stored text rather than inside each engine, so every backend highlights alike. The
snippet is an HTML fragment: the text is escaped and only the marks are markup, so a page may insert
it as HTML and a document holding ``<script>`` shows as text.

The cost is bounded whatever the document: the first match is looked for in at most ``MAX_SCAN``
characters (a regular expression over all terms at once, longest first, so one pass) and marks are
placed only inside the ``width``-character window around it. A document of one word repeated
10,000 times once took seconds here, because each occurrence was checked against every earlier one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

# Beyond this many characters a match is not looked for: a snippet is for reading, and a document
# whose first match lies that deep still shows as a hit (its highlight is None, the text head shows).
MAX_SCAN = 100_000
MAX_TERMS = 64  # a query longer than this is not typed by a person; its extra terms are not marked
PRE, POST = "<em>", "</em>"


def _pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    # ASCII-only case folding keeps offsets exact (str.lower can change a string's length) and folds
    # like the index's 'ascii' tokenizer; longest first, so 快递柜 wins over 快递 at the same place.
    needles = sorted({term for term in terms if term.strip()}, key=lambda t: (-len(t), t))[:MAX_TERMS]
    if not needles:
        return None
    return re.compile("|".join(re.escape(needle) for needle in needles), re.IGNORECASE | re.ASCII)


def highlight(text: str, terms: Sequence[str], *, width: int = 160) -> str | None:
    """An HTML snippet of ``text`` around the first match, every whole match in it inside <em>…</em>;
    None when no term occurs in the first ``MAX_SCAN`` characters."""
    pattern = _pattern(terms)
    if pattern is None:
        return None
    first = pattern.search(text, 0, MAX_SCAN)
    if first is None:
        return None
    window_start = max(0, min(first.start() - width // 4, len(text) - width))
    window_end = min(len(text), window_start + width)
    pieces: list[str] = ["…" if window_start > 0 else ""]
    cursor = window_start
    for match in pattern.finditer(text, window_start, window_end):  # at most width matches
        pieces += [html.escape(text[cursor : match.start()]), PRE, html.escape(match.group()), POST]
        cursor = match.end()
    pieces.append(html.escape(text[cursor:window_end]))
    pieces.append("…" if window_end < len(text) else "")
    return "".join(pieces)


_MARK = re.compile(f"({re.escape(PRE)}|{re.escape(POST)})")


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """A snippet from ``highlight`` as plain-text pieces and whether each is a match: for outputs
    that are not HTML (a terminal), which must neither show entities nor take the text as markup."""
    parts: list[tuple[str, bool]] = []
    marked = False
    for piece in _MARK.split(snippet):
        if piece == PRE:
            marked = True
        elif piece == POST:
            marked = False
        elif piece:
            parts.append((html.unescape(piece), marked))
    return parts
