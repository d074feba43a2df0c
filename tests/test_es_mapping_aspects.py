"""The aspects mapping: term, its offsets and confidence are mapped; an index created with the older
mapping gets the new fields in place when the backend opens it (its mapping is strict); aspects sent to
the index are cut to the mapped fields. The node test is skipped only when no node answers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from indexing.base import IndexRecord
from indexing.es_mapping import ASPECT_FIELDS, MAPPING, es_aspects, missing_properties, to_source

ANALYSED = {"aspect": "物流配送", "polarity": "negative", "opinion": "太慢了", "start": 2, "end": 5, "score": -0.9,
            "term": "快递", "term_start": 0, "term_end": 2, "confidence": 0.97}


def old_mapping() -> dict[str, Any]:
    """MAPPING as releases before the span tagger created it."""
    old = copy.deepcopy(MAPPING)
    for name in ("term", "term_start", "term_end", "confidence"):
        del old["properties"]["aspects"]["properties"][name]
    return old


def test_aspects_map_term_offsets_and_confidence() -> None:
    aspects = MAPPING["properties"]["aspects"]
    assert aspects["type"] == "nested"
    assert aspects["properties"]["term"] == {"type": "keyword"}
    assert aspects["properties"]["confidence"]["type"] == "float"
    assert aspects["properties"]["term_start"]["type"] == aspects["properties"]["term_end"]["type"] == "integer"


def test_missing_properties_names_only_the_new_nested_fields() -> None:
    assert missing_properties(MAPPING) == {}
    body = missing_properties(old_mapping())
    assert body == {"properties": {"aspects": {"type": "nested", "properties": {
        name: MAPPING["properties"]["aspects"]["properties"][name]
        for name in ("term", "term_start", "term_end", "confidence")}}}}
    without_tags = copy.deepcopy(MAPPING)
    del without_tags["properties"]["tags"]
    assert missing_properties(without_tags) == {"properties": {"tags": {"type": "keyword"}}}


def test_aspects_sent_to_the_index_keep_only_mapped_fields() -> None:
    assert es_aspects(None) is None
    assert es_aspects([ANALYSED]) == [{key: ANALYSED[key] for key in ASPECT_FIELDS if key in ANALYSED}]
    assert "opinion" not in es_aspects([ANALYSED])[0]  # type: ignore[index]
    record = IndexRecord(id="d1", text="快递太慢了", terms=["快递", "太慢"], source="review")
    assert "aspects" not in to_source(record)


def test_an_index_with_the_old_mapping_accepts_the_new_fields() -> None:
    from indexing.es_testing import node_connection, unique_prefix

    connection, why_not = node_connection()
    if connection is None:
        pytest.skip(why_not)
    from indexing.elasticsearch import ElasticsearchIndex

    prefix = unique_prefix()
    client = connection.client()
    alias = f"{prefix}-documents"
    client.indices.create(index=f"{alias}-v1", mappings=old_mapping(), aliases={alias: {"is_write_index": True}})
    backend = ElasticsearchIndex(connection, prefix)
    try:
        live = client.indices.get_mapping(index=alias)[f"{alias}-v1"]["mappings"]
        assert missing_properties(live) == {}
        doc = {"id": "d1", "text": "快递太慢了", "source": "review", "aspects": es_aspects([ANALYSED])}
        client.index(index=alias, id="d1", document=doc, refresh=True)
        found = client.search(index=alias, query={"nested": {"path": "aspects", "query": {
            "term": {"aspects.term": "快递"}}}})
        assert found["hits"]["total"]["value"] == 1
    finally:
        backend.drop()
        backend.close()
        client.close()
