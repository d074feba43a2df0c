from __future__ import annotations

import random
import sqlite3
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from indexing.base import Filters, IndexRecord, SearchQuery, highlight
from indexing.embedded import EmbeddedIndex


def record(i: int, terms: str, text: str, **fields: object) -> IndexRecord:
    defaults: dict[str, object] = {"source": "review", "created_at": datetime(2026, 9, 1 + i % 28, 10)}
    defaults.update(fields)
    return IndexRecord(id=f"d{i:03d}", text=text, terms=terms.split(), **defaults)  # type: ignore[arg-type]


@pytest.fixture
def index(tmp_path: Path) -> EmbeddedIndex:
    idx = EmbeddedIndex(tmp_path / "index.sqlite")
    idx.index([
        record(1, "快递 快递柜 超时 收费", "快递柜超时收费太坑了", sentiment="negative", sentiment_score=-0.8,
               industry="logistics", tags=["快递柜"]),
        record(2, "快递 很快 包装 好", "快递很快，包装好", sentiment="positive", sentiment_score=0.7,
               industry="logistics"),
        record(3, "客服 态度 差", "客服态度差", source="hotline", sentiment="negative", sentiment_score=-0.6,
               industry="telecom"),
        record(4, "宽带 断网 客服 没 回复", "宽带断网，客服没回复", source="hotline", sentiment="negative",
               sentiment_score=-0.9, industry="telecom", created_at=datetime(2026, 10, 8)),
        record(5, "物业费 贵", "物业费太贵", source="survey", sentiment="neutral", sentiment_score=0.0,
               industry="property", created_at=None),
    ])
    yield idx
    idx.close()


def ids(result: object) -> list[str]:
    return [hit.id for hit in result.hits]  # type: ignore[attr-defined]


def test_full_text_all_terms_must_match(index: EmbeddedIndex) -> None:
    assert sorted(ids(index.search(SearchQuery(terms=["快递"])))) == ["d001", "d002"]
    assert ids(index.search(SearchQuery(terms=["快递", "超时"]))) == ["d001"]
    assert index.search(SearchQuery(terms=["不存在"])).total == 0
    assert index.search(SearchQuery(terms=["!!"])).total == 0  # nothing searchable is not "everything"


def test_filters_and_facets(index: EmbeddedIndex) -> None:
    result = index.search(SearchQuery(terms=["客服"], filters=Filters(source=["hotline"])))
    assert result.total == 2
    assert result.facets["industry"] == {"telecom": 2}
    assert result.facets["sentiment"] == {"negative": 2}
    every = index.search(SearchQuery())
    assert every.total == 5
    assert every.facets["source"] == {"review": 2, "hotline": 2, "survey": 1}
    assert every.facets["tags"] == {"快递柜": 1}
    assert ids(index.search(SearchQuery(filters=Filters(tags=["快递柜"])))) == ["d001"]
    assert ids(index.search(SearchQuery(filters=Filters(since=datetime(2026, 10, 1))))) == ["d004"]
    negative = index.search(SearchQuery(filters=Filters(sentiment=["negative"], industry=["telecom"])))
    assert sorted(ids(negative)) == ["d003", "d004"]


def test_sorting_and_cursor_pagination_visit_everything_once(index: EmbeddedIndex) -> None:
    newest = ids(index.search(SearchQuery(sort="newest", limit=10)))
    assert newest[0] == "d004" and newest[-1] == "d005"  # undated documents sort last
    assert ids(index.search(SearchQuery(sort="most_negative", limit=2))) == ["d004", "d001"]
    seen: list[str] = []
    query = SearchQuery(sort="oldest", limit=2)
    while True:
        page = index.search(query)
        seen += ids(page)
        if not page.next_cursor:
            break
        query = SearchQuery(sort="oldest", limit=2, cursor=page.next_cursor)
    assert seen == ids(index.search(SearchQuery(sort="oldest", limit=10)))
    assert sorted(index.ids_for(SearchQuery(terms=["客服"]))) == ["d003", "d004"]


def test_highlight_marks_query_terms(index: EmbeddedIndex) -> None:
    hit = index.search(SearchQuery(terms=["快递柜"])).hits[0]
    assert hit.highlight == "<em>快递柜</em>超时收费太坑了"
    assert highlight("abc", ["x"]) is None


def test_upsert_tags_delete_and_histogram(index: EmbeddedIndex) -> None:
    index.index([record(3, "客服 态度 好", "客服态度好", source="hotline", sentiment="positive")])
    assert index.search(SearchQuery(terms=["差"])).total == 0  # old terms left the FTS index
    assert index.search(SearchQuery(terms=["好"])).total == 2
    assert index.set_tags("跟进", ["d003", "d004", "nope"], present=True) == 2
    assert index.count(SearchQuery(filters=Filters(tags=["跟进"]))) == 2
    assert index.set_tags("跟进", ["d003"], present=False) == 1
    assert index.get("d004")["tags"] == ["跟进"]
    assert index.delete(["d004", "nope"]) == 1
    assert index.get("d004") is None
    assert index.count() == 4
    days = index.date_histogram(SearchQuery(terms=["快递"]), "day")
    assert days == [("2026-09-02", 1), ("2026-09-03", 1)]
    weeks = index.date_histogram(SearchQuery(), "week")
    assert all(datetime.fromisoformat(day).weekday() == 0 for day, _ in weeks)
    index.clear()
    assert index.count() == 0 and index.search(SearchQuery(terms=["快递"])).total == 0


