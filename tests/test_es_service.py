"""The service and CLI on Elasticsearch: every command works, and an interrupted index run resumes
after the node is stopped and started again (nothing lost). Skipped only when no node answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indexing.es_testing import managed_node, node_connection, unique_prefix
from voc.settings import VocSettings

connection, why_not = node_connection()
pytestmark = pytest.mark.skipif(connection is None, reason=why_not)

if connection is not None:
    from indexing.elasticsearch import ElasticsearchIndex
    from indexing.es_bulk import EsUnavailable


@pytest.fixture
def prefix() -> Iterator[str]:
    assert connection is not None
    name = unique_prefix()
    yield name
    index = ElasticsearchIndex(connection, name)
    index.drop()
    index.close()


def write_reviews(path: Path, n: int) -> Path:
    goods = ["快递", "包装", "客服", "屏幕", "电池", "物流", "价格", "质量"]
    moods = ["太慢了", "很好", "态度差", "不错", "一般", "超出预期"]
    lines = ["id,text,time"]
    for i in range(n):
        lines.append(f"{i},第{i}单{goods[i % 8]}{moods[i % 6]}，{goods[(i * 5) % 8]}{moods[(i * 7) % 6]},"
                     f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def es_env(monkeypatch: pytest.MonkeyPatch, home: Path, prefix: str) -> None:
    assert connection is not None
    values = {"VOC_HOME": str(home), "VOC_WORKERS": "1", "VOC_INDEX": "elasticsearch",
              "VOC_ES_URL": connection.url, "VOC_ES_INDEX_PREFIX": prefix}
    if connection.username:
        values |= {"VOC_ES_USERNAME": connection.username, "VOC_ES_PASSWORD": connection.password or ""}
    if connection.api_key:
        values["VOC_ES_API_KEY"] = connection.api_key
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_cli_commands_work_on_elasticsearch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    from voc.cli.main import app

    es_env(monkeypatch, tmp_path / "home", prefix)
    runner = CliRunner()

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert run("ingest", str(write_reviews(tmp_path / "r.csv", 40)), "--source", "review")["accepted"] == 40
    assert run("index", "status") == {"backend": "elasticsearch", "stored": 40, "indexed": 40, "pending": 0}
    found = run("search", "快递")
    total = found["total"]
    assert total >= 5 and found["facets"]["source"] == {"review": total}
    assert "<em>快递</em>" in found["hits"][0]["highlight"]
    assert run("tag", "add", "跟进", "--query", "快递")["changed"] == total
    assert run("search", "--tag", "跟进")["total"] == total
    assert 0 < run("tag", "remove", "跟进", "--query", "快递", "--since", "2026-07-01")["changed"] < total
    assert run("index", "rebuild")["indexed"] == 40
    assert run("search", "快递")["total"] == total


@pytest.mark.slow
def test_an_interrupted_index_run_resumes_after_a_node_restart(tmp_path: Path, prefix: str) -> None:
    """Stop the node after the first batch, let the run fail, start the node, run again: all indexed."""
    from voc.service import Voc

    node = managed_node()
    if node is None:
        pytest.skip("needs the local node started by `voc es start` (it is stopped and restarted)")
    assert connection is not None
    home = tmp_path / "home"
    loader = Voc(VocSettings(home=home, workers=1))  # stores (and embedded-indexes) the corpus
    loader.ingest(write_reviews(tmp_path / "r.csv", 4500), "review")
    loader.close()

    settings = VocSettings(home=home, workers=1, index="elasticsearch", es_url=connection.url,
                           es_username=connection.username, es_password=connection.password,
                           es_index_prefix=prefix)
    service = Voc(settings)
    service.store.reset_indexed()
    service.index.policy.max_attempts = 2  # give up quickly instead of riding out the restart
    service.index.policy.base_delay = 0.1
    batches: list[int] = []

    def stop_after_first_batch(done: int) -> None:
        batches.append(done)
        if len(batches) == 1:
            node.stop()

    try:
        with pytest.raises(EsUnavailable, match="cannot reach"):
            service.sync_index(progress=stop_after_first_batch)
        pending = service.store.unindexed_count()
        assert 0 < pending < 4500  # the first batch was indexed and marked, the rest was not
    finally:
        node.start()
    service.index.policy.max_attempts = 6
    report = service.sync_index()
    assert report.pending == 0 and not report.errors and report.indexed == pending
    assert service.index.count() == service.store.count() == 4500
    service.close()
