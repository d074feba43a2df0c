"""Search finds every mention (issue 21, item 1) and counts ratings and survey scores (item 3).

Recall of a short string equals ``grep`` on the indexed texts, on both backends (the Elasticsearch
variants skip, with the reason, only when no node answers; see tests/test_index_contract.py).
"""

from __future__ import annotations

import csv
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_index_contract import BACKENDS, ids, open_backend

from indexing.base import Filters, IndexRecord, SearchBackend, SearchQuery
from indexing.embedded import EmbeddedIndex
from indexing.grams import grams_text, phrase_tokens
from indexing.matching import fts_match

DEMO = Path(__file__).resolve().parents[1] / "voc" / "demo" / "data"


def demo_texts() -> list[str]:
    """Real-looking feedback: the demo's logistics and food-delivery reviews and survey answers, normalised
    as the store keeps them (what the index holds)."""
    from voc.text.normalize import Normalizer

    files = (("reviews_logistics.tsv", "utf-8", "\t", "text"),
             ("reviews_food_delivery_gbk.csv", "gbk", ",", "评价内容"),
             ("survey_retail_banking.csv", "utf-8-sig", ",", "text"))
    normalizer, texts = Normalizer(), []
    for name, encoding, delimiter, column in files:
        with (DEMO / name).open(encoding=encoding, newline="") as fh:
            texts += [row[column] for row in csv.DictReader(fh, delimiter=delimiter)]
    return [clean for text in texts if (clean := normalizer(text).strip())]


@pytest.fixture(scope="module")
def tokenizer() -> object:
    from voc.settings import VocSettings
    from voc.text.tokenize import Tokenizer

    return Tokenizer.from_settings(VocSettings())


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return demo_texts()


@pytest.fixture(params=BACKENDS)
def demo_index(request: pytest.FixtureRequest, tmp_path: Path, texts: list[str], tokenizer: object
               ) -> Iterator[SearchBackend]:
    backend, cleanup = open_backend(request.param, tmp_path)
    records = [IndexRecord(id=f"t{n:04d}", text=text, source="review",
                           terms=tokenizer.index_terms(tokenizer.tokenize(text)))  # type: ignore[attr-defined]
               for n, text in enumerate(texts)]
    assert backend.index(records).indexed == len(records)
    yield backend
    cleanup()  # type: ignore[operator]


def sample_strings(texts: list[str], n: int = 200, seed: int = 21) -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < n:
        text = rng.choice(texts)
        size = rng.randint(1, 3)
        start = rng.randrange(0, max(1, len(text) - size + 1))
        piece = text[start:start + size]
        if len(piece) == size and not any(ch.isspace() for ch in piece) and any(ch.isalnum() for ch in piece):
            found[piece] = None
    return list(found)


def test_recall_of_short_strings_equals_grep(demo_index: SearchBackend, texts: list[str], tokenizer: object) -> None:
    """200 random 1-3-character strings from the corpus, each built as `voc search` builds a query."""
    misses = {}
    for string in sample_strings(texts):
        query = SearchQuery(terms=tokenizer.tokenize(string) or [string.lower()], text=string,  # type: ignore[attr-defined]
                            facets=())
        expected = {f"t{n:04d}" for n, text in enumerate(texts) if string in text}
        missing = expected - set(demo_index.iter_ids(query))
        if missing:
            misses[string] = len(missing)
        assert demo_index.count(query) >= len(expected)
    assert misses == {}


def test_a_character_inside_a_jieba_word_is_found_and_word_matches_rank_first(fresh_pair: SearchBackend) -> None:
    backend = fresh_pair
    for terms, expected in ((["辣"], ["h1", "h2"]), (["汤"], ["h3", "h4"]), (["洒了"], ["h4"])):
        assert sorted(ids(backend.search(SearchQuery(terms=terms)))) == expected, terms
    ranked = backend.search(SearchQuery(terms=["汤"]))
    assert ids(ranked) == ["h3", "h4"]  # 汤 is a word of h3 only: it comes first, h4 (汤洒了) after
    assert ranked.hits[0].score > ranked.hits[1].score
    assert ranked.hits[1].highlight == "<em>汤</em>洒了一半"
    # words OR strings: every term as a word (吃 and 结果 are words of h1, 吃结果 is not in its text) ...
    assert ids(backend.search(SearchQuery(terms=["吃", "结果"], text="吃结果"))) == ["h1"]
    # ... or every part of the typed text as characters (辣 is no word of h1), not necessarily side by side
    assert sorted(ids(backend.search(SearchQuery(terms=["辣", "吃"], text="辣 吃")))) == ["h1", "h2"]
    assert backend.search(SearchQuery(terms=["辣", "吃"], text="辣吃")).total == 0
    # a typed text whose terms the tokenizer changed (a synonym) still matches as the string typed
    assert ids(backend.search(SearchQuery(terms=["配送员"], text="送餐员"))) == ["h5"]
    # punctuation is matched exactly, never bridged: 辣, then 得 is one string; 辣得 another
    assert ids(backend.search(SearchQuery(terms=["辣得"]))) == ["h2"]
    assert backend.search(SearchQuery(terms=["辣,得"])).total == 0
    assert ids(backend.search(SearchQuery(terms=["q-1"]))) == ["h5"]


