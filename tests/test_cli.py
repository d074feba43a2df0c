from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from voc.cli.main import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOC_WORKERS", "1")
    return tmp_path / "home"


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def all_commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in getattr(group, "commands", {}).items():
        found += all_commands(command, (*prefix, name))
    return found


def test_every_subcommand_has_help() -> None:
    commands = all_commands(get_command(app))
    assert ("ingest",) in commands and ("tag", "add") in commands and ("words", "discover") in commands
    for path in commands:
        code, out = invoke(*path, "--help")
        assert code == 0 and "Usage" in out, path


def test_ingest_search_tag_flow_with_json(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "r.csv"
    data.write_text("id,text,time\n1,快递柜超时收费太坑了,2026-11-01\n2,快递很快包装好,2026-11-02\n"
                    "3,,2026-11-03\n", encoding="utf-8")
    code, out = invoke("ingest", str(data), "--source", "review", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["accepted"] == 2 and summary["rejected"] == 1 and summary["duplicates"] == 0
    assert Path(summary["rejects_file"]).is_file()
    code, out = invoke("ingest", str(data), "--source", "review", "--json")
    assert json.loads(out)["duplicates"] == 2

    code, out = invoke("search", "快递", "--json")
    result = json.loads(out)
    assert code == 0 and result["total"] == 2 and result["facets"]["source"] == {"review": 2}
    first = result["hits"][0]
    assert {"id", "text", "source", "score", "highlight", "tags"} <= first.keys()

    code, out = invoke("tag", "add", "柜子", "--query", "快递柜", "--json")
    assert json.loads(out) == {"tag": "柜子", "changed": 1}
    other = next(h["id"] for h in result["hits"] if "柜" not in h["text"])
    code, out = invoke("tag", "add", "好评", "--ids", other, "--json")
    assert json.loads(out)["changed"] == 1
    code, out = invoke("tag", "list", "--json")
    assert json.loads(out) == {"柜子": 1, "好评": 1}
    code, out = invoke("search", "--tag", "柜子", "--json")
    assert [h["tags"] for h in json.loads(out)["hits"]] == [["柜子"]]
    code, out = invoke("tag", "remove", "好评", "--ids", other, "--json")
    assert json.loads(out)["changed"] == 1
    code, out = invoke("show", other, "--json")
    assert json.loads(out)["tags"] == []
    code, out = invoke("index", "status", "--json")
    assert json.loads(out) == {"backend": "embedded", "stored": 2, "indexed": 2, "pending": 0}


def test_unreadable_file_exits_2_and_stores_nothing(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    result = runner.invoke(app, ["ingest", str(bad), "--source", "survey"])
    assert result.exit_code == 2 and "XLSX" in result.output
    _, out = invoke("index", "status", "--json")
    assert json.loads(out)["stored"] == 0
    assert runner.invoke(app, ["ingest", str(bad), "--source", "tweets"]).exit_code == 2


def test_analyze_json_reports_masked_text_tokens_and_pii(home: Path) -> None:
    code, out = invoke("analyze", "這家門店的店員態度很好！！！電話13812345678", "--json")
    result = json.loads(out)
    assert code == 0
    assert "13812345678" not in out and "[手机号]" in result["text"]
    assert result["text"].startswith("这家门店的店员态度很好")
    assert result["pii"][0]["type"] == "phone"
    assert "店员" in result["tokens"]


def test_bad_settings_fail_clearly(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_PII_TYPES", '["phone", "passport"]')
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2 and "passport" in result.output


def test_search_rejects_bad_dates_and_cursors(home: Path) -> None:
    assert runner.invoke(app, ["search", "x", "--since", "上周"]).exit_code == 2
    assert runner.invoke(app, ["search", "x", "--cursor", "!!!"]).exit_code == 2
