"""GET /v1/search and the tag routes on the embedded backend (tests/test_es_api.py runs them on ES)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiEnv, api_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    with api_env(tmp_path / "home") as env:
        yield env


def search(env: ApiEnv, role: str = "researcher", **params: Any) -> dict[str, Any]:
    response = env.client.get("/v1/search", params=params, headers=env.headers(role))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def check_search_and_tags(env: ApiEnv) -> None:
    """The behaviour both backends must show (shared with the Elasticsearch test)."""
    found = search(env, q="快递")
    assert found["total"] == 3
    assert all("<em>快递</em>" in hit["highlight"] for hit in found["hits"])
    assert found["facets"]["store"] == {"北京店": 2, "上海店": 1}
    assert found["facets"]["sentiment"]["negative"] >= 2
    filtered = search(env, q="快递", store=["北京店"], since="2026-03-02", until="2026-03-03")
    assert [hit["created_at"][:10] for hit in filtered["hits"]] == ["2026-03-03"]
    assert search(env, industry=["food", "logistics"], sort="oldest")["total"] == 3
    assert search(env, q="快递", facets=["none"])["facets"] == {}

    first = search(env, sort="newest", limit=2)
    second = search(env, sort="newest", limit=2, cursor=first["next_cursor"])
    paged = search(env, sort="newest", limit=2, page=2)
    assert [h["id"] for h in second["hits"]] == [h["id"] for h in paged["hits"]]
    assert {h["id"] for h in first["hits"]}.isdisjoint(h["id"] for h in second["hits"])
    assert paged["page"] == 2

    ids = [hit["id"] for hit in found["hits"]]
    tag = env.client.post("/v1/tags/apply", json={"tag": "物流问题", "ids": ids[:2]}, headers=env.headers("researcher"))
    assert tag.json() == {"tag": "物流问题", "changed": 2}
    bulk = env.client.post("/v1/tags/apply", json={"tag": "北京", "query": {"store": ["北京店"]}},
                           headers=env.headers("designer"))
    assert bulk.json()["changed"] == 2
    assert search(env, tag=["物流问题"])["total"] == 2
    assert search(env, tag=["北京"], q="外卖")["total"] == 1
    counts = env.client.get("/v1/tags", headers=env.headers("service")).json()["tags"]
    assert counts == [{"tag": "北京", "count": 2}, {"tag": "物流问题", "count": 2}]
    removed = env.client.post("/v1/tags/remove", json={"tag": "北京", "query": {"q": "外卖"}},
                              headers=env.headers("researcher"))
    assert removed.json()["changed"] == 1
    assert search(env, tag=["北京"])["total"] == 1
    doc = env.client.get(f"/v1/documents/{ids[0]}", headers=env.headers("researcher")).json()
    assert "物流问题" in doc["tags"]


def test_search_and_tags(env: ApiEnv) -> None:
    check_search_and_tags(env)


@pytest.mark.parametrize(("params", "field"), [
    ({"sort": "random"}, "query.sort"),
    ({"limit": 0}, "query.limit"),
    ({"since": "yesterday"}, "query.since"),
    ({"source": "email"}, "query.source.0"),
    ({"cursor": "not-a-cursor"}, "query.cursor"),
    ({"page": 2, "cursor": "WzEsMl0"}, "query.page"),
    ({"page": 200, "limit": 100}, "query.page"),
    ({"facets": "colour"}, "query.facets.0"),
    ({"topic": 2**40}, "query.topic.0"),
    ({"sauce": "x"}, "query.sauce"),
])
def test_bad_search_parameters_name_the_field(env: ApiEnv, params: dict[str, Any], field: str) -> None:
    response = env.client.get("/v1/search", params=params, headers=env.headers("researcher"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"][0]["field"] == field


@pytest.mark.parametrize(("body", "field"), [
    ({"tag": "x"}, "body"),
    ({"tag": "x", "ids": ["a"], "query": {"q": "快递"}}, "body"),
    ({"tag": "  ", "ids": ["a"]}, "body.tag"),
    ({"tag": "a\u0000b", "ids": ["a"]}, "body.tag"),
    ({"tag": "x", "query": {}}, "body.query"),
    ({"tag": "x", "query": {"stores": ["北京店"]}}, "body.query.stores"),
])
def test_bad_tag_requests_name_the_field(env: ApiEnv, body: dict[str, Any], field: str) -> None:
    response = env.client.post("/v1/tags/apply", json=body, headers=env.headers("researcher"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field


def test_tagging_unknown_ids_changes_nothing(env: ApiEnv) -> None:
    response = env.client.post("/v1/tags/apply", json={"tag": "x", "ids": ["nope"]}, headers=env.headers("admin"))
    assert response.json() == {"tag": "x", "changed": 0}
