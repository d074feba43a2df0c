"""The web UI with a scoped key, in a real browser (as tests/test_ui_tickets.py): the scope is shown beside
the role, and the search page counts and lists the scope's documents only."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("the browser tests need Chromium at /usr/bin/chromium", allow_module_level=True)

from api.launch import wait_until_serving  # noqa: E402 - after the skip above

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need `pip install playwright`")

TIMEOUT_MS = 15_000
STORES = ["上海徐汇店", "上海静安店", "北京朝阳店", None]
TREE = {"root": {"name": "总部", "children": [
    {"name": "华东大区", "children": [{"name": "上海徐汇店"}, {"name": "上海静安店"}]},
    {"name": "华北大区", "children": [{"name": "北京朝阳店"}]}]}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOC_")} | {
        "VOC_HOME": str(home), "VOC_ANALYSIS_STAGES": "[]"}
    voc_bin = Path(sys.executable).with_name("voc")
    command = [str(voc_bin) if voc_bin.exists() else shutil.which("voc") or "voc", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, path="/healthz", log=home / "serve.log")
        yield {"url": url, "keys": made}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


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
