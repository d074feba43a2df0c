"""The API on Elasticsearch: search, facets, pages and cursors, tags by id and by query, and the role
matrix. Skipped only when no node answers (CI starts one: scripts/test.sh)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiEnv, api_env
from test_api_roles import ALL, ROUTE_CASES, Case, _call, matrix_ids
from test_api_search import check_search_and_tags

from indexing.es_testing import node_connection, unique_prefix

connection, why_not = node_connection()
pytestmark = pytest.mark.skipif(connection is None, reason=why_not)


def es_settings(prefix: str) -> dict[str, Any]:
    assert connection is not None
    values: dict[str, Any] = {"index": "elasticsearch", "es_url": connection.url, "es_index_prefix": prefix}
    if connection.username:
        values |= {"es_username": connection.username, "es_password": connection.password}
    if connection.api_key:
        values["es_api_key"] = connection.api_key
    return values


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    prefix = unique_prefix()
    with api_env(tmp_path_factory.mktemp("es") / "home", api_job_threshold_bytes=10, **es_settings(prefix)) as env:
        yield env
        index = env.app.state.voc_api.voc.index
        index.drop()


@pytest.fixture(scope="module")
def ids(env: ApiEnv) -> dict[str, str]:
    return matrix_ids(env)


def test_search_and_tags_on_elasticsearch(tmp_path: Path) -> None:
    with api_env(tmp_path / "home", **es_settings(unique_prefix())) as env:
        try:
            assert env.app.state.voc_api.voc.index.name == "elasticsearch"
            check_search_and_tags(env)
        finally:
            env.app.state.voc_api.voc.index.drop()


def test_readiness_checks_the_node(env: ApiEnv) -> None:
    assert env.client.get("/readyz").json()["checks"] == {"store": "ok", "index": "ok"}


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("case", ROUTE_CASES, ids=lambda c: f"{c.method} {c.path}")
def test_role_matrix_on_elasticsearch(env: ApiEnv, ids: dict[str, str], case: Case, role: str) -> None:
    response = _call(env, case, ids, env.headers(role))
    if role in case.allowed:
        assert response.status_code in case.ok, (role, response.text)
    else:
        assert response.status_code == 403, (role, response.text)
    assert _call(env, case, ids, {}).status_code == 401


def test_uploaded_job_documents_are_searchable(env: ApiEnv, ids: dict[str, str], tmp_path: Path) -> None:
    job = env.client.get(f"/v1/jobs/{ids['job_id']}", headers=env.headers("admin")).json()
    assert job["status"] == "succeeded"
    found = env.client.get("/v1/search", params={"q": "任务"}, headers=env.headers("admin")).json()
    assert found["total"] >= 1
