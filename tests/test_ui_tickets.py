"""The tickets inbox in a real browser: `voc serve` on a loopback port over a few stored documents and
tickets, driven by Playwright with the system Chromium (nothing is downloaded)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from ui_support import CHROMIUM, chromium, serving

if not CHROMIUM.exists():
    pytest.skip("the browser tests need Chromium at /usr/bin/chromium", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need `pip install playwright`")
TIMEOUT_MS = 15_000
SERVER_ENV = {"VOC_ANALYSIS_STAGES": "[]", "VOC_TICKET_ESCALATION": '{"北京店": "华北大区"}'}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from sqlalchemy import insert

    from api.auth import ROLES, KeyStore
    from voc.documents import Document
    from voc.service import Voc
    from voc.settings import VocSettings
    from voc.store import document_row, documents

    home = tmp_path_factory.mktemp("ui-tickets") / "home"
    voc = Voc(VocSettings(home=home, workers=1, analysis_stages=[]))
    try:
        # Stored as ingest stores it: the masked text, and an original the UI must never show.
        doc_id = "u1"
        doc = Document(id=doc_id, source="review", store="北京店", text="外卖送到都凉了，骑手电话[手机号]打不通",
                       text_original="外卖送到都凉了，骑手电话13812345678打不通（原文）")
        now = datetime.now()
        with voc.store.engine.begin() as conn:
            conn.execute(insert(documents), [document_row(doc, None, now)])
        late = voc.tickets.open("外卖超时投诉", "北京店", [doc_id], due_at=now - timedelta(hours=1), actor="ui-test")
        voc.tickets.open("包装破损", "上海店", [], sla_hours=48, actor="ui-test")
        keys = {role: KeyStore(voc.store.engine).create(role, name=f"ui {role}")[0] for role in ROLES}
    finally:
        voc.close()
    with serving(home, SERVER_ENV) as url:
        yield {"url": url, "keys": keys, "late_id": late.id}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


def _page(browser: Any, server: dict[str, Any], role: str, hash_: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(f"localStorage.setItem('voc.apiKey', {json.dumps(server['keys'][role])})")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(server["url"] + "/" + hash_)
    sync_api.expect(page.locator("#role")).to_contain_text(role)
    return page


def test_inbox_highlights_overdue_and_works_a_ticket(browser: Any, server: dict[str, Any]) -> None:
    expect = sync_api.expect
    page = _page(browser, server, "researcher", "#/tickets")
    expect(page.locator("#ticket-table tbody tr")).to_have_count(2)
    expect(page.locator("#ticket-table tr.overdue")).to_have_count(1)
    expect(page.locator("#ticket-table tr.overdue")).to_contain_text("外卖超时投诉")
    # the report: one row per owner plus the total; the overdue ticket already missed its SLA
    expect(page.locator("#ticket-report tbody tr")).to_have_count(3)
    expect(page.locator("#ticket-report tbody tr", has_text="北京店")).to_contain_text("0.0%")
    page.check("#ticket-filters input[name=overdue]")
    page.click("#ticket-filters button[type=submit]")
    expect(page.locator("#ticket-table tbody tr")).to_have_count(1)
    page.locator("#ticket-table tr.overdue a").click()
    expect(page.locator("#evidence li")).to_contain_text("外卖送到都凉了")
    assert "13812345678" not in page.content() and "原文" not in page.content()
    page.click("#status-actions button[data-status=in_progress]")
    expect(page.locator("#ticket-status")).to_contain_text("in progress")
    expect(page.locator("#status-actions button[data-status=resolved]")).to_be_visible()
    page.fill("#comment-form textarea", "已联系客户 13912345678")
    page.click("#comment-form button")
    expect(page.locator("#comments li")).to_contain_text("已联系客户")
    assert "13912345678" not in page.content()
    expect(page.locator("#audit tbody tr")).to_have_count(3)  # opened, status, comment
    assert not page.errors, page.errors
    page.context.close()


def test_a_service_key_reads_but_gets_no_buttons(browser: Any, server: dict[str, Any]) -> None:
    expect = sync_api.expect
    page = _page(browser, server, "service", f"#/tickets/{server['late_id']}")
    expect(page.locator(".ticket h2")).to_contain_text("外卖超时投诉")
    expect(page.locator("#status-actions button")).to_have_count(0)
    expect(page.locator("#comment-form")).to_have_count(0)
    assert not page.errors, page.errors
    page.context.close()
