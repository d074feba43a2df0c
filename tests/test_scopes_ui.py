"""The web UI with a scoped key, in a real browser (as tests/test_ui_tickets.py): the scope is shown beside
the role, and the search page counts and lists the scope's documents only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from ui_support import CHROMIUM, chromium, serving

if not CHROMIUM.exists():
    pytest.skip("the browser tests need Chromium at /usr/bin/chromium", allow_module_level=True)


sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need `pip install playwright`")

TIMEOUT_MS = 15_000
STORES = ["上海徐汇店", "上海静安店", "北京朝阳店", None]
TREE = {"root": {"name": "总部", "children": [
    {"name": "华东大区", "children": [{"name": "上海徐汇店"}, {"name": "上海静安店"}]},
    {"name": "华北大区", "children": [{"name": "北京朝阳店"}]}]}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from sqlalchemy import insert

    from api.auth import KeyStore
    from voc.documents import Document
    from voc.scopes import OrgStore, parse_tree
    from voc.service import Voc
    from voc.settings import VocSettings
    from voc.store import document_row, documents

    home = tmp_path_factory.mktemp("ui-scopes") / "home"
    voc = Voc(VocSettings(home=home, workers=1, analysis_stages=[]))
    try:
        now = datetime.now()
        docs = [Document(id=f"u{n}", source="review", store=STORES[n % 4], text=f"第{n}条反馈，配送很慢",
                         text_original=f"第{n}条反馈，配送很慢", tokens=["配送", "很", "慢"]) for n in range(12)]
        with voc.store.engine.begin() as conn:
            conn.execute(insert(documents), [document_row(doc, None, now) for doc in docs])
        voc.sync_index()
        OrgStore(voc.store.engine).save(parse_tree(TREE), author="ui-test")
        keys = KeyStore(voc.store.engine)
        made = {"region": keys.create("researcher", name="华东", scope=["华东大区"])[0],
                "top": keys.create("researcher", name="总部")[0]}
    finally:
        voc.close()
    with serving(home, {"VOC_ANALYSIS_STAGES": "[]"}) as url:
        yield {"url": url, "keys": made}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


@pytest.mark.parametrize(("who", "badge", "total"), [("region", "范围 华东大区", 6), ("top", "范围 全部", 12)])
def test_the_scope_is_shown_and_search_counts_it(browser: Any, server: dict[str, Any], who: str, badge: str,
                                                 total: int) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(f"localStorage.setItem('voc.apiKey', {json.dumps(server['keys'][who])})")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server["url"] + "/#/search")
    sync_api.expect(page.locator("#role")).to_contain_text("researcher")
    sync_api.expect(page.locator("#scope")).to_have_text(badge)
    sync_api.expect(page.locator("#total")).to_have_text(str(total))
    assert not errors
    context.close()
