"""Aspect-level sentiment: aspect terms found per clause, their opinion span and polarity.

Terms come from a span tagger (``voc.aspects``: the trained CRF or encoder, ``mentions_from_spans``)
or, without one, from the CX lexicon (``find_mentions``). Polarity comes, in order, from an opinion
word next to the term (negation handled), from the aspect polarity model (trained on bdci2018 + ABSA
data, see models/sentiment/aspect_train.py) applied to the term in its clause, or from the clause
label.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from voc.aspects.types import TaggedSpan
from voc.sentiment import lexicon as lx
from voc.sentiment.clauses import Clause

_TERM_TO_ASPECT = lx.TERM_TO_ASPECT
ASPECT_RE = lx.ASPECT_TERM_RE
ASPECT_SEP = "\u2016"  # joins term and context for the aspect model: "价格‖价格有点贵"
# what a lexicon opinion word added to a tagger's spans is worth: the lexicon's opinion words alone
# reached 0.49 overlap F1 on the span bench, the CRF 0.72
LEXICON_OPINION_CONFIDENCE = 0.5


@dataclass(slots=True)
class AspectMention:
    aspect: str
    term: str
    clause_index: int
    term_start: int  # offset in the document
    opinion: str = ""
    opinion_start: int = -1
    opinion_end: int = -1
    lexicon_polarity: int = 0
    term_end: int = -1  # -1: term_start + len(term)
    confidence: float = 1.0
    source: str = "lexicon"

    @property
    def end(self) -> int:
        return self.term_end if self.term_end >= 0 else self.term_start + len(self.term)


def aspect_input(term: str, context: str) -> str:
    return f"{term}{ASPECT_SEP}{context}"


def find_mentions(text: str, clauses: Sequence[Clause]) -> list[AspectMention]:
    """One mention per (clause, aspect): the first term; the nearest opinion word in the clause."""
    mentions: list[AspectMention] = []
    for index, clause in enumerate(clauses):
        seen: set[str] = set()
        hits = lx.lexicon_hits(clause.text)
        for match in ASPECT_RE.finditer(clause.text):
            aspect = _TERM_TO_ASPECT[match.group()]
            if aspect in seen:
                continue
            seen.add(aspect)
            mention = AspectMention(aspect, match.group(), index, clause.start + match.start())
            # an opinion word after the term reads more naturally (价格很贵), else the one before (好吃的菜品)
            after = [h for h in hits if h[0] >= match.start()]
            before = [h for h in hits if h[1] <= match.start()]
            chosen = after[0] if after else (before[-1] if before else None)
            if chosen is not None:
                start, end, polarity = chosen
                span_start = _widened(clause.text, start)
                mention.opinion = clause.text[span_start:end]
                mention.opinion_start = clause.start + span_start
                mention.opinion_end = clause.start + end
                mention.lexicon_polarity = polarity
            mentions.append(mention)
    return mentions


def _widened(text: str, start: int) -> int:
    """The opinion word's start moved back over negators and degree words, so the span reads "不新鲜";
    是 only as part of 不是 / 没是 (不是很好), not the 是 of 就是 / 还是 (就是有点贵 → 有点贵)."""
    while start > 0 and text[start - 1] in "不没别无是很太真挺超特非常较有点":
        if text[start - 1] == "是" and (start < 2 or text[start - 2] not in "不没"):
            break
        start -= 1
    return start


def category_of(term: str) -> str:
    """The CX category a term names through the lexicon: the longest lexicon term inside it
    ("物流速度" → 物流配送, "太贵了" → 价格), or "" when none is."""
    found = [m.group() for m in ASPECT_RE.finditer(term)]
    return _TERM_TO_ASPECT[max(found, key=len)] if found else ""


def mentions_from_spans(text: str, clauses: Sequence[Clause], spans: Sequence[TaggedSpan]) -> list[AspectMention]:
    """Mentions from tagged spans: each aspect term with the nearest opinion span of its clause
    (the one after it, else before); an opinion left unpaired counts as an implicit aspect when it
    names a category (太贵了 → 价格). Categories come from the lexicon; a term it does not claim keeps
    category "".

    Linear in the number of spans (sweeps and bisection, no pairwise scans): a text of one phrase
    repeated thousands of times has thousands of spans in one clause.
    """
    mentions: list[AspectMention] = []
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    cursor = 0
    for index, clause in enumerate(clauses):
        while cursor < len(ordered) and ordered[cursor].start < clause.start:
            cursor += 1
        inside = []
        while cursor < len(ordered) and ordered[cursor].start < clause.end:
            if ordered[cursor].end <= clause.end:
                inside.append(ordered[cursor])
            cursor += 1
        opinions = _with_lexicon_opinions(clause, inside)
        used = [False] * len(opinions)
        after = 0
        for span in _aspects_clear_of(opinions, [s for s in inside if s.kind == "aspect"]):
            term = text[span.start:span.end]
            mention = AspectMention(category_of(term), term, index, span.start, term_end=span.end,
                                    confidence=span.confidence, source="tagger")
            while after < len(opinions) and (opinions[after].start < span.end or used[after]):
                after += 1
            chosen = after if after < len(opinions) else _unused_before(opinions, used, after, span.start)
            if chosen is not None:
                used[chosen] = True
                _attach_opinion(mention, text, opinions[chosen])
            mentions.append(mention)
        for span, taken in zip(opinions, used, strict=True):
            category = "" if taken else category_of(text[span.start:span.end])
            if category:
                mention = AspectMention(category, "", index, span.start, term_end=span.start,
                                        confidence=span.confidence, source="tagger")
                _attach_opinion(mention, text, span)
                mentions.append(mention)
    return mentions


def _with_lexicon_opinions(clause: Clause, inside: Sequence[TaggedSpan]) -> list[TaggedSpan]:
    """The clause's tagged opinions plus the lexicon's opinion words no tagged span overlaps (就是价格
    有点贵: 有点贵), sorted by start."""
    opinions = [s for s in inside if s.kind == "opinion"]
    starts = [s.start for s in inside]  # inside is sorted by start
    reach = list(itertools.accumulate((s.end for s in inside), max))
    for start, end, _ in lx.lexicon_hits(clause.text):
        start, end = clause.start + _widened(clause.text, start), clause.start + end
        last = bisect.bisect_left(starts, end) - 1  # spans that start before this word ends...
        if last < 0 or reach[last] <= start:  # ...none of which reaches into it
            opinions.append(TaggedSpan(start, end, "opinion", confidence=LEXICON_OPINION_CONFIDENCE))
    return sorted(opinions, key=lambda s: (s.start, s.end))


def _unused_before(opinions: Sequence[TaggedSpan], used: Sequence[bool], stop: int, start: int,
                   look_back: int = 4) -> int | None:
    """The nearest free opinion ending before ``start``, among the few just before ``stop``."""
    for i in range(stop - 1, max(-1, stop - 1 - look_back), -1):
        if not used[i] and opinions[i].end <= start:
            return i
    return None


def _aspects_clear_of(opinions: Sequence[TaggedSpan], aspects: Sequence[TaggedSpan]) -> list[TaggedSpan]:
    """Aspect spans cut back where an opinion span begins inside them: the aspect and opinion
    taggers decide apart, and 服务真好呵呵 came out as aspect 服务真好 beside opinion 真好呵呵. An aspect
    that begins inside an opinion is dropped: the opinion is the better reading."""
    starts = [o.start for o in opinions]
    reach = list(itertools.accumulate((o.end for o in opinions), max))
    kept = []
    for aspect in aspects:
        covering = bisect.bisect_right(starts, aspect.start) - 1
        if covering >= 0 and reach[covering] > aspect.start:
            continue
        following = covering + 1
        end = starts[following] if following < len(starts) and starts[following] < aspect.end else aspect.end
        kept.append(replace(aspect, end=end))
    return kept


def _attach_opinion(mention: AspectMention, text: str, span: TaggedSpan) -> None:
    mention.opinion = text[span.start:span.end]
    mention.opinion_start, mention.opinion_end = span.start, span.end
    # the lexicon reads the opinion in its sentence: negators before the span count (不 + 新鲜)
    hits = [p for s, e, p in lx.lexicon_hits(text[max(0, span.start - 3):span.end]) if p]
    if hits:
        mention.lexicon_polarity = 1 if sum(hits) > 0 else -1
    elif span.polarity in ("positive", "negative"):  # the encoder tagger reads polarity per span
        mention.lexicon_polarity = 1 if span.polarity == "positive" else -1


def mention_input(mention: AspectMention, clauses: Sequence[Clause]) -> str:
    """The aspect model's input for a mention: its term and the clause it sits in."""
    return aspect_input(mention.term, clauses[mention.clause_index].text)
