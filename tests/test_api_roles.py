"""Every /v1 route with every role: allowed roles get through, others get 403, no key or a bad key 401.

The expected matrix is written out here from the issue ("researchers search, read and tag; designers also
review; services analyse, ingest and search; admins everything"), not derived from api.auth, so a change
to the role map that breaks it fails here. A new route must be added to ROUTE_CASES (a test checks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiEnv, api_env

ALL = {"researcher", "designer", "service", "admin"}
TREE = {"name": "矩阵", "indicators": [{"id": "d", "name": "配送", "keywords": ["快递"]}]}
READERS = {"researcher", "designer", "service", "admin"}
ACTORS = {"researcher", "designer", "admin"}  # work tickets: store and region managers too


@dataclass
class Case:
    method: str
    path: str  # the route template; {doc_id}, {job_id}, … are filled in per test
    allowed: set[str]
    request: dict[str, Any] = field(default_factory=dict)
    ok: tuple[int, ...] = (200,)


ROUTE_CASES: list[Case] = [
    Case("POST", "/v1/analyze", {"service", "admin"}, {"json": {"texts": ["快递太慢了"]}}),
    Case("POST", "/v1/documents", {"service", "admin"},
         {"json": {"source": "review", "documents": [{"id": "matrix", "text": "矩阵测试的评论"}]}}),
    Case("POST", "/v1/documents/upload", {"service", "admin"},
         {"files": {"file": ("m.csv", "id,text\nu1,上传的评论\n".encode())}, "data": {"source": "review"}},
         ok=(202,)),  # the module app makes every upload a job
    Case("GET", "/v1/documents/{doc_id}", READERS),
    Case("GET", "/v1/search", {"researcher", "designer", "service", "admin"}, {"params": {"q": "快递"}}),
    Case("GET", "/v1/export", READERS, {"params": {"q": "快递", "format": "csv"}}),
    Case("POST", "/v1/tags/apply", {"researcher", "designer", "admin"}, {"json": {"tag": "矩阵", "ids": ["{doc_id}"]}}),
    Case("POST", "/v1/tags/remove", {"researcher", "designer", "admin"},
         {"json": {"tag": "矩阵", "query": {"q": "快递"}}}),
    Case("GET", "/v1/tags", READERS),
    Case("GET", "/v1/topics", READERS),
    Case("GET", "/v1/topics/emerging", READERS, {"params": {"interval": "day"}}),
    Case("GET", "/v1/topics/{topic_id}", READERS, ok=(404,)),  # too few documents here for topics
    Case("POST", "/v1/topics/build", {"admin"}, {"json": {"source": "survey"}}, ok=(202,)),
    Case("GET", "/v1/drivers", READERS, {"params": {"metric": "sentiment"}}),
    Case("GET", "/v1/org", READERS, ok=(200, 404)),  # 404 until the PUT below has stored a tree
    Case("PUT", "/v1/org", {"admin"}, {"json": {"root": {"name": "总部", "children": [{"name": "北京店"}]}}}),
    Case("GET", "/v1/indicators", READERS),
    Case("PUT", "/v1/indicators", {"designer", "admin"}, {"json": TREE}),
    Case("GET", "/v1/indicators/coverage", READERS),
    Case("GET", "/v1/indicators/versions", READERS),
    Case("GET", "/v1/indicators/diff", READERS, {"params": {"old": 1}}),
    Case("GET", "/v1/indicators/export", READERS, {"params": {"format": "json"}}),
    Case("GET", "/v1/indicators/audit", READERS),
    Case("POST", "/v1/indicators/preview-rule", READERS, {"json": {"rule": "快递", "limit": 5}}),
    Case("POST", "/v1/indicators/examples", {"designer", "admin"},
         {"files": {"file": ("e.csv", "text,indicator\n快递太慢了,配送\n".encode())}}, ok=(202,)),
    Case("DELETE", "/v1/indicators/examples", {"designer", "admin"}),
    Case("GET", "/v1/suggestions", READERS, {"params": {"status": "pending"}}),
    Case("GET", "/v1/suggestions/{suggestion_id}", READERS, ok=(404,)),
    Case("POST", "/v1/suggestions/refresh", {"designer", "admin"}, ok=(202,)),
    Case("POST", "/v1/suggestions/{suggestion_id}/review", {"designer", "admin"},
         {"json": {"action": "reject", "reason": "矩阵"}}, ok=(404,)),
    Case("GET", "/v1/tickets", READERS, {"params": {"status": "open"}}),
    Case("POST", "/v1/tickets", ACTORS, {"json": {"title": "矩阵工单", "owner": "北京店", "doc_ids": ["{doc_id}"]}},
         ok=(201,)),
    Case("GET", "/v1/tickets/report", READERS),
    Case("POST", "/v1/tickets/escalate", {"admin"}, {"json": {}}),
    Case("GET", "/v1/tickets/{ticket_id}", READERS),
    # the first allowed role moves it to in_progress; the next ones find it there already (409)
    Case("POST", "/v1/tickets/{ticket_id}/status", ACTORS, {"json": {"status": "in_progress"}}, ok=(200, 409)),
    Case("POST", "/v1/tickets/{ticket_id}/comments", ACTORS, {"json": {"text": "矩阵"}}, ok=(201,)),
    Case("POST", "/v1/tickets/{ticket_id}/assign", ACTORS, {"json": {"owner": "华北大区"}}),
    Case("GET", "/v1/alerts", READERS, {"params": {"status": "open"}}),
    Case("GET", "/v1/alerts/rules", READERS),
    Case("PUT", "/v1/alerts/rules", {"admin"}, {"json": {"rules": [{"name": "矩阵", "kind": "low_score"}]}}),
    Case("POST", "/v1/alerts/rules", {"admin"}, {"json": {"rules": [{"name": "矩阵2", "kind": "escalation"}]}}),
    Case("POST", "/v1/alerts/run", {"admin"}, {"json": {}}, ok=(202,)),
    Case("GET", "/v1/alerts/deliveries", {"admin"}),
    Case("GET", "/v1/alerts/{alert_id}", READERS, ok=(404,)),
    Case("POST", "/v1/alerts/{alert_id}/status", ACTORS, {"json": {"status": "closed"}}, ok=(404,)),
    # Any valid key may ask; a job that is not its own is "not found" (404), never 403.
    Case("GET", "/v1/jobs/{job_id}", ALL, ok=(200, 404)),
    Case("GET", "/v1/me", ALL),  # who the key is, for the web UI
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("roles") / "home", api_job_threshold_bytes=10) as env:
        yield env


@pytest.fixture(scope="module")
def ids(env: ApiEnv) -> dict[str, str]:
    return matrix_ids(env)


def matrix_ids(env: ApiEnv) -> dict[str, str]:
    """The ids the route templates are filled with; test_es_api's matrix uses the same."""
    doc_id = env.client.get("/v1/search", params={"q": "快递"}, headers=env.headers("admin")).json()["hits"][0]["id"]
    job = env.client.post("/v1/documents/upload", headers=env.headers("admin"), data={"source": "review"},
                          files={"file": ("big.csv", "id,text\nj1,一个作为任务运行的上传\n".encode())})
    assert job.status_code == 202, job.text
    env.app.state.voc_api.jobs.wait(job.json()["job_id"])
    env.app.state.voc_api.voc.indicators.import_tree(TREE, author="matrix")
    ticket = env.app.state.voc_api.voc.tickets.open("矩阵", "北京店", [doc_id], actor="matrix")
    return {"doc_id": doc_id, "job_id": job.json()["job_id"], "topic_id": "7", "suggestion_id": "s-0000000000",
            "ticket_id": str(ticket.id), "alert_id": "999999"}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def _call(env: ApiEnv, case: Case, ids: dict[str, str], headers: dict[str, str]) -> Any:
    request = {key: (value if key == "files" else _fill(value, ids)) for key, value in case.request.items()}
    return env.client.request(case.method, case.path.format(**ids), headers=headers, **request)


