"""The web UI in a real browser: `voc serve` on a loopback port over the demo corpus, driven by Playwright
with the system Chromium (never `playwright install`: nothing is downloaded).

Each test saves a screenshot to $VOC_UI_ARTIFACTS (default: a pytest temporary directory) for CI.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ui_support import CHROMIUM, chromium, serving

if not CHROMIUM.exists():
    pytest.skip("the browser tests need Chromium at /usr/bin/chromium (apt-get install chromium; "
                "scripts/test.sh installs it when run as root)", allow_module_level=True)
from voc.indicators.io import read_tree

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need `pip install playwright`")

TIMEOUT_MS = 15_000


@dataclass
class Server:
    url: str
    keys: dict[str, str]  # role -> key
    artifacts: Path

    def get(self, path: str, role: str = "admin", **params: Any) -> Any:
        query = f"?{urllib.parse.urlencode(params, doseq=True)}" if params else ""
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        request = urllib.request.Request(self.url + path + query, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


def _prepare(home: Path) -> dict[str, str]:
    """The demo corpus with topics, the food-delivery indicator template and suggestions; a key per role."""
    from api.auth import ROLES, KeyStore
    from voc.demo_run import run_demo
    from voc.indicators.service import IndicatorService
    from voc.service import Voc
    from voc.settings import VocSettings

    voc = Voc(VocSettings(home=home, workers=1))
    try:
        run_demo(voc, show_progress=False)
        indicators = IndicatorService(voc)
        indicators.import_template("food_delivery", author="ui-test")
        assert indicators.suggest(), "the demo corpus should yield suggestions"
        store = KeyStore(voc.store.engine)
        return {role: store.create(role, name=f"ui {role}")[0] for role in ROLES}
    finally:
        voc.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("ui") / "home"
    keys = _prepare(home)
    with serving(home) as url:
        artifacts = Path(os.environ.get("VOC_UI_ARTIFACTS") or tmp_path_factory.mktemp("ui-artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        yield Server(url, keys, artifacts)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


def open_page(browser: Any, server: Server, role: str, hash_: str = "") -> Any:
    """A page logged in with the role's key (as if typed once and kept in localStorage)."""
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(f"localStorage.setItem('voc.apiKey', {json.dumps(server.keys[role])})")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(server.url + "/" + hash_)
    sync_api.expect(page.locator("#role")).to_contain_text(role)
    return page


def shot(page: Any, server: Server, name: str) -> None:
    page.screenshot(path=str(server.artifacts / f"{name}.png"), full_page=True)
    assert not page.errors, page.errors
    page.context.close()


def test_search_with_a_filter_shows_hits_and_facet_counts(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, server, "researcher")
    expect(page.locator("#hits .hit").first).to_be_visible()
    page.keyboard.press("/")  # focuses the query box
    page.keyboard.type("快递柜")
    page.keyboard.press("Enter")
    expect(page.locator("#hits .hit em").first).to_be_visible()
    everything = server.get("/v1/search", q="快递柜", facets="sentiment", limit=1)
    negative = everything["facets"]["sentiment"]["negative"]
    facet = page.locator("[data-facet=sentiment] .facet-value", has_text="negative")
    expect(facet.locator(".count")).to_have_text(f"{negative:,}")
    facet.locator("input").check()
    expect(page.locator("#total")).to_have_text(f"{negative:,}")
    expect(page.locator("[data-facet=sentiment] .facet-value")).to_have_count(1)
    assert page.locator("#hits .hit").count() == min(negative, 20)
    expect(page.locator("#hits .hit .sent.negative")).to_have_count(min(negative, 20))
    assert "sentiment=negative" in page.url  # the filters are in the address, to share or reload
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#detail article")).to_be_visible()
    shot(page, server, "search-filter")


def test_tag_all_hits_of_a_query_then_undo(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, server, "researcher", "#/search?q=宽带&source=hotline")
    total = server.get("/v1/search", q="宽带", source="hotline", facets="none", limit=1)["total"]
    assert total > 20  # more than one page: tagging must not stop at the hits on screen
    expect(page.locator("#total")).to_have_text(f"{total:,}")
    page.fill("#tag-name", "宽带投诉")
    expect(page.locator("#tag-all")).to_contain_text(f"{total:,}")
    page.click("#tag-all")
    expect(page.locator("#confirm-text")).to_contain_text(f"全部 {total:,} 条")
    page.click("#confirm-ok")
    expect(page.locator("#notice")).to_contain_text(f"已为 {total:,} 条添加标签「宽带投诉」")
    tags = {t["tag"]: t["count"] for t in server.get("/v1/tags")["tags"]}
    assert tags["宽带投诉"] == total
    expect(page.locator("#hits .hit .tag", has_text="宽带投诉")).to_have_count(20)
    page.screenshot(path=str(server.artifacts / "tag-all.png"), full_page=True)
    page.click("#undo")
    expect(page.locator("#notice")).to_contain_text(f"从 {total:,} 条移除标签")
    tags = {t["tag"]: t["count"] for t in server.get("/v1/tags")["tags"]}
    assert "宽带投诉" not in tags
    shot(page, server, "tag-undo")


