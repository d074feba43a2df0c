"""`voc alerts …` (issue 22): rules round trip through files, alerts fire on `voc ingest`, `voc alerts run` for
cron, errors exit 2 with one line; the server's periodic evaluation starts and stops on demand."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voc.alerts.schedule import Periodic
from voc.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOC_ANALYSIS_STAGES", "[]")
    monkeypatch.setenv("VOC_WORKERS", "1")
    return tmp_path / "home"


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_rules_import_list_export_round_trip(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("- name: 差评\n  kind: low_score\n  cooldown: 90m\n"
                     "- name: 门店上升\n  kind: rising\n  sensitivity: {by: store, interval: day}\n", encoding="utf-8")
    assert _invoke("alerts", "rules", "import", str(rules))[0] == 0
    code, out = _invoke("alerts", "rules", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [(r["name"], r["cooldown"]) for r in listed] == [("差评", "90m"), ("门店上升", "1d")]
    exported = tmp_path / "out.json"
    assert _invoke("alerts", "rules", "export", "--format", "json", "-o", str(exported))[0] == 0
    assert _invoke("alerts", "rules", "import", "--replace", str(exported))[0] == 0
    assert json.loads(_invoke("alerts", "rules", "list", "--json")[1]) == listed


def test_bad_rule_file_exits_2_and_stores_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: ok\n  kind: low_score\n- name: broken\n  kind: low_score\n  cooldown: -5\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["alerts", "rules", "import", str(bad)])
    assert result.exit_code == 2
    assert "rule 2 (broken): cooldown" in result.output
    assert json.loads(_invoke("alerts", "rules", "list", "--json")[1]) == []


def test_ingest_fires_then_cron_run_and_listing(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"name": "差评", "kind": "low_score"},
                                 {"name": "门店上升", "kind": "rising",
                                  "sensitivity": {"by": "store", "interval": "day", "measure": "volume"}}]),
                     encoding="utf-8")
    assert _invoke("alerts", "rules", "import", str(rules))[0] == 0
    rows = ["id,text,score,store,time", "s0,排队太久，很失望,2,浦东店,2026-03-01 09:00:00"]
    rows += [f"s{d}{i},第{d}天第{i}位顾客,9,静安店,2026-03-{d:02d} 10:{i:02d}:00"
             for d in range(1, 6) for i in range(1 if d < 5 else 12)]
    data = tmp_path / "s.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(data), "--source", "survey"]).exit_code == 0
    code, out = _invoke("alerts", "list", "--json")
    assert code == 0 and [a["rule"] for a in json.loads(out)] == ["差评"]
    code, out = _invoke("alerts", "run", "--json")
    report = json.loads(out)
    assert code == 0 and [a["subject"] for a in report["alerts"]] == ["store:静安店"]
    assert json.loads(_invoke("alerts", "run", "--json")[1])["suppressed"] == 1  # cooldown: once
    code, out = _invoke("alerts", "list", "--status", "open", "--json")
    assert sorted(a["rule"] for a in json.loads(out)) == ["差评", "门店上升"]
    assert runner.invoke(app, ["alerts", "list", "--status", "bogus"]).exit_code == 2
    first = json.loads(_invoke("alerts", "list", "--rule", "差评", "--json")[1])[0]["id"]
    assert _invoke("alerts", "status", str(first), "closed")[0] == 0
    assert [a["rule"] for a in json.loads(_invoke("alerts", "list", "--status", "closed", "--json")[1])] == ["差评"]
    assert runner.invoke(app, ["alerts", "status", "99999", "closed"]).exit_code == 1
    assert runner.invoke(app, ["alerts", "status", str(first), "done"]).exit_code == 2
    assert json.loads(_invoke("alerts", "deliveries", "--json")[1]) == []


def test_test_webhook_unknown_name_exits_2() -> None:
    result = runner.invoke(app, ["alerts", "test-webhook", "nope"])
    assert result.exit_code == 2 and "no webhook named 'nope'" in result.output


def test_periodic_runs_until_stopped() -> None:
    ran = threading.Event()
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        ran.set()

    periodic = Periodic(0.001, work).start()
    assert ran.wait(10)
    periodic.stop()
    assert not periodic._thread.is_alive()  # stopped and joined: no call can follow
    count = len(calls)
    assert count >= 1
    idle = Periodic(0, work).start()  # 0: off, no thread at all
    assert not idle._thread.is_alive()
    idle.stop()
    assert len(calls) == count
