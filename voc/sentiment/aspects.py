"""Aspect-level sentiment: CX aspect terms found per clause, their opinion span and polarity.

Polarity comes, in order, from an opinion word next to the term (negation handled), from the
aspect polarity model (trained on bdci2018 + ABSA data, see models/sentiment/aspect_train.py)
applied to the term in its clause, or from the clause label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from voc.sentiment import lexicon as lx
from voc.sentiment.clauses import Clause

_TERM_TO_ASPECT = {term: aspect for aspect, terms in lx.ASPECT_TERMS.items() for term in terms}
ASPECT_RE = re.compile("|".join(sorted(map(re.escape, _TERM_TO_ASPECT), key=len, reverse=True)))
ASPECT_SEP = "\u2016"  # joins term and context for the aspect model: "价格‖价格有点贵"


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
                # widen the span to include a preceding negator so the span reads "不新鲜"
                span_start = start
                while span_start > 0 and clause.text[span_start - 1] in "不没别无是很太真挺超特非常较有点":
                    span_start -= 1
                mention.opinion = clause.text[span_start:end]
                mention.opinion_start = clause.start + span_start
                mention.opinion_end = clause.start + end
                mention.lexicon_polarity = polarity
            mentions.append(mention)
    return mentions


def mention_input(mention: AspectMention, clauses: Sequence[Clause]) -> str:
    """The aspect model's input for a mention: its term and the clause it sits in."""
    return aspect_input(mention.term, clauses[mention.clause_index].text)