def test_topic_list_and_page(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, server, "researcher", "#/topics")
    topics = server.get("/v1/topics")["topics"]
    expect(page.locator("#topic-table tbody tr")).to_have_count(len(topics))
    expect(page.locator("#topic-table .trend svg.spark polyline")).to_have_count(len(topics))
    emerging = server.get("/v1/topics/emerging")["emerging"]
    expect(page.locator("#topic-table tr.emerging")).to_have_count(len(emerging))
    page.screenshot(path=str(server.artifacts / "topics.png"), full_page=True)
    page.locator("#topic-table tbody tr a").first.click()
    expect(page.locator(".topic h2")).to_contain_text(topics[0]["label"])
    expect(page.locator(".topic .quotes li")).to_have_count(len(topics[0]["quotes"]))
    expect(page.locator(".topic svg.spark")).to_be_visible()
    expect(page.locator(".topic svg.chart rect.all").first).to_be_attached()
    shot(page, server, "topic")


def test_review_a_suggestion(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, server, "designer", "#/indicators")
    expect(page.locator("#tree-version")).to_have_text("v1")
    expect(page.locator("#tree .node").first).to_be_visible()
    card = page.locator(".suggestion.pending").first
    name = card.locator("h3").inner_text().split()[0]
    reject = card.locator("button[value=reject]")
    reject.click()  # a rejection without a reason is refused, readably
    expect(page.locator("#error")).to_contain_text("reason")
    card.locator("textarea").fill("顾客反复提到，问卷没有覆盖")
    card.locator("button[value=accept]").click()
    done = page.locator(".suggestion.accepted").first
    expect(done.locator(".status")).to_have_text("已采纳 accepted")
    expect(done).to_contain_text("顾客反复提到，问卷没有覆盖")
    expect(page.locator("#notice")).to_contain_text("v2")
    expect(page.locator("#tree-version")).to_have_text("v2")
    expect(page.locator("#versions li")).to_have_count(2)
    expect(page.locator("#tree .node .name", has_text=name).first).to_be_visible()
    assert server.get("/v1/indicators")["version"] == 2
    page.locator("#versions button", has_text="v2").click()
    expect(page.locator("#diff .add")).to_contain_text(name)
    with page.expect_download() as info:  # the tree as the designer sees it, as a spreadsheet
        page.locator("#export button[value=xlsx]").click()
    saved = server.artifacts / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == "indicators-v2.xlsx"
    assert name in {located.node.name for located in read_tree(saved).walk()}
    shot(page, server, "review")


def test_roles_hide_what_they_cannot_do(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, server, "service", "#/search?q=快递")
    expect(page.locator("#hits .hit").first).to_be_visible()
    expect(page.locator("#tag-all")).to_have_count(0)
    page.goto(server.url + "/#/indicators")
    expect(page.locator(".suggestion").first).to_be_visible()
    expect(page.locator(".suggestion form.review")).to_have_count(0)
    page.locator("#change-key").click()
    page.fill("#key-input", "voc_deadbeef_not-a-key")
    page.locator("#key-form button").click()
    expect(page.locator("#key-error")).to_contain_text("401 unauthorized")
    shot(page, server, "roles")


def test_preview_a_rule(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, server, "researcher", "#/indicators")
    form = page.locator("form.rule-preview")
    form.locator("textarea").fill("外卖 OR NEG(满意)")
    form.locator("button[type=submit]").click()
    expect(form.locator(".rule-summary")).to_contain_text("documents match")
    marked = form.locator(".rule-sample mark").first
    expect(marked).to_be_visible()
    assert marked.inner_text() and ("外卖" in marked.inner_text() or "满意" in marked.inner_text())
    form.locator("textarea").fill("外卖 AND")
    form.locator("button[type=submit]").click()
    expect(form.locator(".rule-error")).to_contain_text("needs a word")
    expect(form.locator(".rule-sample li")).to_have_count(0)
    shot(page, server, "rule-preview")


