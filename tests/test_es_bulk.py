"""Bulk writes against a tiny fault-injecting HTTP server: retries, backoff, sizing, error report, secrets.

No Elasticsearch node is needed: the server speaks just enough of the bulk API for the real client.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from indexing.es_bulk import BulkWriter, Connection, EsUnavailable, RetryPolicy, call, encode_action

SECRET = "s3cr3t-PW-do-not-print"
API_KEY = "QVBJLWtleS1kby1ub3QtcHJpbnQ="

Reply = tuple[int, dict[str, Any]] | None  # None: drop the connection without answering


class FakeEs:
    """Answers each request with the next scripted reply; records what it received."""

    def __init__(self, script: Callable[[int, list[dict[str, Any]]], Reply]) -> None:
        self.script = script
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                actions = [json.loads(line) for line in body.splitlines()[::2] if line.strip()]
                reply = fake.script(len(fake.requests), actions)
                if reply is None:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, payload = reply
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _reply

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok_items(actions: list[dict[str, Any]], overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    items = []
    for action in actions:
        (kind, meta), = action.items()
        items.append({kind: (overrides or {}).get(meta["_id"], {"_id": meta["_id"], "status": 201,
                                                               "result": "created"})})
    return {"took": 1, "errors": bool(overrides), "items": items}


def error(status: int, kind: str) -> dict[str, Any]:
    return {"error": {"type": kind, "reason": f"{kind} happened"}, "status": status}


@pytest.fixture
def fake() -> Iterator[Callable[..., FakeEs]]:
    servers: list[FakeEs] = []

    def start(script: Callable[[int, list[dict[str, Any]]], Reply]) -> FakeEs:
        servers.append(FakeEs(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def writer_for(server: FakeEs, *, max_bytes: int = 5_000_000, attempts: int = 6,
               **auth: Any) -> tuple[BulkWriter, Sleeps]:
    sleeps = Sleeps()
    connection = Connection.from_url(server.url, **auth)
    policy = RetryPolicy(max_attempts=attempts, base_delay=0.5, max_delay=4, sleep=sleeps)
    return BulkWriter(connection.client(), connection, policy, max_bytes=max_bytes), sleeps


def docs(n: int, size: int = 10) -> list[tuple[str, bytes]]:
    return [(f"doc{i}", encode_action("index", f"doc{i}", {"text": "评" * size, "n": i})) for i in range(n)]


def test_429_and_503_are_retried_with_exponential_backoff(fake: Callable[..., FakeEs]) -> None:
    server = fake(lambda n, actions: (429, error(429, "es_rejected_execution_exception")) if n == 1
                  else (503, error(503, "unavailable_shards_exception")) if n == 2 else (200, ok_items(actions)))
    writer, sleeps = writer_for(server)
    outcome = writer.send("voc", docs(5))
    assert outcome.ok == [f"doc{i}" for i in range(5)] and not outcome.errors
    assert outcome.requests == 1 and len(server.requests) == 3  # the whole request was resent twice
    assert len(sleeps) == 2 and 0.4 <= sleeps[0] <= 0.6 and 0.8 <= sleeps[1] <= 1.2


def test_dropped_connections_are_retried(fake: Callable[..., FakeEs]) -> None:
    server = fake(lambda n, actions: None if n <= 2 else (200, ok_items(actions)))
    writer, sleeps = writer_for(server)
    assert len(writer.send("voc", docs(3)).ok) == 3
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_rejected_items_are_retried_alone_and_bad_documents_reported(fake: Callable[..., FakeEs]) -> None:
    def script(n: int, actions: list[dict[str, Any]]) -> Reply:
        if n == 1:
            return 200, ok_items(actions, {
                "doc1": {"_id": "doc1", **error(429, "es_rejected_execution_exception")},
                "doc3": {"_id": "doc3", "status": 400, "error": {
                    "type": "document_parsing_exception", "reason": "[1:20] failed to parse field [created_at]",
                    "caused_by": {"type": "illegal_argument_exception", "reason": "bad date"}}},
            })
        return 200, ok_items(actions)

    server = fake(script)
    writer, sleeps = writer_for(server)
    outcome = writer.send("voc", docs(5))
    assert sorted(outcome.ok) == ["doc0", "doc1", "doc2", "doc4"]
    assert outcome.errors == {"doc3": "document_parsing_exception: [1:20] failed to parse field [created_at]"
                                      " (bad date)"}
    resent = [json.loads(line) for line in server.requests[1][2].splitlines()[::2]]
    assert [a["index"]["_id"] for a in resent] == ["doc1"]  # only the rejected item went again
    assert len(sleeps) == 1


def test_items_still_rejected_after_every_attempt_are_reported(fake: Callable[..., FakeEs]) -> None:
    server = fake(lambda n, actions: (200, ok_items(actions, {
        "doc0": {"_id": "doc0", **error(429, "es_rejected_execution_exception")}})))
    writer, _ = writer_for(server, attempts=3)
    outcome = writer.send("voc", docs(2))
    assert outcome.ok == ["doc1"] and list(outcome.errors) == ["doc0"]
    assert "es_rejected_execution_exception" in outcome.errors["doc0"] and len(server.requests) == 3


def test_requests_are_sized_by_bytes(fake: Callable[..., FakeEs]) -> None:
    server = fake(lambda n, actions: (200, ok_items(actions)))
    writer, _ = writer_for(server, max_bytes=2_000)
    items = docs(40, size=40)  # about 180 bytes each
    outcome = writer.send("voc", items)
    bodies = [body for path, _, body in server.requests]
    assert all(path.startswith("/voc/_bulk") for path, _, _ in server.requests)
    assert len(bodies) >= 4 and all(len(body) <= 2_000 for body in bodies)
    sent = [json.loads(line)["index"]["_id"] for body in bodies for line in body.splitlines()[::2]]
    assert sent == [doc_id for doc_id, _ in items] == outcome.ok  # each once, in order
    huge = [("big", encode_action("index", "big", {"text": "长" * 3_000}))]
    assert writer.send("voc", huge).ok == ["big"]  # a document larger than the limit still goes, alone


def test_non_retryable_errors_fail_at_once(fake: Callable[..., FakeEs]) -> None:
    server = fake(lambda n, actions: (400, error(400, "illegal_argument_exception")))
    writer, sleeps = writer_for(server)
    with pytest.raises(EsUnavailable, match="illegal_argument_exception"):
        writer.send("voc", docs(1))
    assert len(server.requests) == 1 and not sleeps


def test_credentials_never_reach_errors_or_logs(fake: Callable[..., FakeEs], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = fake(lambda n, actions: (503, error(503, "unavailable")) if n == 1 else (401, error(401, "security")))
    # Credentials in the URL are lifted into basic auth, so no error can echo the URL with them.
    writer, _ = writer_for(server, attempts=3, username=None)
    writer.connection = Connection.from_url(server.url.replace("http://", f"http://elastic:{SECRET}@"))
    writer.client = writer.connection.client()
    with pytest.raises(EsUnavailable) as raised:
        writer.send("voc", docs(1))
    auth_header = server.requests[-1][1].get("authorization", "")
    assert auth_header.startswith("Basic ")  # the credentials were used...
    encoded = auth_header.split()[1]
    text = f"{raised.value} {raised.value!r} {writer.connection!r} {caplog.text}"
    assert "rejected the credentials" in str(raised.value)
    assert SECRET not in text and encoded not in text  # ...and never shown
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_unreachable_node_error_has_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for connection in (Connection.from_url(f"http://elastic:{SECRET}@127.0.0.1:9"),
                       Connection.from_url("http://127.0.0.1:9", api_key=API_KEY)):
        client = connection.client()
        policy = RetryPolicy(max_attempts=2, base_delay=0.01)
        with pytest.raises(EsUnavailable) as raised:
            call(lambda client=client: client.cluster.health(), connection, policy)
        text = f"{raised.value} {raised.value!r} {connection!r} {caplog.text}"
        assert "cannot reach Elasticsearch at http://127.0.0.1:9" in str(raised.value)
        assert SECRET not in text and API_KEY not in text


def test_connection_moves_url_credentials_into_basic_auth() -> None:
    connection = Connection.from_url("https://user%40corp:p%3Ass@es.example.com:9243/")
    assert connection.url == "https://es.example.com:9243"
    assert (connection.username, connection.password) == ("user@corp", "p:ss")
    assert "p:ss" not in repr(connection)


def test_api_keys_are_sent_as_apikey_authorization(fake: Callable[..., FakeEs]) -> None:
    server = fake(lambda n, actions: (200, ok_items(actions)))
    writer, _ = writer_for(server, api_key=API_KEY)
    writer.send("voc", docs(1))
    assert server.requests[0][1]["authorization"] == f"ApiKey {API_KEY}"
    assert API_KEY not in repr(writer.connection)