HOTLINE = [
    IndexRecord(id="h1", text="点的微辣，结果根本没法吃", terms=["点", "微辣", "结果", "根本", "没法", "吃"],
                source="hotline", rating=1.0, survey_score=2.0),
    IndexRecord(id="h2", text="辣得没法吃", terms=["辣得", "没法", "吃"], source="hotline", rating=2.0,
                survey_score=6.0),
    IndexRecord(id="h3", text="汤很好喝", terms=["汤", "很", "好喝"], source="review", rating=5.0, survey_score=10.0),
    IndexRecord(id="h4", text="汤洒了一半", terms=["汤洒了", "一半"], source="review", rating=4.5, survey_score=7.0),
    IndexRecord(id="h5", text="送餐员Q-1很准时", terms=["配送", "员", "q-1", "很", "准时"], source="survey",
                survey_score=9.0),
    IndexRecord(id="h6", text="没有评分的反馈", terms=["没有", "评分", "反馈"], source="survey"),
]


@pytest.fixture(params=BACKENDS)
def fresh_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    backend, cleanup = open_backend(request.param, tmp_path)
    assert backend.index(HOTLINE).indexed == len(HOTLINE)
    yield backend
    cleanup()  # type: ignore[operator]


def test_rating_and_survey_score_filter_and_count(fresh_pair: SearchBackend) -> None:
    backend = fresh_pair

    def where(**filters: object) -> list[str]:
        return sorted(ids(backend.search(SearchQuery(filters=Filters(**filters)))))  # type: ignore[arg-type]

    assert where(rating_max=1) == ["h1"]  # "1-star reviews"
    assert where(rating_min=4) == ["h3", "h4"]
    assert where(rating_min=2, rating_max=4.5) == ["h2", "h4"]
    assert where(score_min=0, score_max=6) == ["h1", "h2"]  # 0 is a bound: documents without a score drop
    assert where(nps=["detractor"]) == ["h1", "h2"]
    assert where(nps=["passive", "promoter"]) == ["h3", "h4", "h5"]
    assert where(score_min=9) == ["h3", "h5"]
    facets = backend.search(SearchQuery()).facets
    assert facets["rating"] == {"1": 1, "2": 1, "4": 1, "5": 1}  # by whole star
    assert facets["nps"] == {"detractor": 2, "passive": 1, "promoter": 2}
    found = backend.search(SearchQuery(terms=["辣"], filters=Filters(nps=["detractor"], rating_max=1)))
    assert ids(found) == ["h1"] and found.facets["nps"] == {"detractor": 1}
    assert (found.hits[0].rating, found.hits[0].survey_score) == (1.0, 2.0)
    assert backend.get("h4")["rating"] == 4.5  # type: ignore[index]
    assert backend.count(SearchQuery(filters=Filters(rating_min=6))) == 0


def test_ngrams_hold_the_indexed_text_and_map_separators() -> None:
    assert grams_text("汤洒了") == "汤 洒 了 汤洒 洒了"
    assert phrase_tokens("送餐慢") == ["送餐", "餐慢"] and phrase_tokens("慢") == ["慢"]
    assert phrase_tokens("A-b") == ["a\U000f002d", "\U000f002db"]  # ASCII folded, '-' kept as its own unit
    assert fts_match(["!!"], "!!") is None  # punctuation alone is nothing to search for


