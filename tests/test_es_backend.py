"""Elasticsearch-only behaviour on a real node: versioned reindex behind the alias, strict mapping,
shards, deep offsets, per-document errors, authentication. Skipped only when no node answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from indexing.base import Filters, IndexRecord, SearchQuery
from indexing.es_bulk import Connection, EsUnavailable
from indexing.es_testing import node_connection, unique_prefix

connection, why_not = node_connection()
pytestmark = pytest.mark.skipif(connection is None, reason=why_not)

if connection is not None:
    from indexing import elasticsearch as es_module
    from indexing.elasticsearch import ElasticsearchIndex


def records(n: int, word: str = "旧版", start: int = 0) -> list[IndexRecord]:
    return [IndexRecord(id=f"x{i:05d}", text=f"{word}评论{i}", terms=[word, "评论", f"t{i % 7}"], source="review",
                        created_at=datetime(2026, 1 + i % 12, 1 + i % 28), sentiment_score=(i % 11 - 5) / 5,
                        topic_id=i % 4, tags=["甲"] if i % 3 == 0 else [])
            for i in range(start, start + n)]


@pytest.fixture
def backend() -> Iterator[ElasticsearchIndex]:
    assert connection is not None
    index = ElasticsearchIndex(connection, unique_prefix())
    yield index
    index.drop()
    index.close()


def test_reindex_builds_a_new_version_while_search_keeps_answering(backend: ElasticsearchIndex) -> None:
    backend.index(records(200))
    first = backend.current_index()
    reader = ElasticsearchIndex(backend.connection, backend.alias.removesuffix("-documents"))  # another client
    seen_during: list[tuple[int, int]] = []

    def batches() -> Iterator[list[IndexRecord]]:
        for part in range(5):
            # Between batches the reader still gets complete answers from the old version.
            seen_during.append((reader.count(), reader.search(SearchQuery(terms=["新版"])).total))
            yield records(100, "新版", start=part * 100)

    report = backend.reindex(batches())
    assert report.indexed == 500 and not report.errors
    assert seen_during == [(200, 0)] * 5
    assert backend.current_index() != first and first not in backend._versions()  # old version deleted
    assert reader.count() == 500 and reader.search(SearchQuery(terms=["旧版"])).total == 0
    settings = backend.client.indices.get_settings(index=backend.current_index())
    index_settings = next(iter(settings.values()))["settings"]["index"]
    assert index_settings["refresh_interval"] == "1s" and index_settings["number_of_replicas"] == "0"
    reader.close()


def test_a_failed_reindex_leaves_the_live_version_alone(backend: ElasticsearchIndex) -> None:
    backend.index(records(50))
    live = backend.current_index()

    def broken() -> Iterator[list[IndexRecord]]:
        yield records(10, "新版")
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError, match="store went away"):
        backend.reindex(broken())
    assert backend._versions() == {live: True} and backend.count() == 50
    # A version orphaned by a killed run is cleaned up by the next reindex.
    orphan = f"{backend.alias}-v9"
    backend.client.indices.create(index=orphan)
    backend.reindex([records(5)])
    assert list(backend._versions().values()) == [True] and orphan not in backend._versions()
    assert backend.current_index() not in (live, orphan) and backend.count() == 5


def test_mapping_is_strict(backend: ElasticsearchIndex) -> None:
    mapping = backend.client.indices.get_mapping(index=backend.alias)
    properties = next(iter(mapping.values()))["mappings"]
    assert properties["dynamic"] == "strict"
    assert properties["properties"]["terms"]["analyzer"] == "whitespace"
    assert properties["properties"]["aspects"]["type"] == "nested"
    with pytest.raises(Exception, match="strict_dynamic_mapping_exception"):
        backend.client.index(index=backend.alias, id="odd", document={"id": "odd", "colour": "red"})


def test_bad_documents_are_reported_one_by_one(backend: ElasticsearchIndex) -> None:
    good, bad = records(3)[:2], records(3)[2]
    bad.topic_id = 2**40  # beyond the integer field
    report = backend.index([*good, bad])
    assert report.indexed == 2 and list(report.errors) == [bad.id]
    assert "topic_id" in report.errors[bad.id] and backend.count() == 2


def test_several_shards_answer_the_same(backend: ElasticsearchIndex) -> None:
    assert connection is not None
    sharded = ElasticsearchIndex(connection, unique_prefix(), shards=3)
    try:
        docs = records(300)
        backend.index(docs)
        sharded.index(docs)
        query = SearchQuery(terms=["评论"], filters=Filters(topic=[1, 2]), sort="most_negative", limit=40)
        one, three = backend.search(query), sharded.search(query)
        assert [h.id for h in one.hits] == [h.id for h in three.hits] and one.facets == three.facets
        assert backend.date_histogram(query, "month") == sharded.date_histogram(query, "month")
    finally:
        sharded.drop()
        sharded.close()


def test_offsets_beyond_the_result_window_walk_with_search_after(backend: ElasticsearchIndex,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    backend.index(records(60))
    whole = [h.id for h in backend.search(SearchQuery(sort="oldest", limit=60)).hits]
    monkeypatch.setattr(es_module, "MAX_WINDOW", 7)  # pretend the window is tiny
    page = backend.search(SearchQuery(sort="oldest", limit=5, offset=23))
    assert [h.id for h in page.hits] == whole[23:28] and page.total == 60


def test_wrong_password_is_refused_without_echoing_it(backend: ElasticsearchIndex) -> None:
    assert connection is not None
    if not (connection.username or connection.api_key):
        pytest.skip("the node under test has no security enabled")
    wrong = Connection(url=connection.url, username="elastic", password="not-the-password-123")
    with pytest.raises(EsUnavailable) as raised:
        ElasticsearchIndex(wrong, unique_prefix())
    assert "rejected the credentials" in str(raised.value) and "not-the-password-123" not in str(raised.value)


def test_api_key_authentication(backend: ElasticsearchIndex) -> None:
    if not (connection and connection.username):
        pytest.skip("needs basic-auth credentials to create an API key")
    try:
        key = backend.client.security.create_api_key(name="voc-test", expiration="1h")
    except Exception as exc:  # any refusal means this node cannot issue keys
        # The integ-test distribution cannot create the .security index (its mapping needs
        # analysis-common), so only the reserved `elastic` user works there; API keys need a full node.
        pytest.skip(f"this node cannot issue API keys: {type(exc).__name__}")
    keyed = ElasticsearchIndex(Connection(url=connection.url, api_key=key["encoded"]),
                               backend.alias.removesuffix("-documents"))
    try:
        backend.index(records(4))
        assert keyed.count() == 4
    finally:
        keyed.close()
        backend.client.security.invalidate_api_key(ids=[key["id"]])
