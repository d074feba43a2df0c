"""GET /v1/export: the hits of a search as a streamed CSV (BOM) or an XLSX file; unknown enum values 422."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import ApiEnv, api_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    with api_env(tmp_path / "home") as env:
        env.ingest([{"id": "f1", "text": "=HYPERLINK(\"http://evil\") 快递丢了", "store": "北京店"}])
        yield env


def test_csv_export_streams_the_search_hits_with_a_bom(env: ApiEnv) -> None:
    response = env.client.get("/v1/export", params={"q": "快递", "store": ["北京店"], "columns": ["id", "text"]},
                              headers=env.headers("researcher"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["id", "text"]
    texts = [row[1] for row in rows[1:]]
    assert len(texts) == 3 and sum(text.startswith("'=HYPERLINK") for text in texts) == 1
    assert any("电话" in text for text in texts) and not any("13812345678" in text for text in texts)


def test_xlsx_export(env: ApiEnv) -> None:
    from openpyxl import load_workbook

    response = env.client.get("/v1/export", params={"format": "xlsx", "industry": ["food"]},
                              headers=env.headers("designer"))
    assert response.status_code == 200, response.text
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "id" and len(rows) == 3
    assert {row[rows[0].index("industry")] for row in rows[1:]} == {"food"}


@pytest.mark.parametrize(("params", "field", "allowed"), [
    ({"sentiment": "negtive"}, "query.sentiment.0", "'negative', 'neutral' or 'positive'"),
    ({"source": "reviwe"}, "query.source.0", "'survey', 'hotline' or 'review'"),
    ({"format": "pdf"}, "query.format", "'csv' or 'xlsx'"),
    ({"columns": "colour"}, "query.columns.0", "'text'"),
])
def test_unknown_values_are_422_naming_the_allowed_ones(env: ApiEnv, params: dict[str, str], field: str,
                                                        allowed: str) -> None:
    for path in ("/v1/export", "/v1/search"):
        if path == "/v1/search" and field in ("query.format", "query.columns.0"):
            continue
        response = env.client.get(path, params=params, headers=env.headers("researcher"))
        assert response.status_code == 422, response.text
        detail = response.json()["error"]["details"][0]
        assert detail["field"] == field and allowed in detail["message"]


def test_rating_and_nps_filters_reach_search_and_export(env: ApiEnv) -> None:
    env.ingest([{"id": "s1", "text": "客服态度很差", "rating": 1}, {"id": "s2", "text": "客服很好", "rating": 5}])
    headers = env.headers("researcher")
    found = env.client.get("/v1/search", params={"rating_max": 1, "facets": ["rating"]}, headers=headers).json()
    assert found["total"] == 1 and found["hits"][0]["rating"] == 1 and found["facets"]["rating"] == {"1": 1}
    response = env.client.get("/v1/export", params={"rating_min": 5, "columns": ["rating", "text"]},
                              headers=headers)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1:] == [["5.0", "客服很好"]]
    bad = env.client.get("/v1/search", params={"nps": "detracter"}, headers=headers)
    assert bad.status_code == 422 and "'detractor'" in bad.json()["error"]["details"][0]["message"]
