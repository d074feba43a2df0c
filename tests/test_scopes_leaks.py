"""Scoped keys see exactly their part of the organisation: a store, a region, or (at the top) everything,
unassigned documents included. Every document route is asked, with crafted queries, filters naming other
stores, forged cursors and tag attempts outside; the answer is counted against the store (SQL), and the
same suite runs on Elasticsearch when a node answers (as tests/test_es_api.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiEnv, api_env
from sqlalchemy import select

from indexing.base import encode_cursor
from indexing.es_testing import node_connection, unique_prefix
from voc.scopes import OrgStore, parse_tree
from voc.store import documents, metadata

connection, why_not = node_connection()

TREE = {"name": "连锁", "field": "store", "root": {"name": "总部", "kind": "head_office", "children": [
    {"name": "华东大区", "kind": "region", "children": [
        {"name": "上海徐汇店", "kind": "store"},
        {"name": "上海静安店", "kind": "store", "values": ["上海静安店", "静安旗舰店"]}]},
    {"name": "华北大区", "kind": "region", "children": [{"name": "北京朝阳店", "kind": "store"}]}]}}

STORES = ["上海徐汇店", "上海静安店", "静安旗舰店", "北京朝阳店", "未登记店", None]
PHRASES = ["快递太慢了，客服态度差", "包装很好，物流也快", "味道一般，送到都凉了", "价格实惠，下次还来"]
SCOPES = {"store": ["上海徐汇店"], "region": ["华东大区"], "two": ["上海徐汇店", "北京朝阳店"], "top": ["总部"],
          "line": ["华东大区", "channel=app"]}  # a node AND a business line
VISIBLE = {"store": {"上海徐汇店"}, "region": {"上海徐汇店", "上海静安店", "静安旗舰店"},
           "two": {"上海徐汇店", "北京朝阳店"}, "top": None, "line": {"上海徐汇店", "上海静安店", "静安旗舰店"}}
CHANNEL = {"line": "app"}  # the business line a scope adds


def corpus() -> list[dict[str, Any]]:
    docs = []
    for n in range(36):
        store = STORES[n % len(STORES)]
        doc: dict[str, Any] = {"id": f"s{n}", "text": f"{PHRASES[n % 4]}，第{n}单", "time": f"2026-03-{n % 28 + 1:02d}",
                               "channel": "app" if n % 2 else "web"}
        if store:
            doc["store"] = store
        docs.append(doc)
    return docs


def _es_settings() -> dict[str, Any]:
    assert connection is not None
    values: dict[str, Any] = {"index": "elasticsearch", "es_url": connection.url, "es_index_prefix": unique_prefix()}
    if connection.username:
        values |= {"es_username": connection.username, "es_password": connection.password}
    if connection.api_key:
        values["es_api_key"] = connection.api_key
    return values


@pytest.fixture(scope="module", params=["embedded", pytest.param("elasticsearch", marks=pytest.mark.skipif(
    connection is None, reason=why_not))])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    overrides = _es_settings() if request.param == "elasticsearch" else {}
    with api_env(tmp_path_factory.mktemp("scopes") / "home", corpus=False, **overrides) as env:
        state = env.app.state.voc_api
        import voc.alerts.tables  # noqa: F401 - ingest runs alert rules: their tables, as a used store has them

        metadata.create_all(state.voc.store.engine)
        env.ingest(corpus())
        OrgStore(state.voc.store.engine).save(parse_tree(TREE), author="test")
        for name, nodes in SCOPES.items():
            env.keys[name] = state.keys.create("researcher", name=name, scope=nodes)[0]
        env.keys["scoped-admin"] = state.keys.create("admin", name="scoped admin", scope=["上海徐汇店"])[0]
        try:
            yield env
        finally:
            if request.param == "elasticsearch":
                state.voc.index.drop()


def expected_ids(env: ApiEnv, scope: str) -> set[str]:
    """From the store, not the index: the documents whose store the scope's subtree lists."""
    allowed, channel = VISIBLE[scope], CHANNEL.get(scope)
    with env.app.state.voc_api.voc.store.engine.connect() as conn:
        rows = conn.execute(select(documents.c.id, documents.c.store, documents.c.channel)).all()
    return {doc_id for doc_id, store, on in rows
            if (allowed is None or store in allowed) and (channel is None or on == channel)}