def test_cached_facets_follow_writes_from_this_and_other_connections(index: EmbeddedIndex, tmp_path: Path) -> None:
    query = SearchQuery(terms=["快递"])
    assert index.search(query).facets["industry"] == {"logistics": 2}
    index.index([record(7, "快递 丢了", "快递丢了", industry="retail")])
    assert index.search(query).facets["industry"] == {"logistics": 2, "retail": 1}  # own write seen
    other = EmbeddedIndex(tmp_path / "index.sqlite")
    other.delete(["d007"])
    other.close()
    result = index.search(query)  # another process's commit is seen too
    assert result.total == 2 and result.facets["industry"] == {"logistics": 2}
    result.facets["industry"]["tampered"] = 1
    assert "tampered" not in index.search(query).facets["industry"]  # callers get copies



def summary(index: EmbeddedIndex) -> list[object]:
    queries = [SearchQuery(), SearchQuery(terms=["快递"]), SearchQuery(filters=Filters(source=["hotline"])),
               SearchQuery(sort="newest", filters=Filters(since=datetime(2026, 9, 3))),
               SearchQuery(terms=["客服"], filters=Filters(tags=["快递柜"]))]
    return [(r.total, ids(r), r.facets) for r in map(index.search, queries)]


def test_a_file_from_before_doc_meta_is_upgraded_on_open(index: EmbeddedIndex, tmp_path: Path) -> None:
    expected = summary(index)
    index.close()
    conn = sqlite3.connect(tmp_path / "index.sqlite")  # back to the first layout: filters read docs
    conn.executescript("""DROP TRIGGER docs_meta_ai; DROP TRIGGER docs_meta_ad; DROP TABLE doc_meta;
                          CREATE INDEX docs_newest ON docs(coalesce(created_at, ''), id);""")
    conn.close()
    upgraded = EmbeddedIndex(tmp_path / "index.sqlite")
    try:
        assert summary(upgraded) == expected
        upgraded.index([record(9, "快递 慢", "快递慢", source="hotline")])  # the new triggers keep it in step
        assert upgraded.search(SearchQuery(terms=["快递"], filters=Filters(source=["hotline"]))).total == 1
        names = {row[0] for row in upgraded._conn.execute("SELECT name FROM sqlite_master")}
        assert "docs_newest" not in names and {"doc_meta", "docs_meta_ai", "docs_meta_ad"} <= names
    finally:
        upgraded.close()


def test_threads_read_while_another_writes(index: EmbeddedIndex) -> None:
    """Readers each get a connection of their own; every answer is consistent with some committed state."""
    failures: list[BaseException] = []
    totals: set[int] = set()

    def read() -> None:
        try:
            for _ in range(40):
                result = index.search(SearchQuery(terms=["快递"], facets=("industry",)))
                assert result.total == sum(result.facets["industry"].values())
                totals.add(result.total)
        except BaseException as error:
            failures.append(error)

    readers = [threading.Thread(target=read) for _ in range(6)]
    for thread in readers:
        thread.start()
    for n in range(20):
        index.index([record(100 + n, "快递 到 了", "快递到了", industry="retail")])
    for thread in readers:
        thread.join()
    assert not failures
    assert totals <= set(range(2, 23)) and index.search(SearchQuery(terms=["快递"])).total == 22


def test_facets_follow_appends_replacements_deletes_and_clears(tmp_path: Path) -> None:
    """The in-memory facet columns against a recount from the documents themselves, through a random
    history that includes replacing the newest row (SQLite may hand its rid to the replacement)."""
    rng = random.Random(3)
    index = EmbeddedIndex(tmp_path / "index.sqlite")
    live: dict[str, IndexRecord] = {}
    try:
        for step in range(60):
            action = rng.random()
            if action < 0.6 or not live:
                batch = [record(rng.randrange(80), "快递 评价", "快递评价", store=rng.choice(["甲", "乙", None]),
                                topic_id=rng.choice([1, 2, 10, None]), sentiment=rng.choice(["negative", "positive"]))
                         for _ in range(rng.randint(1, 4))]
                index.index(batch)
                live.update((r.id, r) for r in batch)
            elif action < 0.9:
                gone = rng.sample(sorted(live), k=min(len(live), rng.randint(1, 3)))
                index.delete(gone)
                for doc_id in gone:
                    live.pop(doc_id)
            elif step % 7 == 0:
                index.clear()
                live.clear()
            query = SearchQuery(terms=["快递"] if step % 2 else [], facets=("store", "topic", "sentiment"))
            result = index.search(query)
            assert result.total == len(live)
            for facet, field in (("store", "store"), ("topic", "topic_id"), ("sentiment", "sentiment")):
                expected = Counter(str(getattr(r, field)) for r in live.values() if getattr(r, field) is not None)
                assert result.facets[facet] == dict(expected), (step, facet)
    finally:
        index.close()
