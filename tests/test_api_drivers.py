"""GET /v1/drivers: shape, a planted cost found through ingest and indicator mapping, filters, plain words
where there is no figure, and 4xx for bad values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import ApiEnv, api_env

TREE = {"name": "体验", "indicators": [{"id": "d", "name": "配送", "keywords": ["配送"]},
                                     {"id": "s", "name": "店员", "keywords": ["店员"]}]}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("drivers") / "home", corpus=False) as env:
        surveys = [{"id": f"slow{i}", "text": f"配送太慢了，等了{i + 2}天才到", "score": i % 4, "store": "北京店",
                    "time": "2026-03-01"} for i in range(30)]
        surveys += [{"id": f"kind{i}", "text": f"店员很热情，第{i + 1}次来了", "score": 9 + i % 2, "store": "上海店",
                     "time": "2026-04-01"} for i in range(30)]
        surveys += [{"id": f"mid{i}", "text": f"还可以吧，第{i + 1}次", "score": 7 + i % 3, "store": "上海店",
                     "time": "2026-04-02"} for i in range(20)]
        env.ingest(surveys, source="survey")
        env.ingest([{"id": f"call{i}", "text": f"客户：快递太慢了，第{i}次打电话"} for i in range(5)], source="hotline")
        response = env.client.put("/v1/indicators", json=TREE, headers=env.headers("designer"))
        assert response.status_code == 200, response.text
        yield env


def get(env: ApiEnv, **params: object) -> dict[str, object]:
    response = env.client.get("/v1/drivers", params=params, headers=env.headers("researcher"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_planted_cost_by_indicator(env: ApiEnv) -> None:
    body = get(env, by="indicator", resamples=200)
    assert body["status"] == "ok" and body["metric"] == "nps" and body["by"] == "indicator"
    overall = body["overall"]
    assert overall["n"] == 80 and overall["low"] <= overall["value"] <= overall["high"]
    drivers = {d["label"]: d for d in body["drivers"]}
    slow, staff = drivers["配送"], drivers["店员"]
    assert slow["volume"] == 30 and slow["metric_with"] == -100.0 and slow["high"] < 0
    assert staff["metric_with"] == 100.0 and staff["low"] > 0
    assert body["drivers"][0]["label"] == "配送"  # the largest effect first
    assert body["key_drivers"]["status"] == "ok" and body["key_drivers"]["themes"]
    assert body["population"]["by_source"]["hotline"] == {"documents": 5, "with_metric": 0}
    assert any("hotline calls carry neither" in note for note in body["notes"])


def test_filters_and_words_restrict_the_population(env: ApiEnv) -> None:
    assert get(env, store="上海店", by="indicator", resamples=50)["population"]["documents"] == 50
    assert get(env, since="2026-04-02", by="indicator", resamples=50)["population"]["documents"] == 20
    worded = get(env, q="热情", by="indicator", resamples=50)
    assert worded["population"]["documents"] == 30 and worded["overall"]["value"] == 100.0
    nothing = get(env, q="没有这个词组合", resamples=50)
    assert nothing["population"]["documents"] == 0 and nothing["message"] == "no documents match these filters"


def test_no_figure_is_said_in_words(env: ApiEnv) -> None:
    calls = get(env, source="hotline")
    assert calls["status"] == "no_metric" and calls["overall"] is None and "hotline" in calls["message"]
    few = get(env, store="北京店", min_responses=50)
    assert few["status"] == "not_enough_data" and few["overall"] is None
    assert few["message"].startswith("not enough data")
    no_topics = get(env, resamples=50)  # topics never built here
    assert no_topics["drivers"] == [] and any("voc topics build" in note for note in no_topics["notes"])


@pytest.mark.parametrize("params", [{"metric": "csat"}, {"by": "store"}, {"score_min": 11}, {"resamples": 1},
                                    {"bogus": "1"}])
def test_bad_values_are_4xx(env: ApiEnv, params: dict[str, object]) -> None:
    response = env.client.get("/v1/drivers", params=params, headers=env.headers("researcher"))
    assert response.status_code == 422, response.text
    assert "detail" in response.json() or "error" in response.json()


def test_by_indicator_without_a_system_is_404(tmp_path: Path) -> None:
    with api_env(tmp_path / "home") as bare:
        response = bare.client.get("/v1/drivers", params={"by": "indicator"}, headers=bare.headers("researcher"))
    assert response.status_code == 404 and "no indicator system" in response.text