def walk(env: ApiEnv, scope: str, params: dict[str, Any]) -> tuple[int, set[str]]:
    """Every hit of a search, page by page with cursors; the first page's total."""
    headers = env.headers(scope)
    first = env.client.get("/v1/search", params={**params, "limit": 7}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    seen = [hit["id"] for hit in body["hits"]]
    while body["next_cursor"]:
        body = env.client.get("/v1/search", params={**params, "limit": 7, "cursor": body["next_cursor"]},
                              headers=headers).json()
        seen += [hit["id"] for hit in body["hits"]]
    assert len(seen) == len(set(seen))
    return first.json()["total"], set(seen)


@pytest.mark.parametrize("scope", list(SCOPES))
def test_search_returns_exactly_the_subtree(env: ApiEnv, scope: str) -> None:
    expected = expected_ids(env, scope)
    assert (expected and len(expected) < 36) or scope == "top"
    total, seen = walk(env, scope, {})
    assert (total, seen) == (len(expected), expected)
    # words, and field syntax typed into q, match within the scope only
    word = "物流" if scope == "line" else "快递"  # the line's documents (odd ones) never say 快递
    total, seen = walk(env, scope, {"q": word})
    assert seen and seen <= expected and total == len(seen)
    assert walk(env, scope, {"q": "store:北京朝阳店"})[1] <= expected


@pytest.mark.parametrize("scope", ["store", "region", "two"])
def test_filters_and_facets_cannot_reach_outside(env: ApiEnv, scope: str) -> None:
    expected = expected_ids(env, scope)
    headers = env.headers(scope)
    outside = [s for s in STORES if s and s not in VISIBLE[scope]]
    for store in outside:
        body = env.client.get("/v1/search", params={"store": store}, headers=headers).json()
        assert (body["total"], body["hits"]) == (0, [])
        assert all(not counts for counts in body["facets"].values())
    # a filter naming an inside and an outside store: the inside one only
    mixed = env.client.get("/v1/search", params={"store": ["上海徐汇店", *outside], "limit": 200},
                           headers=headers).json()
    assert {hit["store"] for hit in mixed["hits"]} == {"上海徐汇店"}
    body = env.client.get("/v1/search", params={"facets": ["store", "channel", "tags"], "limit": 1},
                          headers=headers).json()
    assert set(body["facets"]["store"]) == VISIBLE[scope] & set(STORES)
    assert sum(body["facets"]["store"].values()) == len(expected) == body["total"]
    assert sum(body["facets"]["channel"].values()) == len(expected)


def test_unassigned_documents_only_at_the_top(env: ApiEnv) -> None:
    with env.app.state.voc_api.voc.store.engine.connect() as conn:
        unassigned = set(conn.scalars(select(documents.c.id).where(
            (documents.c.store == "未登记店") | documents.c.store.is_(None))))
    assert len(unassigned) == 12
    assert unassigned <= walk(env, "top", {})[1]
    for scope in ("store", "region", "two"):
        assert not unassigned & walk(env, scope, {})[1]
    top = env.client.get("/v1/search", params={"facets": "store"}, headers=env.headers("top")).json()
    assert "未登记店" in top["facets"]["store"]


def test_forged_cursors_stay_inside(env: ApiEnv) -> None:
    expected = expected_ids(env, "store")
    # a cursor issued to the top key, deep into documents the store key must not see
    top = env.client.get("/v1/search", params={"sort": "newest", "limit": 3}, headers=env.headers("top")).json()
    forged = [top["next_cursor"], encode_cursor([0, "s0"]), encode_cursor([9e18, "zzz"])]
    for cursor in forged:
        response = env.client.get("/v1/search", params={"sort": "newest", "limit": 50, "cursor": cursor},
                                  headers=env.headers("store"))
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:
            assert {hit["id"] for hit in response.json()["hits"]} <= expected


def test_documents_outside_are_not_found(env: ApiEnv) -> None:
    inside = sorted(expected_ids(env, "store"))[0]
    outside = sorted(expected_ids(env, "top") - expected_ids(env, "store"))
    assert env.client.get(f"/v1/documents/{inside}", headers=env.headers("store")).status_code == 200
    for doc_id in outside[:6]:
        response = env.client.get(f"/v1/documents/{doc_id}", headers=env.headers("store"))
        assert response.status_code == 404, response.text
        assert env.client.get(f"/v1/documents/{doc_id}", headers=env.headers("top")).status_code == 200


def _tags_of(env: ApiEnv, tag: str) -> set[str]:
    from voc.store import tags

    with env.app.state.voc_api.voc.store.engine.connect() as conn:
        return set(conn.scalars(select(tags.c.document_id).where(tags.c.tag == tag)))


def test_tags_by_id_and_by_query_stay_inside(env: ApiEnv) -> None:
    inside = expected_ids(env, "region")
    outside = sorted(expected_ids(env, "top") - inside)
    headers = env.headers("region")
    some_inside = sorted(inside)[:2]
    body = env.client.post("/v1/tags/apply", json={"tag": "越界", "ids": [*some_inside, *outside[:3]]},
                           headers=headers).json()
    assert body["changed"] == 2 and set(body["ignored"]) == set(outside[:3])
    assert _tags_of(env, "越界") == set(some_inside)
    # by query: a filter naming an outside store, then words matching everywhere
    body = env.client.post("/v1/tags/apply", json={"tag": "越界2", "query": {"store": ["北京朝阳店"]}},
                           headers=headers).json()
    assert body["changed"] == 0 and not _tags_of(env, "越界2")
    body = env.client.post("/v1/tags/apply", json={"tag": "越界3", "query": {"q": "快递"}}, headers=headers).json()
    assert body["changed"] > 0 and _tags_of(env, "越界3") <= inside
    # removing by id outside changes nothing there
    env.client.post("/v1/tags/apply", json={"tag": "总部标", "ids": outside[:2]}, headers=env.headers("top"))
    body = env.client.post("/v1/tags/remove", json={"tag": "总部标", "ids": outside[:2]}, headers=headers).json()
    assert body["changed"] == 0 and _tags_of(env, "总部标") == set(outside[:2])
    # the tag list counts only the scope's documents
    listed = {t["tag"]: t["count"] for t in env.client.get("/v1/tags", headers=headers).json()["tags"]}
    assert "总部标" not in listed and listed.get("越界") == 2
    found = env.client.get("/v1/search", params={"tag": "总部标"}, headers=headers).json()
    assert found["total"] == 0


def test_export_holds_the_subtree_only(env: ApiEnv) -> None:
    expected = expected_ids(env, "region")
    response = env.client.get("/v1/export", params={"columns": ["id", "store"], "store": ["北京朝阳店", "上海徐汇店"]},
                              headers=env.headers("region"))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows and {row["store"] for row in rows} == {"上海徐汇店"} and {row["id"] for row in rows} <= expected
    response = env.client.get("/v1/export", params={"columns": ["id"]}, headers=env.headers("region"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row["id"] for row in rows} == expected


def test_me_shows_the_scope_and_writes_outside_are_refused(env: ApiEnv) -> None:
    me = env.client.get("/v1/me", headers=env.headers("region")).json()
    assert me["scope"] == ["华东大区"]
    assert env.client.get("/v1/me", headers=env.headers("admin")).json()["scope"] == []
    # a scoped admin ingests only inside its scope
    batch = {"source": "review", "documents": [
        {"id": "new-in", "text": "徐汇店新的反馈，服务不错", "store": "上海徐汇店"},
        {"id": "new-out", "text": "朝阳店新的反馈，服务不错", "store": "北京朝阳店"}]}
    body = env.client.post("/v1/documents", headers=env.headers("scoped-admin"), json=batch).json()
    assert [item["status"] for item in body["items"]] == ["accepted", "rejected"]
    assert "scope" in body["items"][1]["reason"]
    with env.app.state.voc_api.voc.store.engine.connect() as conn:
        stored = set(conn.scalars(select(documents.c.store).where(documents.c.text.like("%新的反馈%"))))
    assert stored == {"上海徐汇店"}


def test_jobs_of_others_are_not_found_for_a_scoped_admin(env: ApiEnv) -> None:
    job = env.app.state.voc_api.jobs.submit("test", "someone-else", lambda progress: {})
    job_id = job if isinstance(job, str) else job.id
    assert env.client.get(f"/v1/jobs/{job_id}", headers=env.headers("admin")).status_code == 200
    assert env.client.get(f"/v1/jobs/{job_id}", headers=env.headers("scoped-admin")).status_code == 404


def test_cli_search_and_export_honour_a_scope(env: ApiEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from voc.cli.main import app

    settings = env.app.state.voc_api.settings
    monkeypatch.setenv("VOC_HOME", str(settings.home))
    for name in ("index", "es_url", "es_index_prefix", "es_username", "es_password", "es_api_key"):
        value = getattr(settings, name, None)
        if value is not None:
            monkeypatch.setenv(f"VOC_{name.upper()}", str(value.get_secret_value() if hasattr(
                value, "get_secret_value") else value))
    runner = CliRunner()
    result = runner.invoke(app, ["search", "--scope", "华东大区", "--limit", "1000", "--json"])
    assert result.exit_code == 0, result.output
    assert {hit["id"] for hit in json.loads(result.stdout)["hits"]} == expected_ids(env, "region")
    monkeypatch.setenv("VOC_SCOPE", "上海徐汇店")
    out = tmp_path / "x.csv"
    result = runner.invoke(app, ["export", "-o", str(out), "--columns", "id,store"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert {row["id"] for row in rows} == expected_ids(env, "store")
    result = runner.invoke(app, ["search", "--scope", "火星店"])
    assert result.exit_code == 2 and "火星店" in result.output


def _topics_over(env: ApiEnv) -> dict[str, Any]:
    """Two topics written as a build would (sizes and quotes over the whole corpus), each document in one."""
    from sqlalchemy import update

    from voc.topics.store import topics_table

    engine = env.app.state.voc_api.voc.store.engine
    with engine.begin() as conn:
        rows = conn.execute(select(documents.c.id, documents.c.text, documents.c.store).order_by(documents.c.id)).all()
        if conn.execute(select(topics_table.c.id)).first() is None:
            for doc_id, doc_text, _ in rows:
                topic = 1 if "快递" in doc_text or "物流" in doc_text else 2
                conn.execute(update(documents).where(documents.c.id == doc_id).values(topic_id=topic))
            for topic in (1, 2):
                quotes = [t for _, t, _ in rows if ("快递" in t or "物流" in t) == (topic == 1)]
                conn.execute(topics_table.insert().values(
                    id=topic, label=f"话题{topic}", keywords=["快递"], size=len(quotes), negative_share=0.0,
                    quotes=quotes, status="active", first_build=1, last_build=1))
    return {doc_id: (doc_text, store) for doc_id, doc_text, store in rows}


def test_topics_are_counted_and_quoted_within_the_scope(env: ApiEnv) -> None:
    docs = _topics_over(env)
    expected = expected_ids(env, "store")
    inside_texts = {docs[d][0] for d in expected}
    listed = env.client.get("/v1/topics", headers=env.headers("store")).json()["topics"]
    everyone = env.client.get("/v1/topics", headers=env.headers("top")).json()["topics"]
    assert sum(t["size"] for t in everyone) == len(docs)
    assert sum(t["size"] for t in listed) == len(expected)
    for topic in listed:
        assert topic["quotes"] and set(topic["quotes"]) <= inside_texts
        detail = env.client.get(f"/v1/topics/{topic['id']}", headers=env.headers("store")).json()
        with env.app.state.voc_api.voc.store.engine.connect() as conn:
            dated = set(conn.scalars(select(documents.c.id).where(documents.c.topic_id == topic["id"],
                                                                  documents.c.created_at.is_not(None))))
        assert sum(point["count"] for point in detail["trend"]) == len(dated & expected) > 0


def test_indicator_coverage_counts_the_scope(env: ApiEnv) -> None:
    from test_api_roles import TREE as INDICATORS

    service = env.app.state.voc_api.voc.indicators
    if service.versions() == []:
        service.import_tree(INDICATORS, author="test")
    region = env.client.get("/v1/indicators/coverage", headers=env.headers("region"))
    top = env.client.get("/v1/indicators/coverage", headers=env.headers("top"))
    assert region.status_code == top.status_code == 200, region.text
    assert region.json()["documents"] == len(expected_ids(env, "region"))
    assert top.json()["documents"] == len(expected_ids(env, "top"))
    mentions = {row["id"]: row["mentions"] for row in region.json()["indicators"]}
    assert 0 < mentions["d"] < {row["id"]: row["mentions"] for row in top.json()["indicators"]}["d"]


def test_drivers_population_is_the_scope(env: ApiEnv) -> None:
    _topics_over(env)
    for scope in ("store", "region", "top"):
        response = env.client.get("/v1/drivers", params={"metric": "sentiment", "store": ["北京朝阳店", "上海徐汇店"]},
                                  headers=env.headers(scope))
        assert response.status_code == 200, response.text
        population = response.json()["population"]
        allowed = VISIBLE[scope] or set(STORES)
        with env.app.state.voc_api.voc.store.engine.connect() as conn:
            expected = set(conn.scalars(select(documents.c.id).where(
                documents.c.store.in_(sorted({"北京朝阳店", "上海徐汇店"} & allowed)))))
        assert population["documents"] == len(expected), population


def test_tickets_of_other_nodes_are_out_of_reach(env: ApiEnv) -> None:
    from voc.tickets.service import TicketNotFound

    service = env.app.state.voc_api.voc.tickets
    inside = sorted(expected_ids(env, "region"))[0]
    outside_doc = sorted(expected_ids(env, "top") - expected_ids(env, "region"))[0]
    mine = service.open("徐汇店差评", "上海徐汇店", [inside], actor="test")
    theirs = service.open("朝阳店差评", "北京朝阳店", [outside_doc], actor="test")
    headers = env.headers("region")
    listed = {t["id"] for t in env.client.get("/v1/tickets", headers=headers).json()["tickets"]}
    assert mine.id in listed and theirs.id not in listed
    assert env.client.get(f"/v1/tickets/{theirs.id}", headers=headers).status_code == 404
    assert env.client.get(f"/v1/tickets/{mine.id}", headers=headers).status_code == 200
    refused = env.client.post("/v1/tickets", headers=headers,
                              json={"title": "越界", "owner": "北京朝阳店", "doc_ids": [inside]})
    assert refused.status_code == 403
    refused = env.client.post("/v1/tickets", headers=headers,
                              json={"title": "越界证据", "owner": "上海徐汇店", "doc_ids": [outside_doc]})
    assert refused.status_code == 403
    with pytest.raises(TicketNotFound):
        service.get(theirs.id, owners={"上海徐汇店"})  # the service's own filter, which the scope feeds


def test_alerts_about_other_stores_are_not_shown(env: ApiEnv) -> None:
    from voc.alerts.tables import alerts

    inside = sorted(expected_ids(env, "region"))[:2]
    outside = sorted(expected_ids(env, "top") - expected_ids(env, "region"))[:1]
    ids = {}
    with env.app.state.voc_api.voc.store.engine.begin() as conn:
        for name, docs in (("inside", inside), ("mixed", [*inside, *outside]), ("none", [])):
            ids[name] = conn.execute(alerts.insert().values(
                rule="test", kind="low_score", subject=f"test:{name}", title=name, status="open",
                fired_at=datetime(2026, 3, 1), document_ids=docs, snippets=[], detail={})).inserted_primary_key[0]
    listed = {a["id"] for a in env.client.get("/v1/alerts", headers=env.headers("region")).json()["alerts"]}
    assert ids["inside"] in listed and not {ids["mixed"], ids["none"]} & listed
    top = {a["id"] for a in env.client.get("/v1/alerts", headers=env.headers("top")).json()["alerts"]}
    assert set(ids.values()) <= top
    assert env.client.get(f"/v1/alerts/{ids['mixed']}", headers=env.headers("region")).status_code == 404
    assert env.client.get(f"/v1/alerts/{ids['inside']}", headers=env.headers("region")).status_code == 200
    # acting on one: inside only; outside it does not exist
    close = {"status": "closed"}
    assert env.client.post(f"/v1/alerts/{ids['mixed']}/status", json=close, headers=env.headers("region")
                           ).status_code == 404
    done = env.client.post(f"/v1/alerts/{ids['inside']}/status", json=close, headers=env.headers("region"))
    assert done.status_code == 200 and done.json()["status"] == "closed"
    with env.app.state.voc_api.voc.store.engine.connect() as conn:
        assert conn.execute(select(alerts.c.status).where(alerts.c.id == ids["mixed"])).scalar() == "open"


def test_suggestion_evidence_is_cut_to_the_scope(env: ApiEnv) -> None:
    from voc.indicators.tables import indicator_suggestions

    docs = _topics_over(env)
    inside = sorted(expected_ids(env, "store"))[:2]
    outside = sorted(expected_ids(env, "top") - expected_ids(env, "store"))[:3]
    evidence = {"count": 5, "share": 0.1, "negative_rate": 0.4, "growth": None, "sources": {"review": 5},
                "document_ids": [*inside, *outside],
                "quotes": [{"document_id": d, "text": docs[d][0], "polarity": "negative"} for d in [*inside, *outside]]}
    payload = {"id": "s-scope", "name": "送餐速度", "definition": "配送快慢", "keywords": ["送餐"], "parent": None,
               "priority": 3.0, "survey_question": None, "sources": ["topic"], "fingerprint": "f", "evidence": evidence}
    with env.app.state.voc_api.voc.store.engine.begin() as conn:
        conn.execute(indicator_suggestions.delete().where(indicator_suggestions.c.id == "s-scope"))
        conn.execute(indicator_suggestions.insert().values(
            id="s-scope", status="pending", name="送餐速度", priority=3.0, fingerprint="f", payload=payload,
            created_at=datetime(2026, 3, 1), updated_at=datetime(2026, 3, 1), tree_version=1))
    scoped = env.client.get("/v1/suggestions/s-scope", headers=env.headers("store"))
    assert scoped.status_code == 200, scoped.text
    seen = scoped.json()["evidence"]
    assert seen["document_ids"] == inside and seen["count"] == 2
    assert [q["document_id"] for q in seen["quotes"]] == inside
    listed = env.client.get("/v1/suggestions", headers=env.headers("store")).json()["suggestions"]
    assert next(s for s in listed if s["id"] == "s-scope")["evidence"]["document_ids"] == inside
    top = env.client.get("/v1/suggestions/s-scope", headers=env.headers("top")).json()["evidence"]
    assert top["document_ids"] == [*inside, *outside]


def test_emerging_topics_count_the_scope(env: ApiEnv) -> None:
    _topics_over(env)
    params = {"interval": "day", "at": "2026-03-28", "baseline": 3}
    for scope in ("store", "top"):
        response = env.client.get("/v1/topics/emerging", params=params, headers=env.headers(scope))
        assert response.status_code == 200, response.text
    # what the scoped test counts is the scope's mentions only (the same function, fewer documents)
    voc = env.app.state.voc_api.scopes.view(["上海徐汇店"])
    mentions = list(voc.topics.mentions())
    with env.app.state.voc_api.voc.store.engine.connect() as conn:
        dated = set(conn.scalars(select(documents.c.id).where(documents.c.created_at.is_not(None),
                                                              documents.c.topic_id >= 0)))
    assert len(mentions) == len(dated & expected_ids(env, "store")) > 0


def test_the_tree_shown_is_the_scope(env: ApiEnv) -> None:
    def names(nodes: list[dict[str, Any]]) -> set[str]:
        return {n["name"] for n in nodes} | {name for n in nodes for name in names(n.get("children", []))}

    region = env.client.get("/v1/org", headers=env.headers("region")).json()
    assert region["scope"] == ["华东大区"] and names(region["nodes"]) == {"华东大区", "上海徐汇店", "上海静安店"}
    two = env.client.get("/v1/org", headers=env.headers("two")).json()
    assert names(two["nodes"]) == {"上海徐汇店", "北京朝阳店"}
    top = env.client.get("/v1/org", headers=env.headers("top")).json()
    assert top["nodes"][0]["name"] == "总部" and "北京朝阳店" in names(top["nodes"])
    assert env.client.get("/v1/org", headers=env.headers("admin")).json()["scope"] == []


def test_whole_corpus_work_is_refused_to_a_scoped_admin(env: ApiEnv) -> None:
    headers = env.headers("scoped-admin")
    upload = env.client.post("/v1/documents/upload", headers=headers, data={"source": "review"},
                             files={"file": ("x.csv", "id,text,store\nx1,朝阳店的差评,北京朝阳店\n".encode())})
    assert upload.status_code == 403, upload.text
    assert upload.json()["error"]["details"] == {"reason": "scope"}
    assert env.client.post("/v1/tickets/escalate", headers=headers).status_code == 403
    assert env.client.get("/v1/alerts/deliveries", headers=headers).status_code == 403


def test_a_node_and_a_business_line_intersect(env: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """华东大区 AND channel=app: the region's app documents only; asking for the other channel, another
    region or a document of the region's web channel finds nothing."""
    import json

    from typer.testing import CliRunner

    from voc.cli.main import app

    expected = expected_ids(env, "line")
    region = expected_ids(env, "region")
    assert expected and expected < region
    headers = env.headers("line")
    body = env.client.get("/v1/search", params={"facets": ["store", "channel"], "limit": 200}, headers=headers).json()
    assert {hit["id"] for hit in body["hits"]} == expected and set(body["facets"]["channel"]) == {"app"}
    web = env.client.get("/v1/search", params={"channel": "web"}, headers=headers).json()
    assert (web["total"], web["hits"]) == (0, [])
    outside = sorted(region - expected)[0]  # in the region, on the web channel
    assert env.client.get(f"/v1/documents/{outside}", headers=headers).status_code == 404
    assert env.client.get(f"/v1/documents/{sorted(expected)[0]}", headers=headers).status_code == 200
    batch = {"source": "review", "documents": [
        {"id": "line-in", "text": "静安店应用里的反馈", "store": "上海静安店", "channel": "app"},
        {"id": "line-out", "text": "静安店网页上的反馈", "store": "上海静安店", "channel": "web"}]}
    env.keys["line-admin"] = env.app.state.voc_api.keys.create("admin", scope=SCOPES["line"])[0]
    items = env.client.post("/v1/documents", headers=env.headers("line-admin"), json=batch).json()["items"]
    assert [item["status"] for item in items] == ["accepted", "rejected"]
    settings = env.app.state.voc_api.settings
    monkeypatch.setenv("VOC_HOME", str(settings.home))
    for name in ("index", "es_url", "es_index_prefix", "es_username", "es_password", "es_api_key"):
        value = getattr(settings, name, None)
        if value is not None:
            monkeypatch.setenv(f"VOC_{name.upper()}", str(value.get_secret_value() if hasattr(
                value, "get_secret_value") else value))
    result = CliRunner().invoke(app, ["search", "--scope", "华东大区", "--scope", "channel=app", "--limit", "1000",
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert {hit["id"] for hit in json.loads(result.stdout)["hits"]} == expected_ids(env, "line")
