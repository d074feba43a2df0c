"""Alert rules (issue 22): loading with clear errors, firing on ingest (file and records paths) and on
schedule, cooldown and dedupe with an injected clock, tickets through the injected callable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from voc.alerts import AlertService, RuleError, load_rules, parse_rules
from voc.documents import Document
from voc.ingest.batch import RecordItem
from voc.service import Voc
from voc.settings import VocSettings
from voc.store import document_row, documents

RULES = """
- name: 差评
  kind: low_score
  cooldown: 24h
- name: 升级
  kind: escalation
  scope: {source: [review]}
"""


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def voc(tmp_path: Path) -> Iterator[Voc]:
    service = Voc(VocSettings(home=tmp_path / "home", workers=1, analysis_stages=[]))
    yield service
    service.close()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- loading -------------------------------------------------------------------------------------

def test_rules_load_from_yaml_and_json_round_trip(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path / "r.yaml", RULES))
    assert [(r.name, r.kind, r.cooldown) for r in rules] == [("差评", "low_score", timedelta(hours=24)),
                                                             ("升级", "escalation", timedelta(hours=24))]
    assert rules[1].scope.source == ["review"]
    again = load_rules(_write(tmp_path / "r.json", json.dumps([r.to_json() for r in rules], ensure_ascii=False)))
    assert again == rules


@pytest.mark.parametrize(("text", "expected"), [
    ("- name: a\n  kind: loud\n", "rule 1 (a): kind"),
    ("- name: a\n  kind: low_score\n  cooldown: soon\n", "rule 1 (a): cooldown: "),
    ("- name: a\n  kind: low_score\n  sensitivity: {score_max: 11}\n", "rule 1 (a): sensitivity.score_max"),
    ("- name: a\n  kind: escalation\n  sensitivity: {rule: '消协 12315'}\n", "rule 1 (a): sensitivity.rule"),
    ("- name: a\n  kind: low_score\n  scope: {shop: [x]}\n", "rule 1 (a): scope.shop"),
    ("- name: a\n  kind: low_score\n- name: a\n  kind: escalation\n", "rule 2 (a): name"),
    ("- name: a\n  kind: low_score\n  ticket: {sla_hours: 4}\n", "rule 1 (a): ticket.owner"),
    ("name: a\n", "expected a list of rules"),
    ("- [1, 2]\n", "rule 1: expected a mapping"),
    ("- name: a\n  kind: [low_score\n", "not valid YAML"),
    ("[" * 50_000 + "]" * 50_000, "nested too deeply"),  # crafted to exhaust the parser's recursion
])
def test_bad_rule_files_are_rejected_naming_rule_and_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(RuleError) as caught:
        load_rules(_write(tmp_path / "bad.yaml", text))
    assert expected in str(caught.value)
    assert str(tmp_path / "bad.yaml") in str(caught.value)


def test_unknown_webhook_is_rejected_on_import(voc: Voc) -> None:
    rules = parse_rules([{"name": "a", "kind": "low_score", "webhooks": ["ops"]}])
    with pytest.raises(RuleError, match="rule a: webhooks: 'ops' is not a configured webhook"):
        voc.alerts.import_rules(rules)
    assert voc.alerts.rules() == []


# --- on ingest -----------------------------------------------------------------------------------

def test_alerts_fire_on_file_ingest(voc: Voc, tmp_path: Path) -> None:
    voc.alerts.import_rules(parse_rules([{"name": "差评", "kind": "low_score"},
                                         {"name": "升级", "kind": "escalation", "scope": {"source": ["review"]}}]))
    voc.ingest(_write(tmp_path / "s.csv", "id,text,score,store,time\n"
                      "s1,服务太差了，电话13812345678没人接,3,浦东店,2026-03-01\n"
                      "s2,很满意,9,浦东店,2026-03-01\ns3,还行吧,7,浦东店,2026-03-01\n"), "survey")
    voc.ingest(_write(tmp_path / "r.csv", "id,text,rating,time\n"
                      "r1,假货！我要投诉到消协，打12315，要求退一赔三,4,2026-03-02\n"
                      "r2,一星，太难吃,1,2026-03-02\nr3,没有去消协，挺好,5,2026-03-02\n"), "review")
    alerts = {(a["rule"], a["detail"].get("score") or a["detail"].get("rating") or tuple(a["detail"]["words"]))
              for a in voc.alerts.alerts()}
    assert alerts == {("差评", 3.0), ("差评", 1.0), ("升级", ("消协", "12315", "退一赔三"))}
    low = next(a for a in voc.alerts.alerts() if a["detail"].get("score") == 3.0)
    assert low["snippets"][0].startswith("服务太差了") and "13812345678" not in low["snippets"][0]  # masked
    # Ingesting the same file again stores nothing new, so nothing fires again.
    voc.ingest(tmp_path / "s.csv", "survey")
    assert len(voc.alerts.alerts()) == 3


def test_alerts_fire_on_record_ingest_within_scope(voc: Voc) -> None:
    voc.alerts.import_rules(parse_rules([{"name": "浦东差评", "kind": "low_score",
                                          "scope": {"store": ["浦东店"], "source": ["survey"]}}]))
    results = voc.ingest_records([
        RecordItem("survey", {"id": "a", "text": "排队太久", "score": 2, "store": "浦东店"}),
        RecordItem("survey", {"id": "b", "text": "排队太久了", "score": 2, "store": "静安店"}),
        RecordItem("review", {"id": "c", "text": "一般", "rating": 1, "store": "浦东店"}),
    ])
    assert [r.status for r in results] == ["accepted"] * 3
    fired = voc.alerts.alerts()
    assert [a["document_ids"] for a in fired] == [[results[0].id]]


def test_failed_file_ingest_takes_its_alerts_back(voc: Voc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voc.ingest.run_writer import RunWriter

    voc.alerts.import_rules(parse_rules([{"name": "差评", "kind": "low_score"}]))
    rows = "\n".join(f"s{i},第{i}位顾客不满意,2,2026-03-01" for i in range(6))
    path = _write(tmp_path / "s.csv", "id,text,score,time\n" + rows + "\n")
    original = RunWriter.store_batch
    calls = {"n": 0}

    def failing(self: RunWriter, docs: list[Document], report: Any) -> list[Document]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return original(self, docs, report)

    monkeypatch.setattr(RunWriter, "store_batch", failing)
    voc.settings.batch_size = 3
    with pytest.raises(OSError):
        voc.ingest(path, "survey")
    assert voc.store.count() == 0
    assert voc.alerts.alerts() == []


# --- dedupe and cooldown -------------------------------------------------------------------------

def _doc(doc_id: str, **values: Any) -> Document:
    return Document(id=doc_id, source=values.pop("source", "survey"), text=values.pop("text", "不满意"),
                    text_original="", **values)


def test_same_rule_and_subject_fires_once_within_cooldown(voc: Voc) -> None:
    clock = Clock(datetime(2026, 3, 1, 9))
    service = AlertService(voc.store.engine, clock=clock)
    service.import_rules(parse_rules([{"name": "差评", "kind": "low_score", "cooldown": "2h"}]))
    doc = _doc("d1", meta={"score": 1})
    assert len(service.on_committed([doc])) == 1
    clock.now += timedelta(minutes=119)
    assert service.on_committed([doc, doc]) == []  # same subject within the cooldown: deduplicated
    assert len(service.on_committed([_doc("d2", meta={"score": 0})])) == 1  # another subject fires
    clock.now += timedelta(minutes=2)
    assert len(service.on_committed([doc])) == 1  # past the cooldown
    assert [a["subject"] for a in service.alerts()] == ["document:d1", "document:d2", "document:d1"]


def test_sensitivity_thresholds(voc: Voc) -> None:
    service = AlertService(voc.store.engine)
    service.import_rules(parse_rules([{"name": "strict", "kind": "low_score",
                                       "sensitivity": {"score_max": 4, "rating_max": 1}}]))
    fired = service.on_committed([_doc("s5", meta={"score": 5}), _doc("s4", meta={"score": 4}),
                                  _doc("r2", source="review", meta={"rating": 2}),
                                  _doc("r1", source="review", meta={"rating": 1}), _doc("none")])
    assert sorted(a["subject"] for a in service.alerts()) == ["document:r1", "document:s4"]
    assert len(fired) == 2


def test_ticket_opened_through_the_injected_callable(voc: Voc) -> None:
    opened: list[dict[str, Any]] = []

    def open_ticket(alert: dict[str, Any]) -> str:
        opened.append(alert)
        return f"T-{len(opened)}"

    service = AlertService(voc.store.engine, open_ticket=open_ticket)
    service.import_rules(parse_rules([
        {"name": "差评", "kind": "low_score", "ticket": {"owner": "浦东店", "sla_hours": 4}},
        {"name": "升级", "kind": "escalation"}]))
    service.on_committed([_doc("d1", meta={"score": 2}, tokens=["我要", "去", "消协"])])
    assert [(a["rule"], a["ticket"]) for a in opened] == [("差评", {"owner": "浦东店", "sla_hours": 4.0})]
    tickets = {a["rule"]: a["ticket_id"] for a in service.alerts()}
    assert tickets == {"差评": "T-1", "升级": None}


def test_facade_opens_a_real_ticket_with_the_evidence(voc: Voc) -> None:
    voc.alerts.import_rules(parse_rules([{"name": "差评", "kind": "low_score",
                                          "ticket": {"owner": "浦东店", "sla_hours": 8}}]))
    voc.ingest_records([RecordItem("survey", {"id": "t1", "text": "很失望", "score": 1, "store": "浦东店"})])
    alert = voc.alerts.alerts()[0]
    assert alert["ticket_id"]
    ticket = voc.tickets.get(int(alert["ticket_id"]))
    assert (ticket.owner, ticket.sla_hours, ticket.alert_id) == ("浦东店", 8.0, str(alert["id"]))


# --- on schedule ---------------------------------------------------------------------------------

def _store(voc: Voc, docs: list[Document]) -> None:
    now = datetime(2026, 3, 31)
    with voc.store.engine.begin() as conn:
        conn.execute(insert(documents), [document_row(doc, None, now) for doc in docs])


def _history(store: str, per_week: list[int], end: datetime, negative_from: int = 99,
             topic: int | None = None) -> list[Document]:
    docs = []
    for week, count in enumerate(per_week):  # week 0 is the oldest; the last is the current period
        start = end - timedelta(weeks=len(per_week) - week)
        for i in range(count):
            docs.append(_doc(f"{store}-{topic}-{week}-{i}", source="review", store=store, topic_id=topic,
                             created_at=start + timedelta(hours=1 + i),
                             sentiment_label="negative" if week >= negative_from else "positive",
                             text=f"{store}第{week}周评论{i}"))
    return docs


def test_rising_store_volume_fires_on_schedule_and_dedupes(voc: Voc) -> None:
    end = datetime(2026, 3, 29, 23)
    _store(voc, _history("浦东店", [2, 3, 2, 3, 14], end) + _history("静安店", [3, 3, 3, 3, 3], end))
    clock = Clock(datetime(2026, 3, 30, 8))
    service = AlertService(voc.store.engine, clock=clock)
    service.import_rules(parse_rules([{"name": "门店上升", "kind": "rising", "cooldown": "7d",
                                       "sensitivity": {"by": "store", "measure": "volume"}}]))
    first = service.run()
    assert [a["subject"] for a in first["alerts"]] == ["store:浦东店"]
    alert = first["alerts"][0]
    assert alert["detail"]["count"] == 14 and alert["detail"]["p_value"] < 0.01
    assert len(alert["document_ids"]) == 10 and alert["snippets"][0].startswith("浦东店第4周")
    clock.now += timedelta(days=1)
    again = service.run()
    assert again["alerts"] == [] and again["suppressed"] == 1


def test_rising_negative_share_per_topic_respects_scope(voc: Voc) -> None:
    end = datetime(2026, 3, 29, 23)
    _store(voc, _history("浦东店", [6, 6, 6, 6, 6], end, negative_from=4, topic=3)
           + _history("静安店", [6, 6, 6, 6, 6], end, negative_from=4, topic=4))
    service = AlertService(voc.store.engine, topic_labels=lambda: {3: "排队", 4: "价格"})
    service.import_rules(parse_rules([{"name": "负面上升", "kind": "rising", "scope": {"store": ["浦东店"]},
                                       "sensitivity": {"by": "topic", "measure": "negative_share"}}]))
    fired = service.run()["alerts"]
    assert [(a["subject"], a["detail"]["label"], a["detail"]["reasons"]) for a in fired] == [
        ("topic:3", "排队", ["negative_share"])]


def test_new_emerging_topic(voc: Voc) -> None:
    end = datetime(2026, 3, 29, 23)
    _store(voc, _history("浦东店", [4, 4, 4, 4, 4], end, topic=1) + _history("浦东店", [0, 0, 0, 0, 9], end, topic=2))
    service = AlertService(voc.store.engine)
    service.import_rules(parse_rules([{"name": "新话题", "kind": "emerging_topic"}]))
    assert [a["subject"] for a in service.run()["alerts"]] == ["topic:2"]


def test_scheduled_run_ignores_per_document_rules(voc: Voc) -> None:
    _store(voc, [_doc("x", meta={"score": 0}, created_at=datetime(2026, 3, 1))])
    service = AlertService(voc.store.engine)
    service.import_rules(parse_rules([{"name": "差评", "kind": "low_score"}]))
    assert service.run() | {"at": None} == {"at": None, "rules": [], "found": 0, "suppressed": 0, "alerts": [],
                                           "deliveries": {"delivered": 0, "failed": 0}}


def test_zero_cooldown_at_the_same_instant_gives_each_alert_its_own_id(voc: Voc) -> None:
    clock = Clock(datetime(2026, 3, 1, 9))
    service = AlertService(voc.store.engine, clock=clock)
    service.import_rules(parse_rules([{"name": "差评", "kind": "low_score", "cooldown": 0}]))
    first = service.on_committed([_doc("d1", meta={"score": 1})])
    second = service.on_committed([_doc("d1", meta={"score": 1})])
    assert len(first) == len(second) == 1 and first != second
    assert sorted(a["id"] for a in service.alerts()) == sorted(first + second)