def test_every_v1_route_is_in_the_matrix(env: ApiEnv) -> None:
    paths = env.app.openapi()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() if path.startswith("/v1")
              for method in operations}
    assert routes == {(case.method, case.path) for case in ROUTE_CASES}


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("case", ROUTE_CASES, ids=lambda c: f"{c.method} {c.path}")
def test_role_matrix(env: ApiEnv, ids: dict[str, str], case: Case, role: str) -> None:
    response = _call(env, case, ids, env.headers(role))
    if role in case.allowed:
        assert response.status_code in case.ok, (role, response.text)
    else:
        assert response.status_code == 403, (role, response.text)
        error = response.json()["error"]
        assert error["code"] == "forbidden" and error["details"]["role"] == role


@pytest.mark.parametrize("case", ROUTE_CASES, ids=lambda c: f"{c.method} {c.path}")
@pytest.mark.parametrize("auth", [None, "Bearer voc_deadbeef_not-a-real-secret", "Bearer garbage", "Basic dTpw"])
def test_without_a_valid_key_every_route_is_401(env: ApiEnv, ids: dict[str, str], case: Case,
                                                auth: str | None) -> None:
    response = _call(env, case, ids, {"Authorization": auth} if auth else {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_only_the_owner_or_an_admin_sees_a_job(env: ApiEnv, ids: dict[str, str], tmp_path: Path) -> None:
    upload = env.client.post("/v1/documents/upload", headers=env.headers("service"), data={"source": "review"},
                             files={"file": ("s.csv", "id,text\ns1,服务上传的评论内容\n".encode())})
    job_id = upload.json()["job_id"]
    env.app.state.voc_api.jobs.wait(job_id)
    assert env.client.get(f"/v1/jobs/{job_id}", headers=env.headers("service")).status_code == 200
    assert env.client.get(f"/v1/jobs/{job_id}", headers=env.headers("admin")).status_code == 200
    assert env.client.get(f"/v1/jobs/{job_id}", headers=env.headers("researcher")).status_code == 404


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"])
def test_root_routes_need_no_key(env: ApiEnv, path: str) -> None:
    assert env.client.get(path).status_code == 200
