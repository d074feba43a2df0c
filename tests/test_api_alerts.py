"""Alerts over the API (issue 22): rules in and out (secrets never out), alerts fire on API ingest (JSON and
upload), a scheduled run as a job, webhooks sent in the background and logged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiEnv, api_env, wait_job

RULES = [{"name": "差评", "kind": "low_score", "webhooks": ["ops"]},
         {"name": "升级", "kind": "escalation", "scope": {"source": ["review"]}},
         {"name": "门店上升", "kind": "rising", "sensitivity": {"by": "store", "measure": "volume", "interval": "day"}}]


@pytest.fixture(scope="module")
def received() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook?token=TOPSECRET", bodies
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, received: tuple[str, list[bytes]]) -> Iterator[ApiEnv]:
    hooks = [{"name": "ops", "url": received[0], "secret": "HMACSECRET"}]
    with api_env(tmp_path_factory.mktemp("alerts") / "home", corpus=False, analysis_stages=[],
                 alerts_webhooks=hooks, api_job_threshold_bytes=10) as env:
        response = env.client.put("/v1/alerts/rules", json={"rules": RULES}, headers=env.headers("admin"))
        assert response.status_code == 200, response.text
        yield env


def test_rules_round_trip_without_secrets(env: ApiEnv) -> None:
    response = env.client.get("/v1/alerts/rules", headers=env.headers("researcher"))
    assert response.status_code == 200
    body = response.json()
    assert [rule["name"] for rule in body["rules"]] == ["升级", "差评", "门店上升"]
    assert body["webhooks"][0]["secret"] == "***" and body["webhooks"][0]["url"].endswith("/hook?***")
    assert "TOPSECRET" not in response.text and "HMACSECRET" not in response.text


@pytest.mark.parametrize(("rules", "message"), [
    ([{"name": "x", "kind": "low_score", "cooldown": "forever"}], "rule 1 (x): cooldown"),
    ([{"name": "x", "kind": "low_score", "webhooks": ["nowhere"]}], "rule x: webhooks: 'nowhere'"),
    ([{"name": "x", "kind": "escalation", "sensitivity": {"rule": "(消协"}}], "rule 1 (x): sensitivity.rule"),
])
def test_bad_rules_are_422_and_change_nothing(env: ApiEnv, rules: list[dict[str, Any]], message: str) -> None:
    response = env.client.post("/v1/alerts/rules", json={"rules": rules}, headers=env.headers("admin"))
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]
    names = [r["name"] for r in env.client.get("/v1/alerts/rules", headers=env.headers("admin")).json()["rules"]]
    assert names == ["升级", "差评", "门店上升"]


def test_api_ingest_fires_and_delivers_in_the_background(env: ApiEnv, received: tuple[str, list[bytes]]) -> None:
    env.ingest([{"id": "a1", "text": "门店服务很差，电话13912345678", "score": 2, "store": "浦东店"},
                {"id": "a2", "text": "很满意", "score": 10, "store": "浦东店"}], source="survey")
    alerts = env.client.get("/v1/alerts", params={"status": "open"}, headers=env.headers("researcher")).json()["alerts"]
    [alert] = [a for a in alerts if a["rule"] == "差评"]
    assert alert["detail"]["score"] == 2 and "13912345678" not in json.dumps(alert, ensure_ascii=False)
    one = env.client.get(f"/v1/alerts/{alert['id']}", headers=env.headers("researcher"))
    assert one.status_code == 200 and one.json()["document_ids"] == alert["document_ids"]
    env.app.state.voc_api.voc.alerts.wait_idle()
    deliveries = env.client.get("/v1/alerts/deliveries", headers=env.headers("admin")).json()["deliveries"]
    assert [(d["alert_id"], d["status"], d["attempts"]) for d in deliveries] == [(alert["id"], "delivered", 1)]
    assert json.loads(received[1][-1])["alert"]["id"] == alert["id"]


def test_upload_ingest_fires(env: ApiEnv) -> None:
    csv = "id,text,rating\nu1,假货！我要去消协投诉，还要打12315,3\n".encode()
    response = env.client.post("/v1/documents/upload", headers=env.headers("admin"), data={"source": "review"},
                               files={"file": ("r.csv", csv)})
    assert wait_job(env, response)["status"] == "succeeded"
    fired = env.client.get("/v1/alerts", params={"rule": "升级"}, headers=env.headers("admin")).json()["alerts"]
    assert len(fired) == 1 and set(fired[0]["detail"]["words"]) == {"消协", "12315"}


def test_scheduled_run_is_a_job(env: ApiEnv) -> None:
    docs = [{"id": f"b{day}-{i}", "text": f"第{day}天的评论{i}", "rating": 4, "store": "静安店",
             "time": f"2026-03-{day:02d}T10:00:00"} for day in range(1, 5) for i in range(1 if day < 4 else 12)]
    env.ingest(docs)
    response = env.client.post("/v1/alerts/run", json={"rules": ["门店上升"]}, headers=env.headers("admin"))
    job = wait_job(env, response)
    assert job["status"] == "succeeded", job
    assert job["result"]["rules"] == ["门店上升"] and len(job["result"]["alerts"]) == 1
    [alert] = env.client.get("/v1/alerts", params={"rule": "门店上升"}, headers=env.headers("admin")).json()["alerts"]
    assert alert["subject"] == "store:静安店" and alert["id"] == job["result"]["alerts"][0]


def test_unknown_alert_is_404(env: ApiEnv, tmp_path: Path) -> None:
    response = env.client.get("/v1/alerts/424242", headers=env.headers("researcher"))
    assert response.status_code == 404 and response.json()["error"]["message"] == "no alert 424242"


def test_acknowledge_and_close(env: ApiEnv) -> None:
    env.ingest([{"id": "c1", "text": "太失望了", "score": 0, "store": "浦东店"}], source="survey")
    [alert] = env.client.get("/v1/alerts", params={"rule": "差评", "status": "open"},
                             headers=env.headers("admin")).json()["alerts"][:1]
    for status in ("acknowledged", "closed"):
        response = env.client.post(f"/v1/alerts/{alert['id']}/status", json={"status": status},
                                   headers=env.headers("researcher"))
        assert response.status_code == 200 and response.json()["status"] == status
    closed = env.client.get("/v1/alerts", params={"status": "closed"}, headers=env.headers("admin")).json()["alerts"]
    assert alert["id"] in [a["id"] for a in closed]
    bad = env.client.post(f"/v1/alerts/{alert['id']}/status", json={"status": "gone"}, headers=env.headers("admin"))
    assert bad.status_code == 422
    missing = env.client.post("/v1/alerts/999999/status", json={"status": "closed"}, headers=env.headers("admin"))
    assert missing.status_code == 404
