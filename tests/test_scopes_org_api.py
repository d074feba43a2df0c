"""PUT /v1/org: an unscoped admin imports a new version of the organisation tree (JSON or a file),
versioned and audited as `voc org import`; a bad tree stores nothing and the 422/400 says what is wrong;
no other key may, a scoped admin included; scoped keys see the new version at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import ApiEnv, api_env

from voc.scopes import OrgStore

TREE: dict[str, Any] = {"name": "连锁", "field": "store", "root": {"name": "总部", "children": [
    {"name": "华东大区", "children": [{"name": "上海店"}, {"name": "杭州店"}]},
    {"name": "华北大区", "children": [{"name": "北京店"}]}]}}
DOCS = [{"id": f"{store}{n}", "text": f"外卖送得很慢，第{n}单", "store": store}
        for store in ("上海店", "杭州店", "北京店") for n in range(3)]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("org-api") / "home", corpus=False) as env:
        import voc.alerts.tables  # noqa: F401 - ingest runs alert rules: their tables, as a used store has them
        from voc.store import metadata

        state = env.app.state.voc_api
        metadata.create_all(state.voc.store.engine)
        env.ingest(DOCS)
        env.keys["east"] = state.keys.create("researcher", name="east", scope=["华东大区"])[0]
        env.keys["scoped-admin"] = state.keys.create("admin", name="scoped admin", scope=["华东大区"])[0]
        yield env


def versions(env: ApiEnv) -> int:
    return OrgStore(env.app.state.voc_api.voc.store.engine).latest_version()


def seen_stores(env: ApiEnv, who: str) -> list[str]:
    body = env.client.get("/v1/search", params={"limit": 100}, headers=env.headers(who)).json()
    return sorted(hit["store"] for hit in body["hits"])


def test_admin_imports_versions_that_scopes_follow(env: ApiEnv) -> None:
    before = versions(env)
    put = env.client.put("/v1/org", params={"note": "首版"}, json=TREE, headers=env.headers("admin"))
    assert put.status_code == 200, put.text
    assert put.json() == {"version": before + 1, "nodes": 6, "field": "store"}
    assert seen_stores(env, "east") == sorted(d["store"] for d in DOCS if d["store"] != "北京店")
    shown = env.client.get("/v1/org", headers=env.headers("east")).json()
    assert shown["version"] == before + 1 and [n["name"] for n in shown["nodes"]] == ["华东大区"]
    moved = {**TREE, "root": {"name": "总部", "children": [
        {"name": "华东大区", "children": [{"name": "上海店"}]},
        {"name": "华北大区", "children": [{"name": "北京店"}, {"name": "杭州店"}]}]}}
    put = env.client.put("/v1/org", json=moved, headers=env.headers("admin"))
    assert put.status_code == 200 and put.json()["version"] == before + 2
    assert seen_stores(env, "east") == ["上海店"] * 3  # at once
    audit = OrgStore(env.app.state.voc_api.voc.store.engine).audit_log()
    assert audit[0]["version"] == before + 2 and "test admin" in audit[0]["actor"]
    assert audit[0]["detail"]["changed"] and audit[1]["detail"]["note"] == "首版"


def test_a_file_is_imported_too(env: ApiEnv) -> None:
    from voc.scopes import dump_tree, parse_tree

    before = versions(env)
    yaml_bytes = dump_tree(parse_tree(TREE), "yaml")
    put = env.client.put("/v1/org", files={"file": ("org.yaml", yaml_bytes)}, headers=env.headers("admin"))
    assert put.status_code == 200, put.text
    assert put.json()["version"] == before + 1
    bad = env.client.put("/v1/org", files={"file": ("org.yaml", b"root: [1, 2")}, headers=env.headers("admin"))
    assert bad.status_code == 400 and "org.yaml" in bad.json()["error"]["message"]
    assert versions(env) == before + 1


@pytest.mark.parametrize(("body", "says"), [
    ({"root": {"name": "总部", "children": [{"name": "上海店"}, {"name": "上海店"}]}}, "上海店"),
    ({"field": "colour", "root": {"name": "总部"}}, "colour"),
    ({"root": {"name": "总部", "children": [{"name": "甲", "values": ["x"]}, {"name": "乙", "values": ["x"]}]}}, "'x'"),
    ({"root": {"name": "总部", "children": "上海店"}}, "children must be a list"),
    ({"root": [{"name": "a"}, {"name": "b"}]}, "exactly one root"),
    ({"root": {"name": "总部", "id": "bad id!"}}, "invalid id"),
    ({"name": "x" * 300, "root": {"name": "总部"}}, "256"),
    ([], "exactly one root"),
    ({"nothing": 1}, "no tree found"),
])
def test_a_bad_tree_is_a_422_naming_the_problem_and_stores_nothing(env: ApiEnv, body: Any, says: str) -> None:
    before = versions(env)
    put = env.client.put("/v1/org", json=body, headers=env.headers("admin"))
    assert put.status_code == 422, put.text
    assert says in put.json()["error"]["message"]
    assert versions(env) == before


def test_only_unscoped_admins_may_and_bodies_are_bounded(env: ApiEnv) -> None:
    before = versions(env)
    for who in ("researcher", "designer", "service", "east"):
        assert env.client.put("/v1/org", json=TREE, headers=env.headers(who)).status_code == 403
    denied = env.client.put("/v1/org", json=TREE, headers=env.headers("scoped-admin"))
    assert denied.status_code == 403 and "scope" in denied.json()["error"]["message"]
    assert env.client.put("/v1/org", json=TREE).status_code == 401
    big = {"root": {"name": "总部", "values": ["店" * 1000] * 20_000}}  # beyond VOC_API_MAX_BODY_BYTES
    assert env.client.put("/v1/org", json=big, headers=env.headers("admin")).status_code == 413
    text = env.client.put("/v1/org", content=b"root: x", headers={**env.headers("admin"), "content-type": "text/plain"})
    assert text.status_code == 415
    assert env.client.put("/v1/org", content=b"{", headers={**env.headers("admin"), "content-type": "application/json"}
                          ).status_code == 422
    assert versions(env) == before