OLD_LAYOUT = """
CREATE TABLE docs (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text TEXT NOT NULL, terms TEXT NOT NULL,
    source TEXT NOT NULL, created_at TEXT, channel TEXT, industry TEXT, product TEXT, store TEXT,
    sentiment TEXT, sentiment_score REAL, topic_id INTEGER, topic_label TEXT, near_duplicate_of TEXT);
CREATE TABLE doc_tags (id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (tag, id)) WITHOUT ROWID;
CREATE VIRTUAL TABLE docs_fts USING fts5(terms, content='docs', content_rowid='rid', tokenize='ascii');
CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts(rowid, terms) VALUES (new.rid, new.terms); END;
CREATE TRIGGER docs_ad AFTER DELETE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, terms) VALUES ('delete', old.rid, old.terms); END;
CREATE TABLE doc_meta (rid INTEGER PRIMARY KEY, id TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT,
    channel TEXT, industry TEXT, product TEXT, store TEXT, sentiment TEXT, sentiment_score REAL,
    topic_id INTEGER, near_duplicate_of TEXT, seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE doc_meta_changes (value INTEGER NOT NULL);
INSERT INTO doc_meta_changes VALUES (0);
CREATE TRIGGER docs_meta_ai AFTER INSERT ON docs BEGIN
    UPDATE doc_meta_changes SET value = value + 1;
    INSERT INTO doc_meta VALUES (new.rid, new.id, new.source, new.created_at, new.channel, new.industry,
        new.product, new.store, new.sentiment, new.sentiment_score, new.topic_id, new.near_duplicate_of,
        (SELECT value FROM doc_meta_changes)); END;
CREATE TRIGGER docs_meta_ad AFTER DELETE ON docs BEGIN
    UPDATE doc_meta_changes SET value = value + 1; DELETE FROM doc_meta WHERE rid = old.rid; END;
INSERT INTO docs (id, text, terms, source) VALUES ('o1', '辣得没法吃', '辣得 没法 吃', 'review'),
    ('o2', '汤洒了一半', '汤洒了 一半', 'review');
"""


def test_an_index_file_of_the_previous_layout_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_LAYOUT)
    index = EmbeddedIndex(path)
    try:
        assert index.schema.grams_filled == 2
        assert ids(index.search(SearchQuery(terms=["辣"]))) == ["o1"]  # its n-grams were computed on open
        assert ids(index.search(SearchQuery(terms=["汤洒了"]))) == ["o2"]
        assert index.stale_fields == ("rating", "survey_score")  # the store has them: a rebuild fills them
        index.index([IndexRecord(id="o2", text="汤凉了", terms=["汤", "凉", "了"], source="review", rating=2.0)])
        assert ids(index.search(SearchQuery(terms=["汤"]))) == ["o2"]  # the old n-grams were taken out
        assert index.search(SearchQuery(terms=["洒"])).total == 0
        assert ids(index.search(SearchQuery(filters=Filters(rating_max=2)))) == ["o2"]
        assert index.delete(["o1"]) == 1 and index.search(SearchQuery(terms=["辣"])).total == 0
        index.clear()  # what `voc index rebuild` starts with
        assert index.stale_fields == ()
    finally:
        index.close()
    reopened = EmbeddedIndex(path)
    try:
        assert reopened.schema.grams_filled == 0 and reopened.stale_fields == ()
        assert {row[0] for row in reopened._conn.execute("SELECT name FROM sqlite_master")}.isdisjoint({"docs_fts"})
    finally:
        reopened.close()


def test_the_service_searches_tags_and_filters_by_characters_and_scores(tmp_path: Path) -> None:
    """Through ingest: the rating and survey score reach the index from the store, and `voc search` /
    tag-by-query find 辣 inside 微辣 and 汤 inside 汤洒了 (jieba words), with the query text beside the terms."""
    from api_support import api_env

    with api_env(tmp_path / "home", corpus=False) as env:
        env.ingest([{"id": "r1", "text": "点的微辣，结果辣得没法吃", "rating": 1},
                    {"id": "r2", "text": "汤洒了一半，包装太差", "rating": 2},
                    {"id": "r3", "text": "汤很好喝，送得也快", "rating": 5}])
        env.ingest([{"id": "s1", "text": "客服回答很专业", "score": 3},
                    {"id": "s2", "text": "整体还行吧", "score": 8}], source="survey")
        voc = env.app.state.voc_api.voc
        query = voc.build_query("汤")
        assert query.text == "汤" and query.terms
        assert voc.search("汤").total == 2
        assert voc.search("辣").total == 1
        assert voc.tag("汤类", query=voc.build_query("洒")) == 1
        assert voc.search(filters=Filters(tags=["汤类"])).hits[0].text.startswith("汤洒了")
        assert voc.search(filters=Filters(rating_max=2)).total == 2
        assert voc.search(filters=Filters(nps=["detractor"])).hits[0].text == "客服回答很专业"
        facets = voc.search().facets
        assert facets["rating"] == {"1": 1, "2": 1, "5": 1}
        assert facets["nps"] == {"detractor": 1, "passive": 1}


