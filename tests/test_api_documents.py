"""POST /v1/documents, POST /v1/documents/upload, GET /v1/documents/{id}, GET /v1/jobs/{id}."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import ApiEnv, api_env
from openpyxl import Workbook


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    with api_env(tmp_path / "home", api_job_threshold_bytes=5_000) as env:
        yield env


def _upload(env: ApiEnv, name: str, content: bytes, role: str = "service", **data: str) -> object:
    return env.client.post("/v1/documents/upload", headers=env.headers(role),
                           files={"file": (name, content)}, data={"source": "review", **data})


def test_batch_ingest_gives_a_result_per_item_and_is_idempotent(env: ApiEnv) -> None:
    documents = [
        {"id": "n1", "text": "屏幕很清晰，电池耐用", "rating": 5},
        {"text": "   "},
        {"id": "n2", "text": "送货慢", "rating": 9},
        {"id": "n3", "text": "客服电话打不通", "time": "not a time"},
        {"id": "n1", "text": "屏幕很清晰，电池耐用", "rating": 5},
        {"source": "survey", "text": "希望增加夜间配送", "score": 7, "question": "还有什么建议？"},
    ]
    first = env.ingest(documents)
    statuses = [(item["index"], item["status"]) for item in first["items"]]
    assert statuses == [(0, "accepted"), (1, "rejected"), (2, "rejected"), (3, "rejected"), (4, "duplicate"),
                        (5, "accepted")]
    reasons = {item["index"]: item["reason"] for item in first["items"] if item["reason"]}
    assert reasons[1] == "no text" and "rating 9 is outside 1-5" in reasons[2] and "unparsable time" in reasons[3]
    assert (first["accepted"], first["duplicates"], first["rejected"]) == (2, 1, 3)
    assert first["items"][4]["id"] == first["items"][0]["id"]
    again = env.ingest(documents)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 3)
    survey = env.client.get(f"/v1/documents/{first['items'][5]['id']}", headers=env.headers("researcher")).json()
    assert survey["source"] == "survey" and survey["meta"] == {"score": 7.0, "question": "还有什么建议？"}


def test_pii_is_masked_before_storage_and_in_reasons(env: ApiEnv) -> None:
    result = env.ingest([{"id": "p1", "text": "我的手机13812345678，邮箱a.b@example.com", "extra": {"备注": "身份证"
                          "110101199003074258"}}, {"text": "x", "time": "13912345678"}])
    doc = env.client.get(f"/v1/documents/{result['items'][0]['id']}", headers=env.headers("admin")).json()
    stored = json.dumps(doc, ensure_ascii=False)
    assert "13812345678" not in stored and "a.b@example.com" not in stored and "110101199003074258" not in stored
    assert "[手机号]" in doc["text"] and [span["type"] for span in doc["pii"]] == ["phone", "email"]
    assert "13912345678" not in result["items"][1]["reason"]


def test_hotline_turns_and_source_rules(env: ApiEnv) -> None:
    call = {"id": "c1", "turns": [{"role": "坐席", "text": "您好"}, {"role": "客户", "text": "宽带又断网了"}]}
    result = env.ingest([call], source="hotline")
    doc = env.client.get(f"/v1/documents/{result['items'][0]['id']}", headers=env.headers("admin")).json()
    assert doc["text"] == "宽带又断网了" and [t["role"] for t in doc["turns"]] == ["agent", "customer"]
    missing = env.client.post("/v1/documents", json={"documents": [{"text": "无来源"}]}, headers=env.headers("admin"))
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "body.documents.0.source"


def test_batch_bounds_and_unknown_fields(env: ApiEnv) -> None:
    too_many = {"source": "review", "documents": [{"text": f"第{i}条"} for i in range(1001)]}
    response = env.client.post("/v1/documents", json=too_many, headers=env.headers("service"))
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "body.documents"
    typo = env.client.post("/v1/documents", json={"source": "review", "documents": [{"txet": "拼错"}]},
                           headers=env.headers("service"))
    assert typo.status_code == 422 and typo.json()["error"]["details"][0]["field"] == "body.documents.0.txet"


def test_unknown_document_is_a_json_404(env: ApiEnv) -> None:
    response = env.client.get("/v1/documents/nope", headers=env.headers("researcher"))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "no document 'nope'", "details": None}}


def test_small_upload_is_ingested_at_once_with_rejects_reported(env: ApiEnv) -> None:
    csv = "编号,内容,时间\nu1,物流很快，包装完好,2026-01-02\nu2,,2026-01-03\nu3,东西坏了,昨天下午\n"
    response = _upload(env, "reviews.csv", csv.encode("gbk"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 0, 2)
    assert [r["row"] for r in body["rejects"]] == [3, 4] and body["rejects"][0]["reason"] == "no text"
    assert env.client.get("/v1/search", params={"q": "物流"}, headers=env.headers("service")).json()["total"] >= 1
    assert _upload(env, "reviews.csv", csv.encode("gbk")).json()["duplicates"] == 1


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("binary.csv", b"id,text\n" + bytes(range(128, 256)) * 20, "binary.csv"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip", "broken.xlsx"),
    ("notext.csv", "编号,评分\n1,5\n".encode(), "no text column"),
    ("data.bin", b"id,text\n1,ok\n", "format"),
])
def test_malformed_files_are_rejected_cleanly_and_store_nothing(env: ApiEnv, name: str, content: bytes,
                                                                 fragment: str) -> None:
    before = env.client.get("/v1/search", headers=env.headers("service")).json()["total"]
    response = _upload(env, name, content)
    assert response.status_code in (400, 422), response.text
    error = response.json()["error"]
    assert error["code"] in ("invalid_file", "validation_error")
    assert str(env.app.state.voc_api.settings.home) not in error["message"]  # no server paths
    assert fragment in error["message"]
    assert env.client.get("/v1/search", headers=env.headers("service")).json()["total"] == before


def test_large_upload_runs_as_a_job(env: ApiEnv) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "text", "time"])
    for i in range(400):
        sheet.append([f"x{i}", f"第{i}位顾客说：配送员态度很好，饭菜还是热的", "2026-02-01"])
    sheet.append(["bad", None, "2026-02-01"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = _upload(env, "big.xlsx", buffer.getvalue())
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert response.json()["url"] == f"/v1/jobs/{job_id}"
    env.app.state.voc_api.jobs.wait(job_id)
    job = env.client.get(f"/v1/jobs/{job_id}", headers=env.headers("service")).json()
    assert job["status"] == "succeeded", job
    assert job["result"]["accepted"] == 400 and job["result"]["rejected"] == 1 and job["progress"] == 401
    assert job["result"]["rejects"] == [{"row": 402, "reason": "no text"}]
    assert not list((env.app.state.voc_api.settings.home / "uploads").iterdir())  # the upload is cleaned up


def test_a_failing_job_reports_why(env: ApiEnv) -> None:
    good = "id,text\n" + "".join(f"{i},第{i}条评论内容比较长一些用来填充采样窗口\n" for i in range(6_000))
    response = _upload(env, "big.csv", good.encode() + b"999,\xff\xfe\xfa broken tail\n")
    assert response.status_code == 202
    job = env.app.state.voc_api.jobs.wait(response.json()["job_id"])
    assert job is not None and job.status == "failed", job
    assert "big.csv" in (job.error or "") and "not valid utf-8" in (job.error or "")
    assert str(env.app.state.voc_api.settings.home) not in (job.error or "")
    assert env.client.get("/v1/search", params={"q": "采样窗口"}, headers=env.headers("admin")).json()["total"] == 0


def test_unknown_job_is_404(env: ApiEnv) -> None:
    assert env.client.get("/v1/jobs/0123", headers=env.headers("admin")).status_code == 404


def test_upload_size_is_bounded(tmp_path: Path) -> None:
    with api_env(tmp_path / "small", corpus=False, api_max_upload_bytes=2_000) as env:
        response = _upload(env, "big.csv", ("id,text\n" + "1,很长的一行评论内容\n" * 500).encode())
        assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
