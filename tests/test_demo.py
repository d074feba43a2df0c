from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voc.cli.main import app
from voc.demo import DEMO_FILES

runner = CliRunner()


def test_demo_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "voc-data"
    monkeypatch.setenv("VOC_HOME", str(home))
    result = runner.invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_file = {f["file"]: f for f in report["files"]}
    for demo_file in DEMO_FILES:
        counts = by_file[demo_file.name]
        assert counts["rejected"] == demo_file.bad_rows, demo_file.name
        assert counts["accepted"] + counts["duplicates"] + counts["rejected"] == demo_file.rows, demo_file.name
    assert report["documents"] == sum(f["accepted"] for f in report["files"])
    assert set(report["by_source"]) == {"survey", "hotline", "review"}
    assert len(report["overview"]["industries"]) == 6
    assert report["overview"]["documents_with_pii_masked"] > 50
    assert report["overview"]["near_duplicates"] >= 30
    locker = next(s for s in report["searches"] if s["query"].startswith("快递柜"))
    assert locker["total"] > 10
    assert report["tags"]["快递柜投诉"] > 0
    # placeholders are never terms; filler words fail the specificity test against general Chinese
    terms = report["overview"]["top_negative_terms"]
    assert terms and not {"手机号", "座机", "一下", "还是", "全是", "别来"} & set(terms)
    # the report names what drives the surveys' NPS (survey scores; themes from the topics just built)
    drivers = report["drivers"]
    assert drivers["status"] == "ok" and drivers["overall"]["n"] > 300
    assert drivers["costs"] and all(d["low"] <= d["impact"] < 0 for d in drivers["costs"])
    # the planted detractor survey raised one alert on ingest, and the alert opened a ticket for its store
    [alert] = report["alerts"]
    assert alert["detail"]["score"] == 1 and alert["detail"]["store"] == "惠万家浦东张江店"
    assert alert["ticket"]["owner"] == "惠万家浦东张江店" and alert["ticket"]["status"] == "open"

    # at 80 columns the ingest table keeps its counts whole (file names fold instead)
    from io import StringIO

    from rich.console import Console

    from voc.demo_run import print_report

    narrow = Console(width=80, file=StringIO())
    print_report(report, narrow)
    table = narrow.file.getvalue().split("documents in")[0]
    assert "…" not in table and all(str(f["accepted"]) in table for f in report["files"])

    # Big5 / Traditional input is searchable in Simplified; GBK text arrives intact.
    code = runner.invoke(app, ["search", "质量", "--source", "review", "--json"])
    assert json.loads(code.stdout)["total"] > 0

    again = json.loads(runner.invoke(app, ["demo", "--json"]).stdout)
    assert sum(f["accepted"] for f in again["files"]) == 0  # idempotent
    assert again["documents"] == report["documents"]
    assert [a["id"] for a in again["alerts"]] == [alert["id"]]  # nothing stored again, nothing fired again


def test_no_detectable_pii_left_in_the_demo_store(tmp_path: Path) -> None:
    from voc.service import Voc
    from voc.settings import VocSettings
    from voc.text.pii import PiiMasker

    voc = Voc(VocSettings(home=tmp_path / "home", workers=1))
    from voc.demo_run import run_demo

    run_demo(voc, show_progress=False)
    masker = PiiMasker()
    leaks = []
    for batch in voc.store.iter_documents():
        for doc in batch:
            meta = json.dumps(doc.meta, ensure_ascii=False)
            fields = [doc.text, doc.text_original, *(t.text for t in doc.turns), meta]
            leaks += [(doc.id, found) for value in fields for found in masker.find(value)]
    voc.close()
    assert leaks == []
    rejects = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "home" / "rejects").glob("*.jsonl"))
    assert masker.find(rejects) == []
