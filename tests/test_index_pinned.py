"""A pinned filter (indexing/pinned.py) is only a faster way to the same answer: every read of an index
that pinned a store list equals the same read of an index that did not, before and after other
connections insert, replace (moving a document to another store) and delete documents."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from indexing.base import FACET_FIELDS, Filters, IndexRecord, SearchQuery
from indexing.embedded import EmbeddedIndex

STORES = [f"店{n}" for n in range(8)]
SCOPE = ["店1", "店2", "店5"]
WORDS = ["快递", "客服", "包装", "退款", "质量", "味道", "价格", "服务"]


def corpus(n: int, seed: int = 0, start: int = 0) -> list[IndexRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(start, start + n):
        terms = rng.sample(WORDS, rng.randint(1, 3))
        out.append(IndexRecord(
            id=f"d{i:04d}", text="".join(terms) + "，还行", terms=[*terms, "还行"],
            source=rng.choice(["review", "survey"]),
            created_at=datetime(2026, 1, 1) + timedelta(days=rng.randrange(120)), channel=rng.choice(["app", "web"]),
            store=rng.choice([*STORES, None]), sentiment=rng.choice(["positive", "negative"]),
            sentiment_score=round(rng.uniform(-1, 1), 2), topic_id=rng.randrange(4),
            tags=["复核"] if rng.random() < 0.2 else []))
    return out


def queries() -> list[SearchQuery]:
    found = []
    for terms in ([], ["快递"], ["客服", "退款"], ["还行"], ["递"], ["不存在"]):
        for sort in ("relevance", "newest", "most_negative"):
            for extra in (Filters(), Filters(sentiment=["negative"]), Filters(channel=["app"], tags=["复核"]),
                          Filters(since=datetime(2026, 2, 1))):
                found.append(SearchQuery(terms=terms, sort=sort, filters=replace(extra, store=list(SCOPE)),  # type: ignore[arg-type]
                                         facets=FACET_FIELDS, limit=7))
    return found


def pages(index: EmbeddedIndex, query: SearchQuery) -> list[tuple[object, ...]]:
    """Every page by cursor, with total and facets, the count and the histogram."""
    out: list[tuple[object, ...]] = [(index.count(query),), tuple(index.date_histogram(query, "month"))]
    page = query
    while True:
        result = index.search(page)
        out.append(([(h.id, round(h.score, 6)) for h in result.hits], result.total, result.facets))
        if not result.next_cursor:
            return out
        page = replace(page, cursor=result.next_cursor)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[EmbeddedIndex, EmbeddedIndex]:
    path = tmp_path / "index.sqlite"
    plain = EmbeddedIndex(path)
    plain.index(corpus(300))
    pinned = EmbeddedIndex(path)
    pinned.pin_filter("store", SCOPE)
    yield plain, pinned
    pinned.close()
    plain.close()


def test_pinned_reads_equal_unpinned_reads(pair: tuple[EmbeddedIndex, EmbeddedIndex]) -> None:
    plain, pinned = pair
    for query in queries():
        assert pages(pinned, query) == pages(plain, query), query
    narrower = SearchQuery(terms=["快递"], filters=Filters(store=["店1"]))  # not the pinned list: the IN list
    assert pages(pinned, narrower) == pages(plain, narrower)
    assert pinned.search(SearchQuery(filters=Filters(store=list(SCOPE)))).total == sum(
        1 for r in corpus(300) if r.store in SCOPE)


def test_pinned_rows_follow_writes_from_another_connection(pair: tuple[EmbeddedIndex, EmbeddedIndex]) -> None:
    plain, pinned = pair
    query = SearchQuery(terms=["还行"], filters=Filters(store=list(SCOPE)), facets=("store",), limit=500)
    before = {hit.id for hit in pinned.search(query).hits}
    moved_out = sorted(before)[:5]
    outside = [r for r in corpus(300) if r.store not in SCOPE][:5]
    # the other connection moves five documents out of the scope, five in, deletes one, adds new ones
    plain.index([replace(r, store="店7") for r in corpus(300) if r.id in moved_out])
    plain.index([replace(r, store="店2") for r in outside])
    plain.delete([sorted(before)[10]])
    plain.index(corpus(50, seed=1, start=1000))
    after = {hit.id for hit in pinned.search(query).hits}
    assert after == {hit.id for hit in plain.search(query).hits}
    assert not after & set(moved_out) and {r.id for r in outside} <= after and sorted(before)[10] not in after
    for q in queries()[:24]:
        assert pages(pinned, q) == pages(plain, q), q


def test_pins_are_per_value_list_and_bounded(tmp_path: Path) -> None:
    index = EmbeddedIndex(tmp_path / "index.sqlite")
    index.index(corpus(40))
    for n in range(40):  # more scopes than are kept: the oldest are forgotten, answers unchanged
        index.pin_filter("store", [STORES[n % 8], f"x{n}"])
    index.pin_filter("sentiment", ["negative"])  # not a pinnable column: ignored
    for n in range(8):
        query = SearchQuery(terms=["还行"], filters=Filters(store=[STORES[n], f"x{n + 32}"]))
        assert {h.id for h in index.search(query).hits} == {r.id for r in corpus(40) if r.store == STORES[n]}
    index.close()
