"""Webhook delivery (issue 22): a real HTTP receiver on 127.0.0.1 verifies the HMAC signature; retries
with backoff are recorded in the delivery log; bounded attempts keep a failed delivery; robot formats."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from voc.alerts import AlertService, parse_rules
from voc.alerts.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, parse_webhooks, verify
from voc.alerts.delivery.formats import payload
from voc.documents import Document
from voc.service import Voc
from voc.settings import VocSettings

SECRET = "s3cr3t-key"


@dataclass
class Receiver:
    """A webhook endpoint: answers ``statuses`` in turn (then 200), records every request."""

    statuses: list[int] = field(default_factory=list)
    reply: bytes = b'{"ok": true}'
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state.reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _service(tmp_path: Path, hooks: list[dict[str, Any]], sleeps: Sleeps, attempts: int = 4,
             rule_hooks: list[str] | None = None) -> AlertService:
    voc = Voc(VocSettings(home=tmp_path / "home", workers=1, analysis_stages=[]))
    sender = WebhookSender(max_attempts=attempts, backoff_s=1.0, max_backoff_s=30, sleep=sleeps, jitter=lambda: 0.5)
    service = AlertService(voc.store.engine, webhooks=hooks, sender=sender)
    service.import_rules(parse_rules([{"name": "差评", "kind": "low_score",
                                       "webhooks": rule_hooks or [hook["name"] for hook in hooks]}]))
    return service


def _fire(service: AlertService, doc_id: str = "d1") -> int:
    doc = Document(id=doc_id, source="survey", text="门店服务很差，[手机号]", text_original="", store="浦东店",
                   meta={"score": 2})
    return service.on_committed([doc])[0]


def test_signed_delivery_verified_by_the_receiver(tmp_path: Path, receiver: Receiver) -> None:
    sleeps = Sleeps()
    service = _service(tmp_path, [{"name": "ops", "url": receiver.url, "secret": SECRET}], sleeps)
    alert_id = _fire(service)
    assert service.deliver_pending() == {"delivered": 1, "failed": 0}
    [request] = receiver.requests
    headers = request["headers"]
    assert verify(SECRET, headers[TIMESTAMP_HEADER], request["body"], headers[SIGNATURE_HEADER])
    # Recomputed here by hand, as a receiver in any language would:
    expected = hmac.new(SECRET.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + request["body"],
                        hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert not verify("wrong", headers[TIMESTAMP_HEADER], request["body"], headers[SIGNATURE_HEADER])
    assert not verify(SECRET, headers[TIMESTAMP_HEADER], request["body"] + b" ", headers[SIGNATURE_HEADER])
    body = json.loads(request["body"])
    assert body["event"] == "alert" and body["alert"]["id"] == alert_id
    assert body["alert"]["snippets"] == ["门店服务很差，[手机号]"]
    assert SECRET not in request["body"].decode()
    [logged] = service.deliveries()
    assert (logged["status"], logged["attempts"], logged["response_status"]) == ("delivered", 1, 200)
    assert sleeps == []


def test_failing_then_succeeding_receiver_is_retried_with_backoff(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [503, 500, 429]
    sleeps = Sleeps()
    service = _service(tmp_path, [{"name": "ops", "url": receiver.url, "secret": SECRET}], sleeps, attempts=5)
    _fire(service)
    assert service.deliver_pending() == {"delivered": 1, "failed": 0}
    assert len(receiver.requests) == 4
    assert sleeps == [0.75, 1.5, 3.0]  # 1, 2, 4 s ceilings with the jitter fixed at its middle
    for request in receiver.requests:  # each retry is signed afresh
        assert verify(SECRET, request["headers"][TIMESTAMP_HEADER], request["body"],
                      request["headers"][SIGNATURE_HEADER])
    [logged] = service.deliveries()
    assert (logged["status"], logged["attempts"], logged["last_error"]) == ("delivered", 4, None)


def test_always_failing_receiver_stops_after_bounded_attempts_and_keeps_the_delivery(
        tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [500] * 10
    sleeps = Sleeps()
    service = _service(tmp_path, [{"name": "ops", "url": receiver.url}], sleeps, attempts=3)
    alert_id = _fire(service)
    assert service.deliver_pending() == {"delivered": 0, "failed": 1}
    assert len(receiver.requests) == 3 and len(sleeps) == 2
    [logged] = service.deliveries(status=["failed"])
    assert (logged["alert_id"], logged["attempts"], logged["last_error"], logged["response_status"]) == (
        alert_id, 3, "HTTP 500", 500)
    assert service.deliver_pending() == {"delivered": 0, "failed": 0}  # nothing pending, nothing re-sent
    receiver.statuses = []
    assert service.deliver_pending(retry_failed=True) == {"delivered": 1, "failed": 0}  # nothing was lost
    assert service.deliveries()[0]["attempts"] == 4


def test_client_errors_are_not_retried(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [400]
    service = _service(tmp_path, [{"name": "ops", "url": receiver.url}], Sleeps())
    _fire(service)
    assert service.deliver_pending() == {"delivered": 0, "failed": 1}
    assert len(receiver.requests) == 1


def test_unreachable_webhook_fails_without_leaking_the_url(tmp_path: Path, receiver: Receiver) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = _service(tmp_path, [{"name": "ops", "url": f"http://127.0.0.1:{port}/x?access_token=tok"}],
                       Sleeps(), attempts=2)
    _fire(service)
    assert service.deliver_pending() == {"delivered": 0, "failed": 1}
    [logged] = service.deliveries()
    assert logged["attempts"] == 2 and "tok" not in logged["last_error"]


def test_robot_error_reply_counts_as_a_failed_attempt(tmp_path: Path, receiver: Receiver) -> None:
    receiver.reply = b'{"errcode": 45009, "errmsg": "api freq out of limit"}'
    service = _service(tmp_path, [{"name": "wx", "url": receiver.url, "format": "wecom"}], Sleeps(), attempts=2)
    _fire(service)
    assert service.deliver_pending() == {"delivered": 0, "failed": 1}
    assert service.deliveries()[0]["last_error"] == "robot error 45009: api freq out of limit"


def test_robot_payload_shapes_and_signatures(tmp_path: Path, receiver: Receiver) -> None:
    hooks = [{"name": "wx", "url": receiver.url + "?key=abc", "format": "wecom"},
             {"name": "dd", "url": receiver.url + "?access_token=abc", "format": "dingtalk", "secret": "SECdd"},
             {"name": "fs", "url": receiver.url, "format": "feishu", "secret": "fs-secret"}]
    service = _service(tmp_path, hooks, Sleeps())
    _fire(service)
    assert service.deliver_pending() == {"delivered": 3, "failed": 0}
    bodies = {r["path"].split("?")[1].split("&")[0] if "?" in r["path"] else "feishu": r for r in receiver.requests}

    wecom = json.loads(bodies["key=abc"]["body"])
    assert set(wecom) == {"msgtype", "markdown"} and wecom["msgtype"] == "markdown"
    assert "浦东店" in wecom["markdown"]["content"] and "score 2/10" in wecom["markdown"]["content"]

    ding = bodies["access_token=abc"]
    query = parse_qs(urlsplit(ding["path"]).query)
    stamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SECdd", f"{stamp}\nSECdd".encode(), hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected] and query["access_token"] == ["abc"]
    ding_body = json.loads(ding["body"])
    assert ding_body["msgtype"] == "markdown" and set(ding_body["markdown"]) == {"title", "text"}

    feishu = json.loads(bodies["feishu"]["body"])
    assert feishu["msg_type"] == "post" and feishu["content"]["post"]["zh_cn"]["title"].startswith("[voc]")
    string_to_sign = f"{feishu['timestamp']}\nfs-secret".encode()
    assert feishu["sign"] == base64.b64encode(hmac.new(string_to_sign, b"", hashlib.sha256).digest()).decode()
    for request in receiver.requests:
        assert b"SECdd" not in request["body"] and b"fs-secret" not in request["body"]


def test_generic_payload_without_secret_has_no_signature(receiver: Receiver) -> None:
    hook = parse_webhooks([{"name": "plain", "url": "https://example.invalid/h"}])["plain"]
    url, body = payload(hook, {"id": 1, "rule": "r", "kind": "low_score", "subject": "s", "title": "t",
                               "fired_at": "2026-03-01T00:00:00", "document_ids": ["a"], "snippets": ["x"]}, 0)
    assert url == "https://example.invalid/h" and body["alert"]["document_ids"] == ["a"]


@pytest.mark.parametrize(("hook", "message"), [
    ({"name": "a", "url": "ftp://host/x"}, "alerts_webhooks[1] (a): url: must be an http:// or https:// URL"),
    ({"name": "a", "url": "file:///etc/passwd"}, "url: must be an http"),
    ({"name": "a", "url": "https://h/x", "format": "slack"}, "alerts_webhooks[1] (a): format"),
    ({"url": "https://h/x"}, "alerts_webhooks[1]: name"),
])
def test_bad_webhook_config_is_rejected(hook: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_webhooks([hook])
    assert message in str(caught.value)


def test_secrets_are_masked_wherever_webhooks_are_shown(tmp_path: Path) -> None:
    hooks = [{"name": "dd", "url": "https://oapi.dingtalk.com/robot/send?access_token=TOKEN123",
              "format": "dingtalk", "secret": "SECRET456"}]
    service = _service(tmp_path, hooks, Sleeps())
    shown = json.dumps(service.public_webhooks()) + json.dumps(
        VocSettings(home=tmp_path, alerts_webhooks=hooks).redacted()["alerts_webhooks"])
    assert "TOKEN123" not in shown and "SECRET456" not in shown
    assert service.public_webhooks() == [{"name": "dd", "url": "https://oapi.dingtalk.com/robot/send?***",
                                          "format": "dingtalk", "secret": "***"}]


def test_test_webhook_sends_a_sample(tmp_path: Path, receiver: Receiver) -> None:
    service = _service(tmp_path, [{"name": "ops", "url": receiver.url, "secret": SECRET}], Sleeps())
    result = service.test_webhook("ops")
    assert (result.status, result.attempts) == ("delivered", 1)
    assert json.loads(receiver.requests[0]["body"])["alert"]["rule"] == "test"
    assert service.deliveries() == []
    with pytest.raises(KeyError, match="no webhook named 'nope'"):
        service.test_webhook("nope")


def test_background_delivery_after_ingest(tmp_path: Path, receiver: Receiver) -> None:
    voc = Voc(VocSettings(home=tmp_path / "home", workers=1, analysis_stages=[], alerts_background_delivery=True,
                          alerts_webhooks=[{"name": "ops", "url": receiver.url, "secret": SECRET}]))
    try:
        voc.alerts.import_rules(parse_rules([{"name": "差评", "kind": "low_score", "webhooks": ["ops"]}]))
        from voc.ingest.batch import RecordItem

        voc.ingest_records([RecordItem("survey", {"id": "b1", "text": "不满意", "score": 1})])
        voc.alerts.wait_idle()
        assert [d["status"] for d in voc.alerts.deliveries()] == ["delivered"]
        assert len(receiver.requests) == 1
    finally:
        voc.close()


def test_invalid_webhook_settings_never_break_ingest(tmp_path: Path) -> None:
    voc = Voc(VocSettings(home=tmp_path / "home", workers=1, analysis_stages=[],
                          alerts_webhooks=[{"name": "bad", "url": "ftp://nowhere/x", "secret": "zzz"}]))
    try:
        from voc.ingest.batch import RecordItem

        voc.alerts.import_rules(parse_rules([{"name": "差评", "kind": "low_score"}]))
        results = voc.ingest_records([RecordItem("survey", {"id": "w1", "text": "不满意", "score": 1})])
        assert results[0].status == "accepted" and len(voc.alerts.alerts()) == 1
        with pytest.raises(Exception, match="alerts_webhooks\\[1\\] \\(bad\\): url"):
            voc.alerts.import_rules(parse_rules([{"name": "x", "kind": "low_score", "webhooks": ["bad"]}]))
    finally:
        voc.close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT; messages land on the server."""

    def handle(self) -> None:
        self.wfile.write(b"220 localhost test SMTP\r\n")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 localhost\r\n")
            elif command.startswith("MAIL FROM"):
                self.wfile.write(b"250 ok\r\n")
            elif command.startswith("RCPT TO"):
                refused = self.server.refuse  # type: ignore[attr-defined]
                self.wfile.write(b"550 no such user\r\n" if refused else b"250 ok\r\n")
            elif command == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    data += self.rfile.readline()
                self.server.messages.append(data)  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif command == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    server.refuse = False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_email_delivery_through_a_local_smtp_server(tmp_path: Path, smtp_server: Any) -> None:
    port = smtp_server.server_address[1]
    hooks = [{"name": "mail", "format": "email", "url": f"smtp://127.0.0.1:{port}", "to": ["store-manager@example.com"],
              "sender": "voc@example.com"}]
    service = _service(tmp_path, hooks, Sleeps(), attempts=2)
    _fire(service)
    assert service.deliver_pending() == {"delivered": 1, "failed": 0}
    [raw] = smtp_server.messages
    from email import message_from_bytes, policy

    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "store-manager@example.com" and mail["Subject"].startswith("[voc] 低分")
    assert "门店服务很差" in mail.get_content()
    smtp_server.refuse = True  # a refused recipient is not retried, and the delivery is kept as failed
    _fire(service, "d2")
    assert service.deliver_pending() == {"delivered": 0, "failed": 1}
    assert service.deliveries(status=["failed"])[0]["attempts"] == 1


