"""Issue 17, the API side: failed key checks are rate-limited per client address (23f), /docs loads
nothing from another host (23d), and the access log never records PII from a query string (16)."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from api_support import api_env
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from api import docs_pages
from api.access_log import redact_query
from api.launch import wait_until_serving


def test_failed_key_attempts_are_rate_limited_per_address(tmp_path: Path) -> None:
    with api_env(tmp_path / "home", corpus=False, api_auth_failures_per_minute=6, api_auth_failure_burst=3) as env:
        admin = env.headers("admin")
        assert env.client.get("/v1/tags", headers=admin).status_code == 200  # a key in use before the attack
        bad = {"Authorization": "Bearer voc_deadbeef_guessed-secret"}
        assert [env.client.get("/v1/tags", headers=bad).status_code for _ in range(3)] == [401, 401, 401]
        blocked = env.client.get("/v1/tags", headers=bad)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert blocked.json()["error"]["code"] == "rate_limited"
        # While blocked, no key is checked against the store, so guessing learns nothing; a key this
        # server verified moments ago keeps working, so one bad client does not lock out its neighbours.
        assert env.client.get("/v1/tags", headers=env.headers("researcher")).status_code == 429
        assert env.client.get("/v1/tags", headers=admin).status_code == 200
        assert env.client.get("/v1/tags").status_code == 401  # no key at all is not a guess


def test_failed_key_limiter_memory_is_bounded() -> None:
    from api.ratelimit import FailedAuthLimiter

    limiter = FailedAuthLimiter(per_minute=60, burst=2, max_clients=100)
    for number in range(1_000):
        limiter.record_failure(f"10.0.{number // 256}.{number % 256}")
    assert len(limiter) == 100
    limiter.record_failure("192.0.2.1")
    limiter.record_failure("192.0.2.1")
    assert limiter.wait("192.0.2.1") > 0 and limiter.wait("192.0.2.2") == 0


def test_a_full_store_answers_without_sql_or_document_text(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    """SQLite's SQLITE_FULL for real (a page limit on every store connection): neither the answer nor
    the server's log quotes the document (item 20)."""
    with api_env(tmp_path / "home", corpus=False, raise_server_exceptions=False) as env:
        engine = env.app.state.voc_api.voc.store.engine
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA max_page_count=40"))
        engine.dispose()
        text = "客户电话联系不上，地址在幸福路十八号，" * 300
        with caplog.at_level(logging.DEBUG):
            response = env.client.post("/v1/documents", headers=env.headers("admin"), json={
                "source": "review", "documents": [{"id": f"full-{n}", "text": f"{n}{text}"} for n in range(20)]})
        assert response.status_code in (500, 503), response.text
        assert "幸福路" not in response.text and "INSERT" not in response.text
        logged = "\n".join(record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
                           for record in caplog.records)
        assert "full" in logged and "幸福路" not in logged


def test_access_log_never_records_query_values(tmp_path: Path) -> None:
    """The real `voc serve` with its access log on: a search for a phone number is logged by path and
    parameter names only (item 16)."""
    environment = {**os.environ, "VOC_HOME": str(tmp_path / "home"), "VOC_WORKERS": "1"}
    voc = str(Path(sys.executable).with_name("voc"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([voc, "serve", "--port", str(port), "--access-log"], env=environment,
                                  stdout=sink, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(base, server, log=log)
            query = {"q": "张伟 13812345678", "since": "2026-01-01", "cursor": "c2VjcmV0LWN1cnNvcg"}
            assert httpx.get(f"{base}/v1/search", params=query, timeout=10).status_code == 401
            assert httpx.get(f"{base}/healthz?probe=1", timeout=10).status_code == 200
        finally:
            server.terminate()
            server.wait(timeout=30)
    written = log.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in written.splitlines() if "/v1/search" in line]
    assert lines and "401" in lines[0], written[-2000:]
    for secret in ("13812345678", "%E5%BC%A0%E4%BC%9F", "张伟", "2026-01-01", "c2VjcmV0LWN1cnNvcg"):
        assert secret not in written
    assert "q=" in lines[0] and "cursor=" in lines[0]  # which parameters were sent stays visible


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.text(min_size=3, max_size=20).filter(lambda v: v.strip("*") != ""), min_size=1, max_size=4))
def test_redacted_query_keeps_names_and_no_value(values: list[str]) -> None:
    names = [f"p{number}" for number in range(len(values))]
    path = "/v1/search?" + urlencode(list(zip(names, values, strict=True)))
    shown = redact_query(path)
    assert shown == "/v1/search?" + "&".join(f"{name}=*" for name in names)


_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|https?://[^\s"'<>]*\.(?:js|css|woff2?|png|svg)""",
                       re.IGNORECASE)


def test_no_page_the_server_sends_loads_from_another_host(tmp_path: Path) -> None:
    """/docs and /redoc served their JavaScript, CSS, fonts and favicon from CDNs (item 23d)."""
    with api_env(tmp_path / "home", corpus=False) as env:
        pages = {path: env.client.get(path) for path in ("/", "/docs", "/redoc", "/docs/oauth2-redirect")}
        assert pages["/"].status_code == 200 and pages["/docs"].status_code == 200
        assert "/openapi.json" in pages["/docs"].text
        for path, page in pages.items():
            if page.status_code == 200:
                assert not _EXTERNAL.search(page.text), (path, _EXTERNAL.search(page.text))
        # whatever the pages load comes from this server, and is there
        for asset in re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", pages["/docs"].text + pages["/redoc"].text):
            assert env.client.get(asset).status_code == 200, asset
        if importlib.util.find_spec("fastapi_offline") is not None:  # the docs extra: the full Swagger UI
            assert "swagger-ui-bundle.js" in pages["/docs"].text
            assert '"validatorUrl": null' in pages["/docs"].text  # the validator badge calls another host
        assert "default-src 'self'" in pages["/docs"].headers["content-security-policy"]


def test_without_the_docs_assets_the_pages_name_the_schema_and_load_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs_pages, "bundled_assets", lambda: None)  # as on an install without fastapi-offline
    with api_env(tmp_path / "home", corpus=False) as env:
        for path in ("/docs", "/redoc"):
            page = env.client.get(path)
            assert page.status_code == 200 and 'href="/openapi.json"' in page.text
            assert not _EXTERNAL.search(page.text) and "<script" not in page.text
