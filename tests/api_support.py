"""Shared by the API tests: an app on a temporary VOC_HOME with one key per role and a small corpus."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ROLES
from voc.settings import VocSettings

CORPUS: list[dict[str, Any]] = [
    {"id": "r1", "text": "快递太慢了，等了一个星期，客服态度也差", "store": "北京店", "time": "2026-03-01",
     "channel": "app", "industry": "retail"},
    {"id": "r2", "text": "东西很好，包装精美，物流也快", "store": "上海店", "time": "2026-03-02", "channel": "web",
     "industry": "retail"},
    {"id": "r3", "text": "外卖送到都凉了，味道一般，快递员电话13812345678打不通", "store": "北京店",
     "time": "2026-03-03", "industry": "food"},
    {"id": "r4", "text": "价格实惠，分量足，下次还来", "store": "广州店", "time": "2026-03-04", "industry": "food"},
    {"id": "r5", "text": "快递柜收费太不合理了", "store": "上海店", "time": "2026-03-05", "industry": "logistics"},
]


@dataclass
class ApiEnv:
    app: FastAPI
    client: TestClient
    keys: dict[str, str]  # role -> key

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"} if role else {}

    def ingest(self, documents: list[dict[str, Any]], source: str = "review") -> dict[str, Any]:
        response = self.client.post("/v1/documents", json={"source": source, "documents": documents},
                                    headers=self.headers("admin"))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def api_settings(home: Path, **overrides: Any) -> VocSettings:
    # Rate limits off: the role matrix alone sends hundreds of requests, many with bad keys, at once.
    values: dict[str, Any] = {"home": home, "workers": 1, "api_rate_limit_per_minute": 0,
                              "api_auth_failures_per_minute": 0}
    return VocSettings(**(values | overrides))


@contextmanager
def api_env(home: Path, *, corpus: bool = True, raise_server_exceptions: bool = True,
            **overrides: Any) -> Iterator[ApiEnv]:
    app = create_app(api_settings(home, **overrides))
    keys = {role: app.state.voc_api.keys.create(role, name=f"test {role}")[0] for role in ROLES}
    with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
        env = ApiEnv(app, client, keys)
        if corpus:
            env.ingest(CORPUS)
        yield env


def ingest_demo(env: ApiEnv) -> int:
    """The bundled demo corpus (~1,900 documents), ingested through the service; returns the store's count."""
    from voc.demo import DEMO_FILES, demo_data_dir
    from voc.ingest.records import ColumnOptions

    voc = env.app.state.voc_api.voc
    for demo in DEMO_FILES:
        voc.ingest(demo_data_dir() / demo.name, demo.source, fmt=demo.format,
                   options=ColumnOptions(text_col=demo.text_col, id_col=demo.id_col, time_col=demo.time_col))
    return int(voc.store.count())


def wait_job(env: ApiEnv, response: Any, role: str = "admin", timeout: float = 120.0) -> dict[str, Any]:
    """Follow a 202 answer's job to its end, through GET /v1/jobs/{id}."""
    assert response.status_code == 202, response.text
    env.app.state.voc_api.jobs.wait(response.json()["job_id"], timeout=timeout)
    job = env.client.get(response.json()["url"], headers=env.headers(role))
    assert job.status_code == 200, job.text
    return job.json()  # type: ignore[no-any-return]
