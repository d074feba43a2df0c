"""Issue 17, item 12: analysis cost grows linearly with pathological input, and one request is bounded.

A text that repeats one word thousands of times used to cost time quadratic in the repetitions
(every opinion hit checked against every masked span, every clause boundary looked up in a list,
every contrast word re-scanned the whole clause before it). The timing tests compare a text with
one ten times longer in the same run, so the figure is a ratio and survives a busy machine: linear
work grows ~10x, the old code grew ~100x. The property tests pin the linear code to the simple
definitions it replaced, so results on ordinary texts are unchanged.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voc.sentiment import lexicon as lx
from voc.sentiment import load_analyzer
from voc.sentiment.clauses import CONTRAST_RE, Clause, split_clauses
from voc.settings import VocSettings

# One word per class of repeated match the analyzer reacts to: a masked non-opinion word (快递),
# contrast words that cut clauses (不过, 但是, 就是), opinion words with and without negation, an
# aspect term, and a repeated clause with punctuation.
PATHOLOGICAL_WORDS = ["快递", "不过", "但是", "就是好", "不好", "物流很好", "快递，"]
# 10x the repetitions must cost at most this factor more: linear is ~10x, the old quadratic ~100x.
MAX_GROWTH = 25.0
SMALL_REPEATS = 2_000  # short run ~20 ms: long enough not to be lost in timer and scheduler noise


@pytest.fixture(scope="module")
def analyzer():  # type: ignore[no-untyped-def]
    loaded = load_analyzer(VocSettings())
    loaded.analyze(["预热一下模型，味道不错"])  # load models and caches outside the timings
    return loaded


def _best_time(work: Callable[[], object], repeats: int) -> float:
    """Shortest of a few runs: the one least disturbed by other processes on the machine."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("word", PATHOLOGICAL_WORDS)
def test_analysis_time_grows_linearly_with_repeated_words(analyzer, word: str) -> None:  # type: ignore[no-untyped-def]
    short = _best_time(lambda: analyzer.analyze([word * SMALL_REPEATS]), repeats=5)
    long = _best_time(lambda: analyzer.analyze([word * SMALL_REPEATS * 10]), repeats=3)
    ratio = long / max(short, 1e-4)
    assert ratio < MAX_GROWTH, f"{word!r}: {short:.4f}s -> {long:.4f}s for 10x the text ({ratio:.0f}x)"


# --- the linear code gives the same answers as the simple definitions it replaced -------------------------

def _reference_lexicon_hits(text: str) -> list[tuple[int, int, int]]:
    masked = [m.span() for m in lx.NOT_OPINION_RE.finditer(text)]
    hits = []
    for match in lx.OPINION_RE.finditer(text):
        if any(a <= match.start() < b for a, b in masked):
            continue
        polarity = lx.opinion_polarity(match.group())
        if lx.negation_count(text, match.start()) % 2 == 1:
            polarity = -polarity
        hits.append((match.start(), match.end(), polarity))
    return hits


_REFERENCE_NOT_CONTRAST_BEFORE = re.compile(r"(?:再.{0,3}|只|都|不)$")


def _reference_contrast_cuts(text: str, start: int, end: int) -> list[int]:
    cuts = []
    for match in CONTRAST_RE.finditer(text, start, end):
        pos = match.start()
        if pos == start and match.group() in {"就是", "只是", "却"}:
            continue
        if pos == start:
            cuts.append(pos)
            continue
        before = text[start:pos]
        after = text[match.end() : match.end() + 1]
        if match.group() == "不过" and (_REFERENCE_NOT_CONTRAST_BEFORE.search(before) or (after and after in "了来去")):
            continue
        if match.group() == "但" and before.endswith("不"):
            continue
        if match.group() in {"就是", "只是", "却", "但"} and len(before) < 2:
            continue
        if match.group() == "就是" and before.endswith(("不", "也", "还", "都")):
            continue
        cuts.append(pos)
    return cuts


_REFERENCE_PUNCT_RE = re.compile(r"[，,。.！!？?；;、~～…\n\r\t]+|\s{2,}")


def _reference_split_clauses(text: str) -> list[Clause]:
    clauses: list[Clause] = []
    pos = 0
    spans = []
    for match in _REFERENCE_PUNCT_RE.finditer(text):
        spans.append((pos, match.start(), match.group()))
        pos = match.end()
    spans.append((pos, len(text), ""))
    for start, end, punct in spans:
        while start < end and text[start].isspace():
            start += 1
        if start >= end:
            continue
        cuts = [c for c in _reference_contrast_cuts(text, start, end) if c >= start]
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
                    concessive=bool(re.match(r"^(?:虽然|虽说|尽管|虽)", piece)),
                    is_question=("?" in punct or "？" in punct) and b == end,
                )
            )
    return clauses


# Texts built from the pieces the analyzer reacts to, so that hits, masks, negators and contrast words
# collide in every way: overlapping masks (快递 inside 快递员), negators right before opinions, 再好不过.
_PIECES = [
    "快递", "快递员", "快", "好", "不", "没", "不是", "不过", "再", "只", "都", "也", "还", "但", "但是", "就是",
    "只是", "却", "可惜", "虽然", "来", "了", "去", "好像", "差不多", "差", "贵", "贵宾", "价格", "味道", "物流",
    "很", "，", "。", "？", " ", "  ", "\n", "a", "你好",
]
_texts = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_lexicon_hits_match_the_simple_definition(text: str) -> None:
    assert lx.lexicon_hits(text) == _reference_lexicon_hits(text)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_clause_split_matches_the_simple_definition(text: str) -> None:
    assert split_clauses(text) == _reference_split_clauses(text)
