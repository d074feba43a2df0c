"""POST /v1/analyze, the error envelope, keys, rate limits, health, metrics; `voc keys` and `voc serve`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import ApiEnv, api_env
from typer.testing import CliRunner

from api.launch import wait_until_serving
from voc.cli.main import app as cli


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    with api_env(tmp_path / "home", corpus=False, raise_server_exceptions=False) as env:
        yield env


def test_analyze_returns_sentiment_clauses_aspects_and_pii_without_storing(env: ApiEnv) -> None:
    texts = ["快递太慢了，但是东西不错，有问题打13812345678", "味道很好"]
    response = env.client.post("/v1/analyze", json={"texts": texts}, headers=env.headers("service"))
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["text"].endswith("[手机号]") and "13812345678" not in json.dumps(first)
    assert first["pii"][0]["type"] == "phone" and texts[0][first["pii"][0]["start"]:first["pii"][0]["end"]] == \
        "13812345678"
    assert [c["label"] for c in first["sentiment"]["clauses"]][:2] == ["negative", "positive"]
    assert first["sentiment"]["aspects"][0]["aspect"] == "物流配送"
    assert first["topic"] is None and second["sentiment"]["label"] == "positive"
    assert env.app.state.voc_api.voc.store.count() == 0


def test_analyze_hotline_text_reads_the_customer_turns(env: ApiEnv) -> None:
    call = "坐席：您好，请问有什么可以帮您？\n客户：宽带又断了，太差了"
    body = env.client.post("/v1/analyze", json={"texts": [call], "source": "hotline"},
                           headers=env.headers("admin")).json()["results"][0]
    assert body["text"] == "宽带又断了,太差了" and [t["role"] for t in body["turns"]] == ["agent", "customer"]


@pytest.mark.parametrize(("body", "field"), [
    ({"texts": []}, "body.texts"),
    ({"texts": ["好"] * 257}, "body.texts"),
    ({"texts": ["好", ""]}, "body.texts.1"),
    ({"texts": ["好", 3]}, "body.texts.1"),
    ({"texts": ["好"], "source": "fax"}, "body.source"),
    ({"text": "好"}, "body.texts"),
    ({"texts": ["好", "长" * 20_001]}, "body.texts.1"),
])
def test_analyze_validation_names_the_field(env: ApiEnv, body: dict, field: str) -> None:
    response = env.client.post("/v1/analyze", json=body, headers=env.headers("service"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"][0]["field"] == field
    assert error["message"].startswith(field)


@pytest.mark.parametrize("content", [b"{not json", b'{"texts": ["\xff\xfe"]}', b"\xef\xbb\xbf\x00\x00",
                                     b'{"texts": ["ok", "\\ud800"]}'])
def test_malformed_bodies_get_a_clean_4xx(env: ApiEnv, content: bytes) -> None:
    response = env.client.post("/v1/analyze", content=content, headers={**env.headers("service"),
                                                                       "Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert set(response.json()["error"]) == {"code", "message", "details"}
    if b"ud800" in content:  # a lone surrogate: valid JSON, not valid text
        assert response.json()["error"]["details"][0]["field"] == "body.texts.1"


def test_body_size_is_bounded(tmp_path: Path) -> None:
    with api_env(tmp_path / "h", corpus=False, api_max_body_bytes=1_000) as env:
        response = env.client.post("/v1/analyze", json={"texts": ["好" * 2_000]}, headers=env.headers("service"))
        assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"texts": ["'
            yield b"x" * 5_000
            yield b'"]}'

        response = env.client.post("/v1/analyze", content=chunks(), headers={
            **env.headers("service"), "Content-Type": "application/json"})
        assert response.status_code == 413


def test_unexpected_errors_are_a_generic_500_without_details(env: ApiEnv, monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("boom at /srv/secret/path password=hunter2")

    monkeypatch.setattr(env.app.state.voc_api.voc, "analyze_many", explode)
    response = env.client.post("/v1/analyze", json={"texts": ["好"]}, headers=env.headers("service"))
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "internal error; it has been logged",
                                         "details": None}}
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert "hunter2" in caplog.text  # logged on the server side


def test_a_busy_store_is_a_503_with_retry_after(env: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    def locked() -> None:
        raise OperationalError("INSERT INTO tags", {}, Exception("database is locked"))

    monkeypatch.setattr(env.app.state.voc_api.voc, "tag_counts", locked)
    response = env.client.get("/v1/tags", headers=env.headers("researcher"))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "unavailable" and "INSERT" not in response.text


def test_revoked_keys_stop_working(env: ApiEnv) -> None:
    keys = env.app.state.voc_api.keys
    key, record = keys.create("service")
    headers = {"Authorization": f"Bearer {key}"}
    assert env.client.post("/v1/analyze", json={"texts": ["好"]}, headers=headers).status_code == 200
    assert keys.revoke([record.id]) == [record.id]
    assert env.client.post("/v1/analyze", json={"texts": ["好"]}, headers=headers).status_code == 401
    stored = env.app.state.voc_api.voc.store.engine.raw_connection()
    try:
        rows = stored.cursor().execute("SELECT key_hash FROM api_keys").fetchall()
    finally:
        stored.close()
    assert all(key not in row[0] and key.split("_")[2] not in row[0] for row in rows)  # only hashes stored


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    with api_env(tmp_path / "h", corpus=False, api_rate_limit_per_minute=60, api_rate_limit_burst=3) as env:
        statuses = [env.client.get("/v1/tags", headers=env.headers("researcher")) for _ in range(5)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
        assert statuses[3].json()["error"]["code"] == "rate_limited"
        assert 1 <= int(statuses[3].headers["retry-after"]) <= 2
        assert env.client.get("/v1/tags", headers=env.headers("designer")).status_code == 200  # per key
        unlimited, _ = env.app.state.voc_api.keys.create("service", rate_limit_per_minute=0)
        assert all(env.client.get("/v1/tags", headers={"Authorization": f"Bearer {unlimited}"}).status_code == 200
                   for _ in range(10))


def test_health_readiness_and_metrics(env: ApiEnv) -> None:
    assert env.client.get("/healthz").json() == {"status": "ok"}
    assert env.client.get("/readyz").json() == {"status": "ok", "checks": {"store": "ok", "index": "ok"}}
    env.client.post("/v1/analyze", json={"texts": ["好", "差"]}, headers=env.headers("service"))
    env.client.get("/v1/documents/abc", headers=env.headers("admin"))
    metrics = env.client.get("/metrics").text
    assert 'voc_http_requests_total{method="POST",route="/v1/analyze",status="200"} 1.0' in metrics
    assert 'route="/v1/documents/{doc_id}",status="404"' in metrics
    assert "voc_analyzed_texts_total 2.0" in metrics


def test_readiness_reports_an_unreachable_index(env: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_: object, **__: object) -> int:
        raise ConnectionError("index at http://user:pw@host down")

    monkeypatch.setattr(env.app.state.voc_api.voc.index, "count", down)
    response = env.client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"] == {"store": "ok", "index": "unavailable"}
    assert "pw" not in response.text


def test_keys_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--role", "designer", "--name", "ops", "--json"])
    assert created.exit_code == 0, created.output
    key = json.loads(created.stdout)["key"]
    assert key.startswith("voc_")
    listed = json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout)
    assert [(k["role"], k["name"]) for k in listed] == [("designer", "ops")] and key not in json.dumps(listed)
    assert runner.invoke(cli, ["keys", "create", "--role", "boss"]).exit_code == 2
    assert runner.invoke(cli, ["keys", "revoke", listed[0]["id"]]).exit_code == 0
    assert json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout) == []
    assert runner.invoke(cli, ["keys", "revoke", listed[0]["id"]]).exit_code == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_voc_serve_runs_the_app_under_uvicorn(tmp_path: Path) -> None:
    environment = {**os.environ, "VOC_HOME": str(tmp_path / "home")}
    voc = [str(Path(sys.executable).parent / "voc")]
    key = json.loads(subprocess.run([*voc, "keys", "create", "--role", "service", "--json"], env=environment,
                                    capture_output=True, text=True, check=True).stdout)["key"]
    port = _free_port()
    server = subprocess.Popen([*voc, "serve", "--port", str(port), "--workers", "2", "--no-access-log"],
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, server)
        answers = [httpx.post(f"{base}/v1/analyze", json={"texts": ["服务很好"]},
                              headers={"Authorization": f"Bearer {key}"}, timeout=10) for _ in range(4)]
        assert all(a.status_code == 200 for a in answers)
        assert answers[0].json()["results"][0]["sentiment"]["label"] == "positive"
        # Both workers' counts add up, whichever one answers /metrics.
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
        assert 'voc_http_requests_total{method="POST",route="/v1/analyze",status="200"} 4.0' in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)
