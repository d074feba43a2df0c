"""The indicator routes (tree, import, coverage, versions, diff) and suggestions (list, refresh, review) on
the demo corpus with a shipped template. Tests run in order: each builds on the versions before it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import ApiEnv, api_env, ingest_demo, wait_job

from voc.indicators.io import dump_tree, read_tree
from voc.indicators.service import template_dir

TEMPLATE = template_dir() / "ecommerce_logistics.yaml"
GROUPS_TREE = {"name": "试用体系", "groups": [
    {"id": "svc", "name": "服务", "indicators": [{"id": "svc.attitude", "name": "服务态度", "keywords": ["态度"]}]},
    {"id": "price", "name": "价格", "keywords": ["价格", "收费"]},
]}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("indicators") / "home", corpus=False) as env:
        env.documents = ingest_demo(env)  # type: ignore[attr-defined]
        yield env


def _get(env: ApiEnv, path: str, role: str = "researcher", **params: Any) -> Any:
    response = env.client.get(path, params=params, headers=env.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def _ids(nodes: list[dict[str, Any]]) -> set[str]:
    return {node["id"] for node in nodes} | {i for node in nodes for i in _ids(node.get("children", []))}


def _who(env: ApiEnv, role: str) -> str:
    key = env.app.state.voc_api.keys.verify(env.keys[role])
    return f"test {role} ({key.id})"


def test_before_any_import(env: ApiEnv) -> None:
    for path in ("/v1/indicators", "/v1/indicators/coverage", "/v1/indicators/diff?old=1"):
        response = env.client.get(path, headers=env.headers("researcher"))
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path
    assert _get(env, "/v1/indicators/versions") == {"versions": []}
    assert env.client.post("/v1/suggestions/refresh", headers=env.headers("designer")).status_code == 404


def test_import_json_then_a_template_file(env: ApiEnv) -> None:
    first = env.client.put("/v1/indicators", json=GROUPS_TREE, params={"note": "试用"}, headers=env.headers("admin"))
    assert first.status_code == 200, first.text
    assert first.json() == {"version": 1, "name": "试用体系", "nodes": 3, "indicators": 1}
    second = env.client.put("/v1/indicators", headers=env.headers("designer"),
                            files={"file": ("物流.yaml", TEMPLATE.read_bytes())})
    assert second.status_code == 200, second.text
    expected = read_tree(TEMPLATE)
    assert second.json()["version"] == 2 and second.json()["name"] == expected.name
    tree = _get(env, "/v1/indicators", "service")
    assert tree["version"] == 2 and _ids(tree["indicators"]) == expected.ids()
    assert tree["nodes"] == len(expected.ids()) == second.json()["nodes"]
    assert _get(env, "/v1/indicators", version=1)["name"] == "试用体系"
    versions = _get(env, "/v1/indicators/versions")["versions"]
    assert [(v["version"], v["author"], v["note"]) for v in versions] == [
        (1, _who(env, "admin"), "试用"), (2, _who(env, "designer"), "")]
    diff = _get(env, "/v1/indicators/diff", old=1, new=2)
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    assert {n["id"] for n in diff["removed"]} == {"svc", "svc.attitude", "price"}
    assert {n["id"] for n in diff["added"]} == expected.ids()


def test_xlsx_round_trip_is_a_version_without_changes(env: ApiEnv) -> None:
    data = dump_tree(read_tree(TEMPLATE), "xlsx")
    response = env.client.put("/v1/indicators", headers=env.headers("designer"), params={"note": "xlsx"},
                              files={"file": ("tree.xlsx", data)})
    assert response.status_code == 200, response.text
    diff = _get(env, "/v1/indicators/diff", old=2)
    assert diff["to_version"] == 3 and diff["added"] == diff["removed"] == diff["changed"] == []


def test_bad_trees_store_nothing(env: ApiEnv) -> None:
    headers = env.headers("designer")
    bad_json = env.client.put("/v1/indicators", json={"indicators": [{"id": "x"}]}, headers=headers)
    assert bad_json.status_code == 422 and bad_json.json()["error"]["code"] == "invalid_tree"
    bad_yaml = env.client.put("/v1/indicators", headers=headers, files={"file": ("坏.yaml", b"indicators: [\n")})
    error = bad_yaml.json()["error"]
    assert bad_yaml.status_code == 400 and error["code"] == "invalid_file"
    assert "坏.yaml" in error["message"] and "uploads" not in error["message"]
    unknown = env.client.put("/v1/indicators", headers=headers, files={"file": ("tree.txt", b"x")})
    assert unknown.status_code == 400 and "format" in unknown.json()["error"]["message"]
    plain = env.client.put("/v1/indicators", content=b"name: x", headers={**headers, "Content-Type": "text/yaml"})
    assert plain.status_code == 415
    no_file = env.client.put("/v1/indicators", headers=headers, data={"note": "x"}, files={"other": ("a", b"b")})
    assert no_file.status_code == 422
    assert env.client.put("/v1/indicators", json=GROUPS_TREE, headers=env.headers("researcher")).status_code == 403
    assert len(_get(env, "/v1/indicators/versions")["versions"]) == 3


def test_coverage_on_the_demo_corpus(env: ApiEnv) -> None:
    report = _get(env, "/v1/indicators/coverage", "service")
    total = env.documents  # type: ignore[attr-defined]
    # near-duplicates are not evidence of their own
    assert report["version"] == 3 and 0.9 * total < report["documents"] <= total
    assert 0 < report["mapped_documents"] < report["documents"]
    assert report["mapped_documents"] + report["unmapped_documents"] == report["documents"]
    rows = {row["id"]: row for row in report["indicators"]}
    assert set(rows) == read_tree(TEMPLATE).ids()
    assert report["no_evidence"] == [i for i, row in rows.items() if row["mentions"] == 0]
    delivery = rows["delivery"]
    assert delivery["kind"] == "group" and delivery["mentions"] >= rows["delivery.speed"]["mentions"] > 0
    assert delivery["positive"] + delivery["negative"] + delivery["neutral"] == delivery["mentions"]
    assert rows["delivery.speed"]["parent"] == "delivery" and rows["delivery.speed"]["top_quotes"]


@pytest.fixture(scope="module")
def pending(env: ApiEnv) -> list[dict[str, Any]]:
    job = wait_job(env, env.client.post("/v1/suggestions/refresh", headers=env.headers("designer")), "designer")
    assert job["status"] == "succeeded" and job["result"]["pending"] > 3, job
    items = _get(env, "/v1/suggestions", status="pending")["suggestions"]
    assert len(items) == job["result"]["pending"]
    return items  # type: ignore[no-any-return]


def test_suggestions_carry_evidence(env: ApiEnv, pending: list[dict[str, Any]]) -> None:
    priorities = [item["priority"] for item in pending]
    assert priorities == sorted(priorities, reverse=True)
    for item in pending:
        assert item["status"] == "pending" and item["reviewer"] is None and item["keywords"]
        assert item["evidence"]["count"] == len(item["evidence"]["document_ids"]) >= 5
    one = _get(env, f"/v1/suggestions/{pending[0]['id']}")
    assert one["name"] == pending[0]["name"]
    assert env.client.get("/v1/suggestions/s-nope", headers=env.headers("researcher")).status_code == 404
    assert _get(env, "/v1/suggestions", status="rejected") == {"suggestions": []}


def test_accept_makes_a_new_version(env: ApiEnv, pending: list[dict[str, Any]]) -> None:
    item = pending[0]
    denied = env.client.post(f"/v1/suggestions/{item['id']}/review", json={"action": "accept"},
                             headers=env.headers("researcher"))
    assert denied.status_code == 403
    before = _get(env, "/v1/indicators")["version"]
    response = env.client.post(f"/v1/suggestions/{item['id']}/review", json={"action": "accept", "name": "新指标"},
                               headers=env.headers("designer"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "accepted" and result["reviewer"] == _who(env, "designer")
    assert result["version"] == before + 1 and result["indicator"]["name"] == "新指标"
    tree = _get(env, "/v1/indicators")
    assert tree["version"] == result["version"] and result["indicator"]["id"] in _ids(tree["indicators"])
    diff = _get(env, "/v1/indicators/diff", old=before)
    assert [node["id"] for node in diff["added"]] == [result["indicator"]["id"]]
    again = env.client.post(f"/v1/suggestions/{item['id']}/review", json={"action": "reject", "reason": "x"},
                            headers=env.headers("admin"))
    assert again.status_code == 409 and again.json()["error"]["details"]["status"] == "accepted"


def test_reject_needs_and_keeps_a_reason(env: ApiEnv, pending: list[dict[str, Any]]) -> None:
    item = pending[1]
    url = f"/v1/suggestions/{item['id']}/review"
    missing = env.client.post(url, json={"action": "reject", "reason": "  "}, headers=env.headers("designer"))
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "validation_error"
    response = env.client.post(url, json={"action": "reject", "reason": "与现有指标重复"},
                               headers=env.headers("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["version"] == _get(env, "/v1/indicators")["version"]  # no new version
    stored = _get(env, f"/v1/suggestions/{item['id']}")
    assert (stored["status"], stored["reason"]) == ("rejected", "与现有指标重复")
    assert stored["reviewer"] == _who(env, "admin")
    assert [s["id"] for s in _get(env, "/v1/suggestions", status="rejected")["suggestions"]] == [item["id"]]


def test_merge_adds_keywords_to_the_target(env: ApiEnv, pending: list[dict[str, Any]]) -> None:
    item = pending[2]
    url = f"/v1/suggestions/{item['id']}/review"
    unknown = env.client.post(url, json={"action": "merge", "target": "nope"}, headers=env.headers("designer"))
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_review"
    response = env.client.post(url, json={"action": "merge", "target": "support"}, headers=env.headers("designer"))
    assert response.status_code == 200, response.text
    added = response.json()["keywords_added"]
    tree = _get(env, "/v1/indicators", version=response.json()["version"])
    support = next(node for node in tree["indicators"] if node["id"] == "support")
    assert added and set(added) <= set(support["keywords"])
    missing = env.client.post("/v1/suggestions/s-nope/review", json={"action": "accept"},
                              headers=env.headers("designer"))
    assert missing.status_code == 404


def test_export_reads_back_as_the_same_tree_and_imports_are_audited(env: ApiEnv) -> None:
    for fmt in ("yaml", "json", "xlsx"):
        response = env.client.get("/v1/indicators/export", params={"format": fmt, "version": 2},
                                  headers=env.headers("researcher"))
        assert response.status_code == 200, response.text
        assert f'filename="indicators-v2.{fmt}"' in response.headers["content-disposition"]
        reimport = env.client.put("/v1/indicators", headers=env.headers("designer"), params={"note": f"{fmt} back"},
                                  files={"file": (f"tree.{fmt}", response.content)})
        assert reimport.status_code == 200, reimport.text
        diff = _get(env, "/v1/indicators/diff", old=2, new=reimport.json()["version"])
        assert diff["added"] == diff["removed"] == diff["changed"] == []
    assert env.client.get("/v1/indicators/export", params={"version": 99},
                          headers=env.headers("researcher")).status_code == 404
    entries = _get(env, "/v1/indicators/audit", limit=3)["entries"]
    assert [(e["action"], e["actor"]) for e in entries] == [("tree.import", _who(env, "designer"))] * 3
    assert [e["version"] for e in entries] == sorted((e["version"] for e in entries), reverse=True)
    assert _get(env, "/v1/indicators/audit", target="nobody") == {"entries": []}


def test_preview_rule_counts_samples_and_rejects_bad_rules(env: ApiEnv) -> None:
    url = "/v1/indicators/preview-rule"
    response = env.client.post(url, json={"rule": "退款 OR NEG(满意)", "limit": 2}, headers=env.headers("researcher"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rule"] == "退款 OR NEG(满意)" and body["truncated"] is False
    assert 0 < body["documents_scanned"] <= env.documents  # type: ignore[attr-defined]
    assert body["matches"] >= 4 and len(body["sample"]) == 2
    for item in body["sample"]:
        marked = item["text"][item["span_start"]:item["span_end"]]
        assert "退款" in marked or "满意" in marked, item
    bad = env.client.post(url, json={"rule": "退款 AND"}, headers=env.headers("service"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_rule"
    [detail] = bad.json()["error"]["details"]
    assert detail["position"] == 3 and "needs a word" in detail["message"] and detail["field"] == "body.rule"
    for body in ({"rule": "退款", "limit": 1000}, {"rule": ""}, {"rule": "退款", "extra": 1}):
        assert env.client.post(url, json=body, headers=env.headers("researcher")).status_code == 422, body
    assert env.client.post(url, json={"rule": "退款"}).status_code == 401
