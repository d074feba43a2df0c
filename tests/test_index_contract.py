"""One contract for every search backend, on one shared corpus: the same query gives the same answer.

The Elasticsearch variant runs against VOC_ES_URL (default http://127.0.0.1:9200, e.g. after
`voc es start`) and is skipped, with the reason shown, only when no node answers there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from indexing.base import WORD_TIER, Filters, IndexRecord, SearchBackend, SearchQuery, SearchResult
from indexing.embedded import EmbeddedIndex
from indexing.es_testing import node_connection, unique_prefix

BACKENDS = ["embedded", "elasticsearch"]


def rec(n: int, terms: str, text: str, **fields: object) -> IndexRecord:
    values: dict[str, object] = {"source": "review", "created_at": datetime(2026, 9, 1, 10) if n == 1 else None}
    values.update(fields)
    return IndexRecord(id=f"d{n:03d}", text=text, terms=terms.split(), **values)  # type: ignore[arg-type]


def corpus() -> list[IndexRecord]:
    d = datetime
    docs = [
        rec(1, "快递 快递柜 超时 收费", "快递柜超时收费太坑了", sentiment="negative", sentiment_score=-0.8,
            industry="logistics", channel="app", store="北京店", tags=["快递柜"]),
        rec(2, "快递 很快 包装 好", "快递很快，包装好", sentiment="positive", sentiment_score=0.7,
            industry="logistics", channel="web", created_at=d(2026, 9, 2, 9)),
        rec(3, "客服 态度 差", "客服态度差", source="hotline", sentiment="negative", sentiment_score=-0.6,
            industry="telecom", created_at=d(2026, 9, 3, 12)),
        rec(4, "宽带 断网 客服 没 回复", "宽带断网，客服没回复", source="hotline", sentiment="negative",
            sentiment_score=-0.9, industry="telecom", created_at=d(2026, 10, 8)),
        rec(5, "物业费 贵", "物业费太贵", source="survey", sentiment="neutral", sentiment_score=0.0,
            industry="property"),
        rec(6, "iPhone-12 电池 不耐用", "iPhone-12电池不耐用", product="iPhone", sentiment="negative",
            sentiment_score=-0.5, industry="retail", created_at=d(2026, 9, 8, 8)),
        rec(7, "快递 很快 包装 好", "快递很快，包装好！", sentiment="positive", sentiment_score=0.7,
            industry="logistics", channel="web", created_at=d(2026, 9, 2, 9), near_duplicate_of="d002"),
        rec(8, "配送 速度 慢", "配送速度慢", topic_id=3, topic_label="配送慢", industry="logistics",
            created_at=d(2026, 9, 15, 18)),
        rec(9, "配送 慢 快递员 态度 差", "配送太慢了，快递员态度差", sentiment="negative", sentiment_score=-0.7,
            topic_id=3, topic_label="配送慢", tags=["物流", "快递柜"], created_at=d(2026, 9, 30, 23, 59, 59)),
        rec(10, "客服 回复 快", "客服回复快", source="hotline", sentiment="positive", sentiment_score=0.5,
            topic_id=12, topic_label="客服", channel="400", created_at=d(2026, 10, 1)),
        rec(11, "客服 回复 很快", "客服回复很快", source="hotline", sentiment="positive", sentiment_score=0.5,
            topic_id=12, topic_label="客服", channel="400", created_at=d(2026, 10, 1, 0, 0, 0, 700_000)),
        rec(12, "味道 不错 分量 足", "味道不错，分量足", source="survey", sentiment="positive",
            sentiment_score=0.9, industry="catering", store="上海店", tags=["口味"],
            created_at=d(2026, 11, 30, 7)),
    ]
    # Filler so pages, cursors and facet limits have something to walk over.
    words = ["物流", "快递", "客服", "价格", "质量", "包装", "售后", "退款"]
    for n in range(13, 61):
        pair = [words[n % 8], words[(n * 3) % 8]]
        docs.append(rec(n, " ".join(dict.fromkeys(pair)), "，".join(pair) + f" 第{n}条",
                        source=("review", "survey", "hotline")[n % 3], sentiment_score=round((n % 9 - 4) / 5, 1),
                        sentiment=("negative", "neutral", "positive")[n % 3], industry=f"ind{n % 4}",
                        created_at=d(2026, 8 + n % 4, 1 + n % 27, n % 24) if n % 7 else None,
                        tags=["批量"] if n % 5 == 0 else []))
    return docs


CORPUS = corpus()


def open_backend(kind: str, tmp_path: Path) -> tuple[SearchBackend, object]:
    if kind == "embedded":
        backend = EmbeddedIndex(tmp_path / "index.sqlite")
        return backend, backend.close
    connection, why = node_connection()
    if connection is None:
        print(f"skipping Elasticsearch: {why}")
        pytest.skip(why)
    from indexing.elasticsearch import ElasticsearchIndex

    es = ElasticsearchIndex(connection, unique_prefix())

    def cleanup() -> None:
        es.drop()
        es.close()

    return es, cleanup


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchBackend]:
    """A read-only backend holding the corpus, shared by the tests that do not write."""
    backend, cleanup = open_backend(request.param, tmp_path_factory.mktemp(request.param))
    report = backend.index(CORPUS)
    assert report.indexed == len(CORPUS) and not report.errors
    yield backend
    cleanup()  # type: ignore[operator]


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    """A backend of its own for tests that write."""
    backend, cleanup = open_backend(request.param, tmp_path)
    backend.index(CORPUS[:12])
    yield backend
    cleanup()  # type: ignore[operator]


def ids(result: SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


def search(backend: SearchBackend, *terms: str, **options: object) -> SearchResult:
    return backend.search(SearchQuery(terms=list(terms), **options))  # type: ignore[arg-type]


def test_every_term_must_match(loaded: SearchBackend) -> None:
    # a term matches as a word or as a string of characters: 快递员 (d009) holds 快递 too
    found = ids(search(loaded, "快递", limit=50))
    assert sorted(found) == sorted(r.id for r in CORPUS if "快递" in r.text)
    assert "d009" in found and "快递" not in CORPUS[8].terms
    assert found[-1] == "d009"  # word matches rank first
    assert ids(search(loaded, "快递", "超时")) == ["d001"]
    assert ids(search(loaded, "配送", "态度", "差")) == ["d009"]
    assert search(loaded, "不存在").total == 0
    assert search(loaded, "!!").total == 0  # nothing searchable is not "everything"
    assert search(loaded, "快递", "!!").total == search(loaded, "快递").total  # unsearchable terms drop out


def test_terms_fold_ascii_like_the_embedded_tokenizer(loaded: SearchBackend) -> None:
    for query in (["iphone-12"], ["IPHONE"], ["12"], ["iphone", "电池"], ["iPhone 12"]):
        assert ids(search(loaded, *query)) == ["d006"], query
    assert ids(search(loaded, "phone")) == ["d006"]  # not a word, but a string of iPhone-12
    assert search(loaded, "12 iphone").total == 0  # a term's tokens form a phrase, in order


def test_relevance_ranks_the_better_match_first(loaded: SearchBackend) -> None:
    result = search(loaded, "客服", "回复")
    assert sorted(ids(result)) == ["d004", "d010", "d011"]
    assert ids(result)[-1] == "d004"  # longest document, same term frequencies
    assert all(hit.score > 0 for hit in result.hits)
    assert all(hit.score == 0 for hit in search(loaded, sort="newest").hits)


def test_filters(loaded: SearchBackend) -> None:
    def where(**filters: object) -> list[str]:
        return sorted(ids(loaded.search(SearchQuery(filters=Filters(**filters), limit=100))))  # type: ignore[arg-type]

    assert where(source=["hotline"], industry=["telecom"]) == ["d003", "d004"]
    assert where(channel=["400", "app"]) == ["d001", "d010", "d011"]
    assert where(product=["iPhone"]) == ["d006"]
    assert where(store=["北京店", "上海店"]) == ["d001", "d012"]
    assert where(sentiment=["neutral"], industry=["property"]) == ["d005"]
    assert where(topic=[3, 12]) == ["d008", "d009", "d010", "d011"]
    assert where(tags=["快递柜"]) == ["d001", "d009"]
    assert where(tags=["快递柜", "物流"]) == ["d009"]  # every listed tag must be present
    assert where(ids=["d003", "d012", "nope"]) == ["d003", "d012"]
    # since/until are inclusive, to the second
    assert where(since=datetime(2026, 9, 30, 23, 59, 59), until=datetime(2026, 10, 1)) == ["d009", "d010", "d011"]
    assert where(since=datetime(2026, 11, 30, 7, 0, 1)) == []
    assert "d007" not in where(exclude_near_duplicates=True) and "d002" in where(exclude_near_duplicates=True)
    hotline_about_service = search(loaded, "客服", filters=Filters(source=["hotline"], topic=[12]))
    assert sorted(ids(hotline_about_service)) == ["d010", "d011"]


def test_facets_count_desc_then_value(loaded: SearchBackend) -> None:
    every = loaded.search(SearchQuery(limit=1))
    assert every.total == len(CORPUS)
    assert list(every.facets["topic"].items()) == [("3", 2), ("12", 2)]  # numeric, not "12" < "3"
    assert every.facets["tags"] == {"批量": 10, "快递柜": 2, "口味": 1, "物流": 1}
    assert list(every.facets["tags"]) == ["批量", "快递柜", "口味", "物流"]
    assert every.facets["channel"] == {"400": 2, "web": 2, "app": 1}
    assert list(every.facets["channel"]) == ["400", "web", "app"]
    small = loaded.search(SearchQuery(facets=("industry", "source"), facet_size=2))
    assert set(small.facets) == {"industry", "source"} and len(small.facets["industry"]) == 2
    filtered = search(loaded, "客服", facets=("source", "sentiment"))
    assert set(filtered.facets) == {"source", "sentiment"}
    assert sum(filtered.facets["source"].values()) == filtered.total  # facets follow the query
    assert filtered.facets["source"]["hotline"] == 4 + sum(
        1 for r in CORPUS[12:] if "客服" in r.terms and r.source == "hotline")
    with pytest.raises(ValueError):
        loaded.search(SearchQuery(facets=("colour",)))


def test_topic_facet_orders_values_numerically(loaded: SearchBackend) -> None:
    result = loaded.search(SearchQuery(filters=Filters(topic=[3, 12]), facets=("topic",)))
    assert list(result.facets["topic"].items()) == [("3", 2), ("12", 2)]


@pytest.mark.parametrize(("sort", "expected"), [
    ("newest", ["d012", "d004", "d011", "d010", "d009"]),
    ("oldest", ["d001", "d002", "d007", "d003", "d006"]),
    ("most_negative", ["d004", "d001", "d009", "d003", "d006"]),
    ("most_positive", ["d012", "d007", "d002", "d011", "d010"]),
])
def test_sort_orders_with_ties_and_missing_values(loaded: SearchBackend, sort: str, expected: list[str]) -> None:
    hand_written = Filters(ids=[f"d{n:03d}" for n in range(1, 13)])
    result = loaded.search(SearchQuery(filters=hand_written, sort=sort, limit=12))  # type: ignore[arg-type]
    assert ids(result)[:5] == expected
    if sort in ("newest", "oldest"):
        assert ids(result)[-1] == "d005"  # the only undated one


def test_missing_dates_and_scores_sort_last(loaded: SearchBackend) -> None:
    for sort in ("newest", "oldest"):
        hits = loaded.search(SearchQuery(sort=sort, limit=100)).hits  # type: ignore[arg-type]
        dated = [hit.created_at is not None for hit in hits]
        assert dated == sorted(dated, reverse=True)
    hits = loaded.search(SearchQuery(sort="most_positive", limit=100)).hits
    assert hits[-1].sentiment_score is None and hits[-1].id == "d008"


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest", "most_negative", "most_positive"])
def test_cursor_pages_visit_every_hit_once_in_order(loaded: SearchBackend, sort: str) -> None:
    terms = ["快递"] if sort == "relevance" else []
    whole = loaded.search(SearchQuery(terms=terms, sort=sort, limit=100))  # type: ignore[arg-type]
    seen: list[str] = []
    query = SearchQuery(terms=terms, sort=sort, limit=7, facets=())  # type: ignore[arg-type]
    while True:
        page = loaded.search(query)
        seen += ids(page)
        assert page.total == whole.total
        if not page.next_cursor:
            break
        query = SearchQuery(terms=terms, sort=sort, limit=7, facets=(), cursor=page.next_cursor)  # type: ignore[arg-type]
    assert seen == ids(whole)
    assert len(set(seen)) == whole.total


def test_offset_pages_and_ids_for(loaded: SearchBackend) -> None:
    whole = ids(loaded.search(SearchQuery(sort="oldest", limit=100)))
    assert ids(loaded.search(SearchQuery(sort="oldest", limit=10, offset=20))) == whole[20:30]
    assert sorted(loaded.ids_for(SearchQuery(terms=["客服"]))) == sorted(ids(search(loaded, "客服", limit=100)))
    assert len(loaded.ids_for(SearchQuery())) == len(CORPUS)


def test_counts(loaded: SearchBackend) -> None:
    assert loaded.count() == len(CORPUS)
    assert loaded.count(SearchQuery(terms=["客服"], filters=Filters(source=["hotline"]))) == search(
        loaded, "客服", filters=Filters(source=["hotline"])).total
    assert loaded.count(SearchQuery(terms=["!!"])) == 0


def test_date_histograms(loaded: SearchBackend) -> None:
    hand_written = SearchQuery(filters=Filters(ids=[f"d{n:03d}" for n in range(1, 13)]))
    assert loaded.date_histogram(hand_written, "day") == [
        ("2026-09-01", 1), ("2026-09-02", 2), ("2026-09-03", 1), ("2026-09-08", 1), ("2026-09-15", 1),
        ("2026-09-30", 1), ("2026-10-01", 2), ("2026-10-08", 1), ("2026-11-30", 1)]
    assert loaded.date_histogram(hand_written, "week") == [
        ("2026-08-31", 4), ("2026-09-07", 1), ("2026-09-14", 1), ("2026-09-28", 3), ("2026-10-05", 1),
        ("2026-11-30", 1)]
    assert loaded.date_histogram(hand_written, "month") == [("2026-09-01", 7), ("2026-10-01", 3), ("2026-11-01", 1)]
    by_month = loaded.date_histogram(SearchQuery(), "month")
    assert sum(n for _, n in by_month) == sum(1 for r in CORPUS if r.created_at)


def test_highlight_is_identical(loaded: SearchBackend) -> None:
    hit = search(loaded, "快递柜").hits[0]
    assert hit.highlight == "<em>快递柜</em>超时收费太坑了"
    assert search(loaded, "快递柜", highlight=False).hits[0].highlight is None


def test_get_returns_the_stored_record(loaded: SearchBackend) -> None:
    record = loaded.get("d009")
    assert record is not None
    assert record["text"] == "配送太慢了，快递员态度差" and record["terms"] == ["配送", "慢", "快递员", "态度", "差"]
    assert record["tags"] == ["快递柜", "物流"] and record["topic_id"] == 3
    assert record["created_at"] == "2026-09-30T23:59:59" and record["sentiment_score"] == -0.7
    assert loaded.get("d011")["created_at"] == "2026-10-01T00:00:00"  # type: ignore[index]
    assert loaded.get("missing") is None


def test_tags_by_ids_and_by_query(fresh: SearchBackend) -> None:
    assert fresh.set_tags("跟进", ["d003", "d004", "nope"], True) == 2
    assert fresh.set_tags("跟进", ["d003"], True) == 0  # already there
    assert sorted(ids(fresh.search(SearchQuery(filters=Filters(tags=["跟进"]))))) == ["d003", "d004"]
    by_query = fresh.ids_for(SearchQuery(terms=["快递"]))  # d009 says 快递员: found by its characters
    assert sorted(by_query) == ["d001", "d002", "d007", "d009"]
    assert fresh.set_tags("快递", by_query, True) == 4
    assert fresh.search(SearchQuery()).facets["tags"]["快递"] == 4
    assert fresh.set_tags("快递柜", ["d001", "d002"], False) == 1
    assert fresh.get("d001")["tags"] == ["快递"]  # type: ignore[index]
    assert fresh.search(SearchQuery(filters=Filters(ids=["d009"]))).hits[0].tags == ["快递", "快递柜", "物流"]


def test_index_replaces_by_id_and_delete_counts(fresh: SearchBackend) -> None:
    changed = rec(3, "客服 态度 好", "客服态度好", source="hotline", sentiment="positive", sentiment_score=0.6)
    assert fresh.index([changed]).indexed == 1
    assert fresh.count() == 12
    assert search(fresh, "差").total == 1 and ids(search(fresh, "好", "客服")) == ["d003"]
    assert fresh.delete(["d003", "d004", "nope"]) == 2
    assert fresh.count() == 10 and fresh.get("d003") is None
    fresh.clear()
    assert fresh.count() == 0 and fresh.search(SearchQuery()).facets["source"] == {}
    assert fresh.index(CORPUS[:3]).indexed == 3 and fresh.count() == 3


def random_corpus(n: int = 400, seed: int = 7) -> list[IndexRecord]:
    import random

    rng = random.Random(seed)
    vocab = ["物流", "快递", "客服", "价格", "质量", "包装", "售后", "退款", "很", "慢", "好", "差", "Wi-Fi", "屏幕"]
    docs = []
    for i in range(n):
        terms = rng.sample(vocab, rng.randint(1, 6)) + rng.choices(vocab, k=rng.randint(0, 3))
        docs.append(IndexRecord(
            id=f"r{i:04d}", text="".join(terms), terms=terms, source=rng.choice(["review", "survey", "hotline"]),
            created_at=datetime(2026, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23))
            if rng.random() > 0.1 else None,
            channel=rng.choice([None, "app", "web", "400"]), industry=rng.choice(["a", "b", "c"]),
            sentiment=rng.choice(["negative", "neutral", "positive"]),
            sentiment_score=rng.choice([None, -0.5, 0.0, 0.5, round(rng.uniform(-1, 1), 3)]),
            topic_id=rng.choice([None, 1, 2, 10]), tags=rng.sample(["甲", "乙", "丙"], rng.randint(0, 2)),
            near_duplicate_of=f"r{i - 1:04d}" if i and rng.random() < 0.05 else None,
        ))
    return docs


def summary(backend: SearchBackend, query: SearchQuery) -> dict[str, object]:
    result = backend.search(query)
    pages, page = [], query
    while True:  # walk every page with cursors, as deep pagination does
        part = backend.search(page)
        pages += ids(part)
        if not part.next_cursor:
            break
        page = SearchQuery(terms=query.terms, filters=query.filters, sort=query.sort, limit=query.limit,
                           facets=(), cursor=part.next_cursor)
    ranked = query.sort == "relevance" and bool(query.terms)
    # BM25 in SQLite and Lucene weigh terms slightly differently (FTS5 normalises by the length of the
    # whole row, jieba terms and n-grams together; Lucene per field): same hits, order may differ, so
    # a ranked first page is compared when it holds every hit, and all pages always.
    partial = ranked and result.total > query.limit
    return {
        "total": result.total, "count": backend.count(query), "facets": result.facets,
        "hits": None if partial else sorted(ids(result)) if ranked else ids(result),
        "pages": sorted(pages) if ranked else pages,
        "highlights": None if partial else sorted((hit.id, hit.highlight) for hit in result.hits),
        "word_matches_first": [hit.score >= WORD_TIER for hit in result.hits] if ranked else None,
        "months": backend.date_histogram(query, "month"), "weeks": backend.date_histogram(query, "week"),
    }


def test_both_backends_answer_alike_on_a_random_corpus(tmp_path: Path) -> None:
    embedded, close_embedded = open_backend("embedded", tmp_path)
    es, close_es = open_backend("elasticsearch", tmp_path)
    docs = random_corpus()
    try:
        for backend in (embedded, es):
            assert backend.index(docs).indexed == len(docs)
        queries = [SearchQuery(terms=terms, filters=filters, sort=sort, limit=limit)  # type: ignore[arg-type]
                   for terms in ([], ["快递"], ["客服", "慢"], ["wi-fi"], ["WI", "FI"], ["很", "好", "包装"], ["递"],
                                 ["i-f"], ["慢好"])
                   for filters, sort, limit in (
                       (Filters(), "relevance", 25), (Filters(source=["hotline"], tags=["甲"]), "newest", 10),
                       (Filters(since=datetime(2026, 3, 1), until=datetime(2026, 8, 31, 23, 59, 59)), "oldest", 30),
                       (Filters(topic=[1, 10], exclude_near_duplicates=True), "most_negative", 15),
                       (Filters(channel=["app", "400"], sentiment=["positive"]), "most_positive", 20))]
        for query in queries:
            assert summary(es, query) == summary(embedded, query), query
    finally:
        close_embedded()  # type: ignore[operator]
        close_es()  # type: ignore[operator]