def test_document_view_marks_aspect_terms_and_opinions(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    hits = server.get("/v1/search", q="快递", facets="none", limit=20)["hits"]
    hit = next(h for h in hits if any(a["term"] for a in h["aspects"]))
    page = open_page(browser, server, "researcher", "#/search?q=快递")
    page.locator(f'#hits .hit[data-id="{hit["id"]}"] .body').click()
    term = page.locator("#detail .aspect-text mark.aspect-term").first
    expect(term).to_be_visible()
    aspect = next(a for a in hit["aspects"] if a["term"])
    expect(page.locator("#detail .aspect-text mark.aspect-term", has_text=aspect["term"]).first).to_be_visible()
    assert "confidence" in (term.get_attribute("title") or "")
    expect(page.locator("#detail .aspect-text mark.aspect-opinion").first).to_be_attached()
    assert page.locator("#detail .aspect-text").text_content() == hit["text"]  # marks add no text
    expect(page.locator("#detail table.aspects tbody tr")).to_have_count(len(hit["aspects"]))
    shot(page, server, "aspects")


def test_export_button_downloads_the_current_query_as_csv(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, server, "researcher", "#/search?q=快递柜&sentiment=negative")
    expect(page.locator("#hits .hit em").first).to_be_visible()
    total = server.get("/v1/search", q="快递柜", sentiment="negative", facets="none", limit=1)["total"]
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    import csv
    import io

    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "id" and len(rows) - 1 == total and {r[rows[0].index("sentiment")] for r in rows[1:]} == {
        "negative"}
    shot(page, server, "search-export")


def test_data_without_time_hides_the_date_filter_and_says_why(browser: Any, server: Server) -> None:
    """As if every document came from a file without a time column (the server says dated=false and
    empty trends); the page says what is missing instead of an empty chart or a useless date box."""
    expect = sync_api.expect
    page = open_page(browser, server, "researcher")

    def undated(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        if "dated" in body:
            body["dated"] = False
        if "trend" in body:
            body["trend"] = []
        route.fulfill(response=response, json=body)

    page.route("**/v1/search?*", undated)
    page.route(re.compile(r"/v1/topics/\d+$"), undated)
    page.goto(server.url + "/#/search?q=快递")
    expect(page.locator("#no-dates")).to_be_visible()
    expect(page.locator("#since")).to_have_count(0)
    topic = server.get("/v1/topics")["topics"][0]["id"]
    page.evaluate(f"location.hash = '#/topics/{topic}'")
    expect(page.locator(f"section.topic[data-topic='{topic}']")).to_be_visible()
    expect(page.locator("#no-time")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(0)
    shot(page, server, "no-time")


def test_alerts_view_shows_the_planted_alert_its_evidence_and_ticket(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    [alert] = server.get("/v1/alerts")["alerts"]  # the demo's planted low-score survey
    page = open_page(browser, server, "researcher", "#/alerts")
    item = page.locator(f"#alert-list li[data-alert='{alert['id']}']")
    expect(item).to_contain_text("惠万家浦东张江店")
    expect(item.locator(".quotes li")).to_have_text(alert["snippets"])
    expect(item.locator(f"a[href='#/tickets/{alert['ticket_id']}']")).to_be_visible()
    expect(page.locator("#rule-table tbody tr")).to_have_count(len(server.get("/v1/alerts/rules")["rules"]))
    expect(page.locator("#delivery-table")).to_have_count(0)  # the delivery log is for admins
    shot(page, server, "alerts")
    admin = open_page(browser, server, "admin", "#/alerts")
    expect(admin.locator("#delivery-table")).to_be_visible()
    admin.locator(f"#alert-list li[data-alert='{alert['id']}'] button[data-status='acknowledged']").click()
    expect(admin.locator(f"#alert-list li[data-alert='{alert['id']}'] .badge")).to_contain_text("acknowledged")
    assert server.get(f"/v1/alerts/{alert['id']}")["status"] == "acknowledged"
    shot(admin, server, "alerts-admin")


def test_drivers_chart_has_a_bar_and_whiskers_per_theme(browser: Any, server: Server) -> None:
    expect = sync_api.expect
    expected = server.get("/v1/drivers", source="survey")
    bars = [d for d in expected["drivers"] if d["impact"] is not None][:20]
    assert bars, "the demo surveys should have themes with an impact"
    page = open_page(browser, server, "researcher", "#/drivers?source=survey")
    expect(page.locator("#drivers-overall")).to_contain_text(f"{expected['overall']['value']:.1f}")
    expect(page.locator("#drivers-chart g.driver")).to_have_count(len(bars))
    expect(page.locator("#drivers-chart g.driver.cost")).to_have_count(sum(d["impact"] < 0 for d in bars))
    expect(page.locator("#drivers-chart line.whisker")).to_have_count(3 * len(bars))
    # each bar ends inside its whisker (the interval holds the estimate), drawn to one scale
    inside = page.evaluate("""() => [...document.querySelectorAll('#drivers-chart g.driver')].map((g) => {
        const r = g.querySelector('rect'), w = g.querySelector('line.whisker');
        const x = +r.getAttribute('x'), end = g.classList.contains('cost') ? x : x + +r.getAttribute('width');
        return +w.getAttribute('x1') - 1.1 <= end && end <= +w.getAttribute('x2') + 1.1; })""")  # bars are >= 1 px
    assert inside == [True] * len(bars)
    expect(page.locator("#key-drivers tbody tr")).to_have_count(len(expected["key_drivers"]["themes"]))
    shot(page, server, "drivers")
    calls = open_page(browser, server, "researcher", "#/drivers?source=hotline")
    expect(calls.locator("#drivers-message")).to_contain_text("hotline calls neither")
    expect(calls.locator("#drivers-chart")).to_have_count(0)
    shot(calls, server, "drivers-hotline")
