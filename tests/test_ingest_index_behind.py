"""The store took the file but the search index did not (issue 17, item 22).

Elasticsearch is made unreachable without touching the shared node: VOC_ES_URL points at a closed
loopback port. `voc ingest` must say what was stored and exit 3 (not 2, "nothing stored"); the API
upload answers with the report and the reason; `voc index sync` later catches up.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from api_support import api_env, wait_job
from typer.testing import CliRunner

from indexing.es_testing import node_connection, unique_prefix
from voc.cli.main import app
from voc.store import DocumentStore

runner = CliRunner()
ROWS = "id,text\n1,快递太慢了\n2,客服态度很好\n3,包装破损，联系13812345678也不回\n4,\n"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dead_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for key, value in {"VOC_HOME": str(home), "VOC_WORKERS": "1", "VOC_INDEX": "elasticsearch",
                       "VOC_ES_URL": f"http://127.0.0.1:{closed_port()}", "VOC_ES_MAX_ATTEMPTS": "1",
                       "VOC_ES_TIMEOUT": "2"}.items():
        monkeypatch.setenv(key, value)
    return home


def stored(home: Path) -> tuple[int, int]:
    """(documents in the store, of which not indexed)."""
    store = DocumentStore(f"sqlite:///{home / 'voc.sqlite'}")
    try:
        return store.count(), store.unindexed_count()
    finally:
        store.close()


@pytest.mark.parametrize("as_json", [False, True])
def test_ingest_with_the_index_down_stores_says_so_and_exits_3(dead_index: Path, tmp_path: Path,
                                                               as_json: bool) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(ROWS, encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(path), "--source", "review", *(["--json"] if as_json else [])])
    assert result.exit_code == 3, result.output
    assert "stored 3 new documents" in result.stderr and "voc index sync" in result.stderr
    assert "cannot reach Elasticsearch" in result.stderr and "13812345678" not in result.output
    if as_json:
        summary = json.loads(result.stdout)
        assert (summary["accepted"], summary["rejected"]) == (3, 1) and "index sync" in summary["index_behind"]
    else:
        assert "accepted 3, duplicates 0, rejected 1" in result.stdout
    assert stored(dead_index) == (3, 3)

    again = runner.invoke(app, ["ingest", str(path), "--source", "review"])  # still down: nothing twice
    assert again.exit_code == 3 and "stored 0 new documents (3 duplicates" in again.stderr
    assert stored(dead_index) == (3, 3)


def test_index_sync_catches_up_once_an_index_is_reachable(dead_index: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(ROWS, encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(path), "--source", "review"]).exit_code == 3
    monkeypatch.setenv("VOC_INDEX", "embedded")  # the store's "not indexed yet" marks serve any backend
    synced = runner.invoke(app, ["index", "sync", "--json"])
    assert synced.exit_code == 0 and json.loads(synced.stdout) == {"indexed": 3, "errors": {}, "pending": 0}
    found = json.loads(runner.invoke(app, ["search", "快递", "--json"]).stdout)
    assert found["total"] == 1


def test_index_sync_catches_up_on_a_working_elasticsearch(dead_index: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    connection, why_not = node_connection()
    if connection is None:
        pytest.skip(why_not)
    from indexing.elasticsearch import ElasticsearchIndex

    path = tmp_path / "reviews.csv"
    path.write_text(ROWS, encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(path), "--source", "review"]).exit_code == 3
    prefix = unique_prefix()
    monkeypatch.setenv("VOC_ES_URL", connection.url)
    monkeypatch.setenv("VOC_ES_INDEX_PREFIX", prefix)
    if connection.username:
        monkeypatch.setenv("VOC_ES_USERNAME", connection.username)
        monkeypatch.setenv("VOC_ES_PASSWORD", connection.password or "")
    if connection.api_key:
        monkeypatch.setenv("VOC_ES_API_KEY", connection.api_key)
    try:
        synced = runner.invoke(app, ["index", "sync", "--json"])
        assert synced.exit_code == 0 and json.loads(synced.stdout)["pending"] == 0
        status = json.loads(runner.invoke(app, ["index", "status", "--json"]).stdout)
        assert status == {"backend": "elasticsearch", "stored": 3, "indexed": 3, "pending": 0}
    finally:
        index = ElasticsearchIndex(connection, prefix)
        index.drop()
        index.close()


def test_api_upload_with_the_index_down_reports_what_was_stored(tmp_path: Path) -> None:
    dead = {"index": "elasticsearch", "es_url": f"http://127.0.0.1:{closed_port()}", "es_max_attempts": 1,
            "es_timeout": 2.0}
    with api_env(tmp_path / "home", corpus=False, api_job_threshold_bytes=1_000, **dead) as env:
        headers = env.headers("service")
        small = env.client.post("/v1/documents/upload", headers=headers, data={"source": "review"},
                                files={"file": ("r.csv", ROWS.encode(), "text/csv")})
        assert small.status_code == 200, small.text
        body = small.json()
        assert (body["accepted"], body["rejected"]) == (3, 1) and "voc index sync" in body["index_behind"]

        big_rows = "id,text\n" + "".join(f"b{i},第{i}条评论：物流很快，包装完好\n" for i in range(100))
        job = wait_job(env, env.client.post("/v1/documents/upload", headers=headers, data={"source": "review"},
                                            files={"file": ("big.csv", big_rows.encode(), "text/csv")}),
                       role="service")
        assert job["status"] == "succeeded" and job["result"]["accepted"] == 100
        assert "voc index sync" in job["result"]["index_behind"]
    assert stored(tmp_path / "home") == (103, 103)
