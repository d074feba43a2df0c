"""Clause splitting on punctuation and contrast words, with character offsets into the input.

"虽然包装很好，但是味道一般" → [虽然包装很好 (concessive), 但是味道一般 (after contrast)]. A contrast
word starts a new clause; the clause it starts carries ``after_contrast`` so that the document
decision can let the later clause decide.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# 就是/只是 are contrast only after a previous clause ("就是好吃" at the start is emphasis);
# 不过 in "再好不过" is a superlative, not a contrast.
CONTRAST_RE = re.compile(r"但是|不过|可是|然而|就是|只是|但|却|可惜")
CONCESSIVE_RE = re.compile(r"^(?:虽然|虽说|尽管|虽)")
_PUNCT_RE = re.compile(r"[，,。.！!？?；;、~～…\n\r\t]+|\s{2,}")
_NOT_CONTRAST_BEFORE = re.compile(r"(?:再.{0,3}|只|都|不)$")
_LOOKBEHIND_CHARS = 4  # the longest context _contrast_cuts reads before a contrast word (再.{0,3})


@dataclass(slots=True)
class Clause:
    text: str
    start: int
    end: int
    after_contrast: bool = False
    concessive: bool = False
    is_question: bool = False


def _contrast_cuts(text: str, start: int, end: int) -> list[int]:
    cuts = []
    for match in CONTRAST_RE.finditer(text, start, end):
        pos = match.start()
        if pos == start and match.group() in {"就是", "只是", "却"}:
            continue
        if pos == start:
            cuts.append(pos)  # clause-initial 但是/不过: marks the clause, no split needed
            continue
        # the rules below look at most 4 characters back: slicing the whole clause before each
        # contrast word made a clause of repeated 不过 quadratic
        before = text[max(start, pos - _LOOKBEHIND_CHARS) : pos]
        after = text[match.end() : match.end() + 1]
        # 再好不过 is a superlative; 不过来/不过去 are verbs ("忙不过来")
        if match.group() == "不过" and (_NOT_CONTRAST_BEFORE.search(before) or (after and after in "了来去")):
            continue
        if match.group() == "但" and before.endswith("不"):  # 不但 = "not only"
            continue
        if match.group() in {"就是", "只是", "却", "但"} and pos - start < 2:
            continue
        if match.group() == "就是" and before.endswith(("不", "也", "还", "都")):
            continue
        cuts.append(pos)
    return cuts


def split_clauses(text: str) -> list[Clause]:
    """Split into clauses; empty text gives no clauses, text without punctuation gives one."""
    clauses: list[Clause] = []
    pos = 0
    spans = []
    for match in _PUNCT_RE.finditer(text):
        spans.append((pos, match.start(), match.group()))
        pos = match.end()
    spans.append((pos, len(text), ""))
    for start, end, punct in spans:
        while start < end and text[start].isspace():
            start += 1
        if start >= end:
            continue
        cuts = {c for c in _contrast_cuts(text, start, end) if c >= start}  # a set: looked up per clause
        bounds = sorted({start, *cuts, end})
        for a, b in itertools.pairwise(bounds):
            piece = text[a:b].strip()
            if not piece:
                continue
            clauses.append(
                Clause(
                    text=piece,
                    start=a,
                    end=a + len(piece),
                    after_contrast=bool(CONTRAST_RE.match(text, a)) and a in cuts,
                    concessive=bool(CONCESSIVE_RE.match(piece)),
                    is_question=("?" in punct or "？" in punct) and b == end,
                )
            )
    return clauses


def deciding_span(clauses: list[Clause]) -> tuple[int, int] | None:
    """Span that decides an explicitly concessive text (虽然/尽管 A，但是/却 B → B to the end).

    A bare 但是/就是 is left to the model: in waimai "很好吃，就是送得慢" is mostly labelled
    positive, and weighting every post-contrast span lowered accuracy on all review sets.
    """
    first = next((i for i, c in enumerate(clauses) if c.concessive), None)
    if first is None or first + 1 >= len(clauses):
        return None
    later = [i for i, c in enumerate(clauses) if i > first and c.after_contrast]
    # "虽然A，B" without an explicit 但是: the clause right after the concession decides
    start = later[-1] if later else first + 1
    return clauses[start].start, clauses[-1].end
