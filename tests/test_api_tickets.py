"""The ticket API: open with evidence, the status flow with 409 on a step the flow lacks, comments with PII
masked, reassignment, escalation with a given time, the report, and 404/422 answers (never 500)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiEnv, api_env

CHAIN = '{"北京店": "华北大区", "华北大区": "总部"}'


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("tickets") / "home", ticket_escalation=CHAIN,
                 analysis_stages=[]) as env:
        yield env


@pytest.fixture(scope="module")
def doc(env: ApiEnv) -> dict[str, str]:
    """Stored document ids by the corpus's own ids."""
    from sqlalchemy import select

    from voc.store import documents

    with env.app.state.voc_api.voc.store.engine.connect() as conn:
        return {row.external_id: row.id for row in conn.execute(select(documents.c.id, documents.c.external_id))}


def _post(env: ApiEnv, path: str, body: Any, role: str = "researcher", status: int = 200) -> Any:
    response = env.client.post(path, json=body, headers=env.headers(role))
    assert response.status_code == status, response.text
    return response.json()


def _get(env: ApiEnv, path: str, role: str = "service", expect: int = 200, **params: Any) -> Any:
    response = env.client.get(path, params=params, headers=env.headers(role))
    assert response.status_code == expect, response.text
    return response.json()


def test_ticket_flow_through_the_api(env: ApiEnv, doc: dict[str, str]) -> None:
    opened = _post(env, "/v1/tickets", {"title": "外卖投诉", "owner": "北京店", "doc_ids": [doc["r3"], doc["r1"]],
                                        "sla_hours": 2, "alert_id": "api-alert-1", "rule": "low-score"}, status=201)
    ticket_id = opened["id"]
    assert (opened["status"], opened["owner"], opened["evidence_ids"], opened["overdue"]) == (
        "open", "北京店", [doc["r3"], doc["r1"]], False)
    again = _post(env, "/v1/tickets", {"title": "重复", "owner": "北京店", "alert_id": "api-alert-1"}, status=200)
    assert again["id"] == ticket_id and again["title"] == "外卖投诉"

    detail = _get(env, f"/v1/tickets/{ticket_id}")
    assert [item["id"] for item in detail["evidence"]] == [doc["r3"], doc["r1"]]
    assert "13812345678" not in str(detail) and detail["evidence"][0]["text"].startswith("外卖送到都凉了")

    conflict = env.client.post(f"/v1/tickets/{ticket_id}/status", json={"status": "closed"},
                               headers=env.headers("researcher"))
    assert conflict.status_code == 409
    assert conflict.json()["error"]["details"] == {"status": "open", "allowed": ["in_progress"]}
    for status in ("in_progress", "resolved", "open", "in_progress"):
        assert _post(env, f"/v1/tickets/{ticket_id}/status", {"status": status, "note": "电话 13912345678"},
                     role="designer")["status"] == status

    comment = _post(env, f"/v1/tickets/{ticket_id}/comments", {"text": "已回访，客户邮箱 li.si@example.com"},
                    status=201)
    assert "li.si" not in comment["text"] and comment["author"].startswith("test researcher")
    _post(env, f"/v1/tickets/{ticket_id}/assign", {"owner": "客服中心"}, role="admin")
    _post(env, f"/v1/tickets/{ticket_id}/assign", {"owner": "北京店"}, role="admin")

    due = datetime.fromisoformat(_get(env, f"/v1/tickets/{ticket_id}")["due_at"])
    late = (due + timedelta(minutes=1)).isoformat()
    escalated = _post(env, "/v1/tickets/escalate", {"now": late}, role="admin")
    assert [(e["ticket_id"], e["to_owner"], e["level"]) for e in escalated["escalated"]] == [(ticket_id, "华北大区", 1)]
    assert _post(env, "/v1/tickets/escalate", {"now": late}, role="admin")["escalated"] == []

    listed = _get(env, "/v1/tickets", owner="华北大区", status=["in_progress"])["tickets"]
    assert [t["id"] for t in listed] == [ticket_id] and listed[0]["original_owner"] == "北京店"
    audit = _get(env, f"/v1/tickets/{ticket_id}")["audit"]
    assert [a["action"] for a in audit] == ["opened", "status", "status", "status", "status", "comment", "assign",
                                           "assign", "escalated", "notified"]
    assert all("13912345678" not in str(a["detail"]) for a in audit)
    report = _get(env, "/v1/tickets/report")
    assert report["total"]["tickets"] >= 1 and any(row["owner"] == "北京店" for row in report["owners"])