def test_an_elasticsearch_version_of_the_previous_layout_says_it_needs_a_rebuild() -> None:
    from indexing.es_mapping import MAPPING, STALE_FIELDS
    from indexing.es_testing import node_connection, unique_prefix

    connection, why = node_connection()
    if connection is None:
        pytest.skip(why)
    from indexing.elasticsearch import ElasticsearchIndex

    prefix = unique_prefix()
    client = connection.client()
    added = (*STALE_FIELDS, "rating_star", "nps")
    old = {"dynamic": "strict",
           "properties": {name: spec for name, spec in MAPPING["properties"].items() if name not in added}}
    client.indices.create(index=f"{prefix}-documents-v1", mappings=old,
                          aliases={f"{prefix}-documents": {"is_write_index": True}})
    index = ElasticsearchIndex(connection, prefix)
    try:
        assert index.stale_fields == STALE_FIELDS
        index.index(HOTLINE)  # the fields were added in place: new documents carry them
        assert ids(index.search(SearchQuery(terms=["辣"], sort="newest"))) == ["h2", "h1"]
        index.reindex([HOTLINE])
        assert index.stale_fields == ()
        assert ElasticsearchIndex(connection, prefix).stale_fields == ()
    finally:
        index.drop()
        index.close()
        client.close()


def test_index_status_names_what_an_index_of_the_previous_layout_lacks(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from voc.cli.main import app

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("VOC_HOME", str(home))
    with sqlite3.connect(home / "index.sqlite") as conn:
        conn.executescript(OLD_LAYOUT)
    runner = CliRunner()
    status = runner.invoke(app, ["index", "status", "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["stale_fields"] == ["rating", "survey_score"]
    assert "voc index rebuild" in runner.invoke(app, ["index", "status"]).output
    assert runner.invoke(app, ["index", "rebuild", "--json"]).exit_code == 0
    after = runner.invoke(app, ["index", "status", "--json"])
    assert "stale_fields" not in json.loads(after.stdout)


@pytest.mark.parametrize("rank_limit", [10_000, 3])
@pytest.mark.parametrize("kind", BACKENDS)
def test_relevance_pages_walk_the_word_tier_then_the_string_tier(kind: str, rank_limit: int, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Cursors and offsets cross from the word matches to the string matches without losing or
    repeating a hit, also when the string tier is too large to rank (RANK_LIMIT) on the embedded index."""
    import indexing.embedded

    if kind == "elasticsearch" and rank_limit != 10_000:
        pytest.skip("RANK_LIMIT is the embedded index's")
    monkeypatch.setattr(indexing.embedded, "RANK_LIMIT", rank_limit)
    backend, cleanup = open_backend(kind, tmp_path)
    words = [IndexRecord(id=f"w{n:02d}", text="汤" + "好" * n, terms=["汤", "好" * n], source="review")
             for n in range(1, 8)]
    strings = [IndexRecord(id=f"s{n:02d}", text="汤洒了" + "快" * n, terms=["汤洒了", "快" * n], source="review")
               for n in range(1, 10)]
    try:
        backend.index(words + strings + [IndexRecord(id="x", text="无关", terms=["无关"], source="review")])
        query = SearchQuery(terms=["汤"], text="汤", limit=4, facets=())
        walked, page = [], query
        while True:
            result = backend.search(page)
            walked += ids(result)
            if not result.next_cursor:
                break
            page = SearchQuery(terms=["汤"], text="汤", limit=4, facets=(), cursor=result.next_cursor)
        by_offset = [hit for offset in range(0, 20, 4)
                     for hit in ids(backend.search(SearchQuery(terms=["汤"], text="汤", limit=4, offset=offset)))]
        assert len(walked) == 16 and set(walked) == {r.id for r in words + strings}
        assert {*walked[:7]} == {r.id for r in words}  # every word match before any string match
        assert by_offset == walked
        assert backend.search(SearchQuery(terms=["汤"], text="汤", limit=4, offset=6)).hits[1].id.startswith("s")
        filtered = backend.search(SearchQuery(terms=["汤"], text="汤", filters=Filters(ids=["w03", "s05"])))
        assert ids(filtered) == ["w03", "s05"] and filtered.total == 2
    finally:
        cleanup()  # type: ignore[operator]
