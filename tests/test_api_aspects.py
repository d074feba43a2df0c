"""Aspect terms, spans and confidence are first-class in the API: /v1/analyze and a document's detail carry
them with their offsets into the analysed text, the OpenAPI schema describes them, and documents stored
before the span tagger (without those fields) still answer with the documented defaults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import ApiEnv, api_env
from sqlalchemy import select, update

from voc.store import documents

TEXT = "快递太慢了，等了五天，价格倒是挺便宜"
NEW_FIELDS = ("term", "term_start", "term_end", "confidence")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("aspects") / "home", corpus=False) as env:
        yield env


def check_spans(text: str, aspects: list[dict[str, Any]]) -> None:
    """Offsets are code points of the analysed text (Python slicing)."""
    assert aspects
    for a in aspects:
        assert set(NEW_FIELDS) <= set(a)
        assert 0 <= a["confidence"] <= 1
        if a["term"]:
            assert text[a["term_start"]:a["term_end"]] == a["term"]
        else:
            assert a["term_start"] == a["term_end"] == -1
        assert 0 <= a["start"] < a["end"] <= len(text)


def test_analyze_returns_terms_spans_and_confidence(env: ApiEnv) -> None:
    response = env.client.post("/v1/analyze", json={"texts": ["😀" + TEXT]}, headers=env.headers("service"))
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    aspects = result["sentiment"]["aspects"]
    check_spans(result["text"], aspects)
    delivery = next(a for a in aspects if a["aspect"] == "物流配送")
    assert delivery["term"] == "快递" and delivery["polarity"] == "negative"
    assert result["text"][delivery["term_start"]:delivery["term_end"]] == "快递"  # after the emoji: code points


def test_document_detail_returns_them_and_old_documents_still_validate(env: ApiEnv) -> None:
    doc_id = env.ingest([{"id": "a1", "text": TEXT}])["items"][0]["id"]
    detail = env.client.get(f"/v1/documents/{doc_id}", headers=env.headers("researcher"))
    assert detail.status_code == 200, detail.text
    body = detail.json()
    check_spans(body["text"], body["analysis"]["sentiment"]["aspects"])
    assert any(a["term"] == "快递" for a in body["analysis"]["sentiment"]["aspects"])

    # A document analysed before the span tagger: its aspects lack the new fields.
    voc = env.app.state.voc_api.voc
    with voc.store.engine.begin() as conn:
        analysis = conn.scalar(select(documents.c.analysis).where(documents.c.id == doc_id))
        for aspect in analysis["sentiment"]["aspects"]:
            for name in NEW_FIELDS:
                del aspect[name]
        analysis["extra_stage"] = {"kept": True}
        conn.execute(update(documents).where(documents.c.id == doc_id).values(analysis=analysis))
    old = env.client.get(f"/v1/documents/{doc_id}", headers=env.headers("researcher"))
    assert old.status_code == 200, old.text
    aspects = old.json()["analysis"]["sentiment"]["aspects"]
    assert aspects and all((a["term"], a["term_start"], a["term_end"], a["confidence"]) == ("", -1, -1, 1.0)
                           for a in aspects)
    assert old.json()["analysis"]["extra_stage"] == {"kept": True}  # other stages' keys pass through


def test_openapi_describes_the_new_fields(env: ApiEnv) -> None:
    schemas = env.client.get("/openapi.json").json()["components"]["schemas"]
    aspect = schemas["AspectOut"]
    for name in NEW_FIELDS:
        assert aspect["properties"][name].get("description"), name
        assert name not in aspect.get("required", [])  # defaults: older stored documents validate
    assert aspect["properties"]["term_start"]["default"] == -1
    assert aspect["properties"]["confidence"]["default"] == 1.0
    document = schemas["DocumentOut"]["properties"]["analysis"]
    assert "DocumentAnalysisOut" in str(document)


def test_search_hits_carry_their_aspects(env: ApiEnv) -> None:
    env.ingest([{"id": "s1", "text": "物流太慢了，包装也破了"}])
    hits = env.client.get("/v1/search", params={"q": "物流"}, headers=env.headers("researcher"))
    assert hits.status_code == 200, hits.text
    hit = next(h for h in hits.json()["hits"] if h["text"].startswith("物流"))
    check_spans(hit["text"], hit["aspects"])
    none = env.client.get("/v1/search", params={"q": "不存在的词语"}, headers=env.headers("researcher")).json()
    assert none["hits"] == []
