"""GET /v1/topics, /v1/topics/{id}, /v1/topics/emerging and POST /v1/topics/build on the demo corpus."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiEnv, api_env, ingest_demo, wait_job


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("topics") / "home", corpus=False) as env:
        yield env


@pytest.fixture(scope="module")
def built(env: ApiEnv) -> dict[str, Any]:
    """The demo corpus, clustered through the API; the job's final state."""
    documents = ingest_demo(env)
    assert env.client.get("/v1/topics", headers=env.headers("researcher")).json() == {"topics": []}
    job = wait_job(env, env.client.post("/v1/topics/build", headers=env.headers("admin")))
    return {"documents": documents, "job": job}


def _topics(env: ApiEnv) -> list[dict[str, Any]]:
    response = env.client.get("/v1/topics", headers=env.headers("researcher"))
    assert response.status_code == 200, response.text
    return response.json()["topics"]  # type: ignore[no-any-return]


def test_build_job_reports_the_clustering(env: ApiEnv, built: dict[str, Any]) -> None:
    job = built["job"]
    assert job["kind"] == "topics.build" and job["status"] == "succeeded", job
    assert job["progress"] == job["total"], job  # every step the model reports is counted, no more
    result = job["result"]
    assert result["n_topics"] >= 10 and 0 < result["n_documents"] <= built["documents"]
    assert result["outlier_share"] <= 0.15 and result["indexed"] > 0
    assert len(_topics(env)) == result["n_topics"]


def test_list_has_real_topics(env: ApiEnv, built: dict[str, Any]) -> None:
    topics = _topics(env)
    assert set(topics[0]) == {"id", "label", "keywords", "size", "negative_share", "quotes"}
    sizes = [topic["size"] for topic in topics]
    assert sizes == sorted(sizes, reverse=True) and all(size > 0 for size in sizes)
    assert sum(sizes) <= built["documents"]
    assert len({topic["id"] for topic in topics}) == len(topics)
    for topic in topics:
        assert topic["label"] and topic["keywords"] and topic["quotes"]
        assert 0.0 <= topic["negative_share"] <= 1.0


def test_search_by_topic_finds_the_topics_documents(env: ApiEnv, built: dict[str, Any]) -> None:
    topic = _topics(env)[0]
    found = env.client.get("/v1/search", params={"topic": topic["id"], "limit": 1, "facets": "none"},
                           headers=env.headers("researcher")).json()
    assert found["total"] == topic["size"]


@pytest.mark.parametrize("interval", ["day", "week"])
def test_one_topic_with_its_trend(env: ApiEnv, built: dict[str, Any], interval: str) -> None:
    summary = _topics(env)[0]
    response = env.client.get(f"/v1/topics/{summary['id']}", params={"interval": interval},
                              headers=env.headers("service"))
    assert response.status_code == 200, response.text
    topic = response.json()
    assert {key: topic[key] for key in summary} == summary and topic["status"] == "active"
    periods = [date.fromisoformat(point["period"]) for point in topic["trend"]]
    step = timedelta(days=1 if interval == "day" else 7)
    assert len(periods) > 2 and all(b - a == step for a, b in pairwise(periods))
    if interval == "week":
        assert all(day.weekday() == 0 for day in periods)
    counts = [point["count"] for point in topic["trend"]]
    assert 0 < sum(counts) <= summary["size"]
    for point in topic["trend"]:
        assert 0 <= point["negative"] <= point["count"]
        assert (point["negative_share"] is None) == (point["count"] == 0)


def test_unknown_topic_and_bad_interval(env: ApiEnv, built: dict[str, Any]) -> None:
    missing = env.client.get("/v1/topics/987654", headers=env.headers("researcher"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad = env.client.get(f"/v1/topics/{_topics(env)[0]['id']}", params={"interval": "month"},
                         headers=env.headers("researcher"))
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.interval"


def test_emerging_finds_the_planted_parcel_locker_issue(env: ApiEnv, built: dict[str, Any]) -> None:
    response = env.client.get("/v1/topics/emerging", params={"baseline": 8}, headers=env.headers("designer"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["interval"] == "week" and body["emerging"]
    by_id = {topic["id"]: topic for topic in _topics(env)}
    for item in body["emerging"]:
        assert item["label"] == by_id[item["topic_id"]]["label"] and item["reasons"]
    assert any("快递柜" in " ".join(by_id[item["topic_id"]]["keywords"]) for item in body["emerging"])
    p_values = [item["p_value"] for item in body["emerging"]]
    assert p_values == sorted(p_values)


def test_emerging_as_of_a_day(env: ApiEnv, built: dict[str, Any]) -> None:
    before = env.client.get("/v1/topics/emerging", params={"at": "2000-01-01"}, headers=env.headers("researcher"))
    assert before.status_code == 200 and before.json()["emerging"] == []
    daily = env.client.get("/v1/topics/emerging", params={"interval": "day", "at": "2026-11-15", "baseline": 14},
                           headers=env.headers("researcher")).json()
    for item in daily["emerging"]:
        assert item["period"] == {"start": "2026-11-14T00:00:00", "end": "2026-11-15T00:00:00"}
    bad = env.client.get("/v1/topics/emerging", params={"at": "yesterday"}, headers=env.headers("researcher"))
    assert bad.status_code == 422


def test_a_build_with_nothing_in_scope_fails_as_a_job(env: ApiEnv, built: dict[str, Any], tmp_path: Path) -> None:
    ids = [topic["id"] for topic in _topics(env)]
    job = wait_job(env, env.client.post("/v1/topics/build", json={"since": "2100-01-01"},
                                        headers=env.headers("admin")))
    assert job["status"] == "failed" and "no documents in scope" in job["error"]
    assert [topic["id"] for topic in _topics(env)] == ids  # the last good build stays
    bad = env.client.post("/v1/topics/build", json={"source": "tweets"}, headers=env.headers("admin"))
    assert bad.status_code == 422
    assert env.client.post("/v1/topics/build", headers=env.headers("designer")).status_code == 403