def test_email_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="smtp://host"):
        parse_webhooks([{"name": "m", "format": "email", "url": "https://x/y", "to": ["a@b.c"]}])
    with pytest.raises(ValueError, match="to: an e-mail webhook needs recipient"):
        parse_webhooks([{"name": "m", "format": "email", "url": "smtp://x"}])


def test_ticket_escalation_notice_is_signed_and_delivered(tmp_path: Path, receiver: Receiver) -> None:
    from datetime import datetime, timedelta

    from voc.tickets import ChainNextLevel, TicketService

    hooks = [{"name": "ops", "url": receiver.url, "secret": SECRET},
             {"name": "wx", "url": receiver.url + "?key=k", "format": "wecom"}]
    service = _service(tmp_path, hooks, Sleeps())
    service.notify_webhooks = ["ops", "wx"]
    now = datetime(2026, 3, 1, 9)
    tickets = TicketService(service.store.engine, next_level=ChainNextLevel({"浦东店": "华东大区"}),
                            notify=service.notify, clock=lambda: now)
    ticket = tickets.open("差评跟进", "浦东店", [], sla_hours=2, actor="test")
    tickets.escalate(now + timedelta(hours=3))
    signed, robot = receiver.requests
    assert verify(SECRET, signed["headers"][TIMESTAMP_HEADER], signed["body"], signed["headers"][SIGNATURE_HEADER])
    body = json.loads(signed["body"])
    assert body["event"] == "ticket.escalated" and body["data"]["ticket_id"] == ticket.id
    assert body["data"]["to_owner"] == "华东大区"
    assert "华东大区" in json.loads(robot["body"])["markdown"]["content"]
    receiver.statuses = [500] * 10  # an unreachable receiver: the notice fails loudly, after bounded attempts
    with pytest.raises(RuntimeError, match="ops: HTTP 500"):
        service.notify({"type": "ticket.escalated", "ticket_id": 1, "title": "t", "from_owner": "a",
                        "to_owner": "b", "level": 1, "overdue_since": "x", "due_at": "y"})


def test_the_facade_sends_ticket_escalations_to_the_notify_webhooks(tmp_path: Path, receiver: Receiver) -> None:
    """Voc.tickets is wired to the alert webhooks: an escalation configured only through settings reaches
    the receiver (the service-level test above injects the notifier by hand)."""
    from datetime import datetime, timedelta

    from voc.service import Voc
    from voc.settings import VocSettings

    settings = VocSettings(home=tmp_path / "home", workers=1, ticket_escalation='{"浦东店": "华东大区"}',
                           alerts_webhooks=[{"name": "ops", "url": receiver.url, "secret": SECRET}],
                           alerts_notify_webhooks=["ops"])
    voc = Voc(settings)
    try:
        opened = datetime.now()
        ticket = voc.tickets.open("差评跟进", "浦东店", [], sla_hours=1, actor="test")
        voc.tickets.escalate(opened + timedelta(hours=2))
    finally:
        voc.close()
    (request,) = receiver.requests
    body = json.loads(request["body"])
    assert body["event"] == "ticket.escalated" and body["data"]["ticket_id"] == ticket.id
    assert body["data"]["to_owner"] == "华东大区"