def test_unknown_ids_and_bad_input(env: ApiEnv) -> None:
    assert _get(env, "/v1/tickets/999999", expect=404)["error"]["code"] == "not_found"
    for action, body in (("status", {"status": "in_progress"}), ("comments", {"text": "x"}),
                         ("assign", {"owner": "x"})):
        _post(env, f"/v1/tickets/999999/{action}", body, status=404)
    unknown = _post(env, "/v1/tickets", {"title": "t", "owner": "北京店", "doc_ids": ["nope"]}, status=422)
    assert unknown["error"]["message"] == "unknown evidence documents: nope"
    _post(env, "/v1/tickets", {"title": "   ", "owner": "北京店"}, status=422)
    _post(env, "/v1/tickets", {"title": "t", "owner": "北京店", "sla_hours": 0}, status=422)
    _post(env, "/v1/tickets", {"title": "t", "owner": "北京店", "surprise": 1}, status=422)
    ticket = _post(env, "/v1/tickets", {"title": "t", "owner": "上海店"}, status=201)
    _post(env, f"/v1/tickets/{ticket['id']}/status", {"status": "done"}, status=422)
    _post(env, f"/v1/tickets/{ticket['id']}/comments", {"text": "长" * 4001}, status=422)
    _post(env, "/v1/tickets/escalate", {"now": "9999-12-31T23:59:59"}, role="admin", status=422)
    _get(env, "/v1/tickets", expect=422, status="done")
    _get(env, "/v1/tickets", expect=422, limit=0)
    _get(env, "/v1/tickets/0", expect=422)


def test_reading_needs_read_and_acting_needs_act(env: ApiEnv) -> None:
    _post(env, "/v1/tickets", {"title": "t", "owner": "北京店"}, role="service", status=403)
    assert isinstance(_get(env, "/v1/tickets", role="service")["tickets"], list)


def test_the_server_escalates_periodically(tmp_path_factory: pytest.TempPathFactory) -> None:
    import threading

    heard = threading.Event()
    events: list[dict[str, Any]] = []

    def notify(event: dict[str, Any]) -> None:
        events.append(event)
        heard.set()

    home = tmp_path_factory.mktemp("tickets-serve") / "home"
    with api_env(home, corpus=False, ticket_escalation=CHAIN, ticket_escalate_every_s=0.05,
                 analysis_stages=[]) as env:
        service = env.app.state.voc_api.voc.tickets
        service.notify = notify
        ticket = service.open("超时", "北京店", [], due_at=datetime.now() - timedelta(minutes=1), actor="test")
        assert heard.wait(timeout=30), "the server's schedule never escalated the overdue ticket"
    assert [(e["ticket_id"], e["to_owner"]) for e in events] == [(ticket.id, "华北大区")]


def test_a_broken_escalation_chain_is_a_503_that_names_no_path(tmp_path: Path) -> None:
    chain = tmp_path / "secret-dir" / "chain.yaml"  # missing
    with api_env(tmp_path / "home", corpus=False, ticket_escalation=str(chain), analysis_stages=[]) as env:
        response = env.client.get("/v1/tickets", headers=env.headers("admin"))
        assert response.status_code == 503 and "secret-dir" not in response.text
        assert response.json()["error"]["code"] == "unavailable"
        assert env.client.get("/readyz").status_code == 200  # the rest of the server keeps working
