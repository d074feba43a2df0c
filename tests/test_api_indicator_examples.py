"""POST/DELETE /v1/indicators/examples: learning indicators from an uploaded file of labelled examples."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from api_support import ApiEnv, api_env, ingest_demo, wait_job

TREE = {"name": "商场", "indicators": [
    {"id": "parking", "name": "停车", "keywords": ["停车场"]},
    {"id": "service", "name": "服务", "keywords": ["服务", "态度"]},
]}
PARKING = [f"{where}车位{what}" for where in ("门口", "地下", "商场", "小区", "路边")
           for what in ("太难找了", "总是被占", "收费太贵", "不够用")]


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("examples") / "home", corpus=False) as env:
        ingest_demo(env)  # stored feedback: the negatives of a file that labels one indicator only
        yield env


def test_examples_need_a_tree_and_the_review_role(env: ApiEnv) -> None:
    body = {"file": ("examples.csv", _csv([["text", "indicator"], ["车位太少", "停车"]]))}
    denied = env.client.post("/v1/indicators/examples", files=body, headers=env.headers("researcher"))
    assert denied.status_code == 403
    job = wait_job(env, env.client.post("/v1/indicators/examples", files=body, headers=env.headers("designer")),
                   role="designer")
    assert job["status"] == "failed" and "indicator" in job["error"].lower()
    assert env.client.delete("/v1/indicators/examples", headers=env.headers("designer")).status_code in (200, 404)


def test_learn_then_forget(env: ApiEnv) -> None:
    assert env.client.put("/v1/indicators", json=TREE, headers=env.headers("admin")).status_code == 200
    rows = [["文本", "指标"], *[[t, "停车"] for t in PARKING], ["客服电话13800138000打不通", "没有这个指标"]]
    response = env.client.post("/v1/indicators/examples", files={"file": ("样例.csv", _csv(rows))},
                               headers=env.headers("designer"))
    job = wait_job(env, response, role="designer")
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["learned"] == {"parking": len(PARKING)} and result["rejected"] == 1
    assert result["rejected_rows"] == [{"row": 22, "reason": "not an active indicator of the tree: 没有这个指标"}]
    assert result["background"] > 100
    assert "13800138000" not in str(job)
    bad = env.client.post("/v1/indicators/examples", files={"file": ("样例.csv", _csv(rows))},
                          data={"text_col": "nope"}, headers=env.headers("designer"))
    failed = wait_job(env, bad, role="designer")
    assert failed["status"] == "failed" and "nope" in failed["error"]
    first = env.client.delete("/v1/indicators/examples", headers=env.headers("designer"))
    assert first.status_code == 200 and first.json() == {"forgotten": True}
    assert env.client.delete("/v1/indicators/examples", headers=env.headers("designer")).json() == {"forgotten": False}
