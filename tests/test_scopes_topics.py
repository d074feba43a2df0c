"""A scoped key's topics are named from its own documents: a word that only another store's customers
use never reaches a store-scoped key's topic labels, keywords or quotes (API and CLI), although the
build named the topic after it over the whole corpus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import ApiEnv, api_env
from sqlalchemy import select, update
from typer.testing import CliRunner

from voc.scopes import OrgStore, parse_tree
from voc.store import documents, metadata

TREE = {"name": "连锁", "root": {"name": "总部", "children": [
    {"name": "华东大区", "children": [{"name": "上海店"}, {"name": "杭州店"}]},
    {"name": "华北大区", "children": [{"name": "北京店"}]}]}}
# Every store's customers talk about delivery; only Beijing's about 榴莲披萨 (durian pizza).
SHARED = ["外卖送得很慢，汤都洒了", "骑手态度很好，送餐准时", "包装破损，饭菜洒了一半", "送餐太慢，饭菜凉了"]
BEIJING_ONLY = ["榴莲披萨太难吃了", "榴莲披萨味道怪，再也不点", "榴莲披萨里全是芝士"]
LEAKS = ("榴莲", "披萨", "芝士")


def corpus() -> list[dict[str, str]]:
    docs = [{"id": f"{store}-{n}", "text": f"{text}（{store}第{n}单）", "store": store}
            for store in ("上海店", "杭州店", "北京店") for n, text in enumerate(SHARED * 3)]
    docs += [{"id": f"北京店-榴莲{n}", "text": text, "store": "北京店"} for n, text in enumerate(BEIJING_ONLY * 4)]
    return docs


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    from voc.topics.store import topics_table

    with api_env(tmp_path_factory.mktemp("scoped-topics") / "home", corpus=False) as env:
        state = env.app.state.voc_api
        import voc.alerts.tables  # noqa: F401 - ingest runs alert rules: their tables, as a used store has them

        metadata.create_all(state.voc.store.engine)
        env.ingest(corpus())
        OrgStore(state.voc.store.engine).save(parse_tree(TREE), author="test")
        env.keys["store"] = state.keys.create("researcher", name="上海", scope=["上海店"])[0]
        env.keys["region"] = state.keys.create("researcher", name="华东", scope=["华东大区"])[0]
        env.keys["top"] = state.keys.create("researcher", name="总部", scope=["总部"])[0]
        # one topic holding every document, named over the whole corpus as a build would: after the durian
        with state.voc.store.engine.begin() as conn:
            conn.execute(update(documents).values(topic_id=7, topic_label="榴莲·披萨·外卖", indexed=False))
            texts = list(conn.scalars(select(documents.c.text).order_by(documents.c.id)))
            conn.execute(topics_table.insert().values(
                id=7, label="榴莲·披萨·外卖", keywords=["榴莲", "披萨", "外卖", "芝士"], size=len(texts),
                negative_share=0.5,
                quotes=[t for t in texts if "榴莲" in t][:3] + [t for t in texts if "上海店" in t][:2],
                status="active", first_build=1, last_build=1))
        state.voc.sync_index()  # hits carry the build's label, as after a build
        yield env


def words_of(topic: dict[str, object]) -> str:
    return " ".join([str(topic["label"]), *map(str, topic["keywords"]), *map(str, topic["quotes"])])  # type: ignore[call-overload]


@pytest.mark.parametrize("scope", ["store", "region"])
def test_topic_words_and_quotes_come_from_the_scope(env: ApiEnv, scope: str) -> None:
    listed = env.client.get("/v1/topics", headers=env.headers(scope)).json()["topics"]
    assert [t["id"] for t in listed] == [7]
    topic = listed[0]
    detail = env.client.get("/v1/topics/7", headers=env.headers(scope)).json()
    for shown in (topic, detail):
        assert not any(leak in words_of(shown) for leak in LEAKS), shown
        assert shown["keywords"] and shown["quotes"] and shown["label"] != "(无关键词)"
        assert all("北京店" not in quote for quote in shown["quotes"])
    with env.app.state.voc_api.voc.store.engine.connect() as conn:
        stores = ["上海店"] if scope == "store" else ["上海店", "杭州店"]
        own = set(conn.scalars(select(documents.c.text).where(documents.c.store.in_(stores))))
        own_tokens = {t for doc in conn.scalars(select(documents.c.tokens).where(documents.c.store.in_(stores)))
                      for t in doc.split()}
    assert set(topic["quotes"]) <= own
    assert set(topic["keywords"]) <= own_tokens  # every keyword is a word of the scope's own documents
    emerging = env.client.get("/v1/topics/emerging", headers=env.headers(scope))
    assert emerging.status_code == 200 and not any(leak in emerging.text for leak in LEAKS)


def test_the_top_sees_the_build_words_of_every_store(env: ApiEnv) -> None:
    topic = env.client.get("/v1/topics/7", headers=env.headers("top")).json()
    assert topic["label"] == "榴莲·披萨·外卖" and "榴莲" in topic["keywords"]
    beijing = env.client.get("/v1/topics", headers=env.headers("admin")).json()["topics"][0]
    assert "榴莲" in beijing["label"]


def test_cli_topics_with_a_scope_name_the_scope(env: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from voc.cli.main import app

    settings = env.app.state.voc_api.settings
    monkeypatch.setenv("VOC_HOME", str(Path(settings.home)))
    runner = CliRunner()
    listed = runner.invoke(app, ["topics", "list", "--scope", "上海店", "--json"])
    assert listed.exit_code == 0, listed.output
    topics = json.loads(listed.stdout)
    assert [t["id"] for t in topics] == [7] and topics[0]["size"] == len(SHARED) * 3
    assert topics[0]["keywords"] and not any(leak in words_of(topics[0]) for leak in LEAKS)
    shown = runner.invoke(app, ["topics", "show", "7", "--scope", "华东大区"])
    assert shown.exit_code == 0, shown.output
    assert "上海店" in shown.stdout and not any(leak in shown.stdout for leak in LEAKS)
    everything = runner.invoke(app, ["topics", "list", "--json"])
    assert "榴莲" in json.loads(everything.stdout)[0]["label"]  # the local operator sees the build's names
    assert runner.invoke(app, ["topics", "list", "--scope", "火星店"]).exit_code == 2


def test_hits_documents_and_exports_carry_the_scope_label(env: ApiEnv) -> None:
    label = env.client.get("/v1/topics/7", headers=env.headers("store")).json()["label"]
    hits = env.client.get("/v1/search", params={"limit": 100}, headers=env.headers("store")).json()["hits"]
    assert hits and {hit["topic_label"] for hit in hits} == {label}
    everyone = env.client.get("/v1/search", params={"limit": 1}, headers=env.headers("admin")).json()["hits"]
    assert everyone[0]["topic_label"] == "榴莲·披萨·外卖"  # unscoped: the build's label
    document = env.client.get(f"/v1/documents/{hits[0]['id']}", headers=env.headers("store")).json()
    assert document["topic_label"] == label
    exported = env.client.get("/v1/export", params={"format": "csv"}, headers=env.headers("store"))
    assert exported.status_code == 200 and label in exported.text
    assert not any(leak in exported.text for leak in LEAKS)
