"""Tickets (工单): the status flow, the audit trail, SLA due times, escalation with injected time, reports
on a constructed history, and PII masking of comments. Time is a clock the test moves, never slept."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from voc.documents import Document
from voc.settings import VocSettings
from voc.store import DocumentStore, document_row, documents
from voc.tickets import InvalidTransition, TicketError, TicketNotFound, TicketService, TicketStatus, load_chain

T0 = datetime(2026, 3, 2, 9, 0, 0)
CHAIN = {"北京朝阳店": "华北大区", "华北大区": "总部"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    store = DocumentStore(f"sqlite:///{tmp_path / 'voc.sqlite'}")
    docs = [Document(id="d1", source="survey", text="服务态度差，电话[PHONE]",
                     text_original="服务态度差，电话13812345678", store="北京朝阳店"),
            Document(id="d2", source="review", text="等了一个小时", text_original="等了一个小时", store="北京朝阳店")]
    with store.engine.begin() as conn:
        conn.execute(insert(documents), [document_row(doc, None, T0) for doc in docs])
    return store


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def events() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def svc(store: DocumentStore, clock: Clock, events: list[dict[str, Any]], tmp_path: Path) -> TicketService:
    chain = tmp_path / "chain.yaml"
    chain.write_text("北京朝阳店: 华北大区\n华北大区: 总部\n", encoding="utf-8")
    settings = VocSettings(home=tmp_path, ticket_sla_hours=24, ticket_escalation=str(chain))
    return TicketService.from_settings(settings, store.engine, clock=clock, notify=events.append)


def test_full_status_flow_with_reopen_and_the_audit_trail(svc: TicketService, clock: Clock) -> None:
    ticket = svc.open("低分：服务态度", "北京朝阳店", ["d1", "d2"], actor="alice")
    assert ticket.status is TicketStatus.OPEN and ticket.owner == ticket.original_owner == "北京朝阳店"
    assert ticket.evidence_ids == ["d1", "d2"]
    steps = [("in_progress", "bob"), ("resolved", "bob"), ("open", "carol"), ("in_progress", "bob"),
             ("resolved", "bob"), ("closed", "carol"), ("open", "dave")]
    for status, who in steps:
        clock.advance(hours=1)
        ticket = svc.set_status(ticket.id, status, actor=who, note=f"到 {status}")
        assert ticket.status == status
    assert ticket.resolved_at is None and ticket.closed_at is None  # reopened
    audit = svc.detail(ticket.id)["audit"]
    assert [(a["action"], a["from"], a["to"], a["actor"]) for a in audit] == [
        ("opened", None, "open", "alice"),
        *[("status", before, after, who) for before, (after, who) in zip(
            ["open", *[s for s, _ in steps[:-1]]], steps, strict=True)]]
    assert audit[0]["at"] == "2026-03-02T09:00:00" and audit[-1]["at"] == "2026-03-02T16:00:00"
    assert audit[1]["detail"]["note"] == "到 in_progress"
    assert audit[3]["detail"]["due_at"] == "2026-03-03T12:00:00"  # reopened at 12:00: a fresh 24 h


@pytest.mark.parametrize(("path", "wanted"), [
    ([], "resolved"), ([], "closed"), ([], "open"), (["in_progress"], "closed"), (["in_progress"], "open"),
    (["in_progress", "resolved"], "in_progress"), (["in_progress", "resolved", "closed"], "resolved"),
])
def test_invalid_transitions_are_rejected_and_change_nothing(svc: TicketService, path: list[str],
                                                              wanted: str) -> None:
    ticket = svc.open("t", "北京朝阳店", ["d1"], actor="a")
    for status in path:
        svc.set_status(ticket.id, status, actor="a")
    before = svc.detail(ticket.id)
    with pytest.raises(InvalidTransition, match=f"cannot become {wanted}"):
        svc.set_status(ticket.id, wanted, actor="a")
    assert svc.detail(ticket.id) == before
    with pytest.raises(TicketError, match="unknown status"):
        svc.set_status(ticket.id, "done", actor="a")


def test_sla_due_time_from_argument_rule_or_default(svc: TicketService) -> None:
    assert svc.open("a", "北京朝阳店", [], actor="x").due_at == T0 + timedelta(hours=24)
    assert svc.open("b", "北京朝阳店", [], sla_hours=4, actor="x").due_at == T0 + timedelta(hours=4)
    by_rule = svc.open("c", "北京朝阳店", [], rule={"name": "low-score", "sla_hours": 2}, actor="x")
    assert (by_rule.due_at, by_rule.rule, by_rule.sla_hours) == (T0 + timedelta(hours=2), "low-score", 2)
    fixed = svc.open("d", "北京朝阳店", [], due_at=T0 + timedelta(hours=6), actor="x")
    assert (fixed.due_at, fixed.sla_hours) == (T0 + timedelta(hours=6), 6)
    with pytest.raises(TicketError, match="positive"):
        svc.open("e", "北京朝阳店", [], sla_hours=0, actor="x")


def test_opening_from_the_same_alert_twice_returns_the_same_ticket(svc: TicketService) -> None:
    first = svc.open("低分", "北京朝阳店", ["d1"], alert_id="alert-7", actor="alerts")
    again = svc.open("低分（重复）", "北京朝阳店", ["d2"], alert_id="alert-7", actor="alerts")
    assert again.id == first.id and again.title == "低分" and svc.count() == 1


def test_bad_input_is_a_clear_error_and_stores_nothing(svc: TicketService) -> None:
    with pytest.raises(TicketError, match="unknown evidence documents: nope"):
        svc.open("t", "北京朝阳店", ["d1", "nope"], actor="a")
    with pytest.raises(TicketError, match="owner"):
        svc.open("t", "  ", ["d1"], actor="a")
    with pytest.raises(TicketError, match="title"):
        svc.open(" ", "北京朝阳店", ["d1"], actor="a")
    assert svc.count() == 0
    with pytest.raises(TicketNotFound):
        svc.get(99)
    with pytest.raises(TicketNotFound):
        svc.comment(99, "x", actor="a")


def test_evidence_shows_the_masked_text_never_the_original(svc: TicketService) -> None:
    ticket = svc.open("低分", "北京朝阳店", ["d1"], actor="a")
    evidence = svc.detail(ticket.id)["evidence"]
    assert evidence[0]["text"] == "服务态度差，电话[PHONE]" and "13812345678" not in str(evidence)


def test_comments_are_pii_masked_and_capped(svc: TicketService) -> None:
    ticket = svc.open("客户 13912345678 投诉", "北京朝阳店", ["d1"], actor="a")
    assert "13912345678" not in ticket.title
    comment = svc.comment(ticket.id, "已回电 139 1234 5678，邮箱 zhang.san@example.com", actor="bob")
    stored = svc.detail(ticket.id)["comments"]
    assert stored == [comment]
    assert "1234" not in comment["text"] and "zhang.san" not in comment["text"] and comment["text"].startswith("已回电")
    with pytest.raises(TicketError, match="at most 4,000"):
        svc.comment(ticket.id, "长" * 4001, actor="bob")
    with pytest.raises(TicketError, match="empty"):
        svc.comment(ticket.id, "   ", actor="bob")
    assert len(svc.detail(ticket.id)["comments"]) == 1


def test_overdue_ticket_escalates_store_region_head_office(svc: TicketService, clock: Clock,
                                                          events: list[dict[str, Any]]) -> None:
    ticket = svc.open("差评未处理", "北京朝阳店", ["d1"], sla_hours=4, actor="alerts")
    assert svc.escalate(T0 + timedelta(hours=4))["escalated"] == []  # due, not yet over
    first = svc.escalate(T0 + timedelta(hours=5))
    assert [(e["from_owner"], e["to_owner"], e["level"]) for e in first["escalated"]] == [("北京朝阳店", "华北大区", 1)]
    assert svc.escalate(T0 + timedelta(hours=5))["escalated"] == []  # the same run again: nothing more
    now = svc.get(ticket.id)
    assert (now.owner, now.original_owner, now.level, now.due_at) == (
        "华北大区", "北京朝阳店", 1, T0 + timedelta(hours=9))
    assert svc.list(overdue=True, now=T0 + timedelta(hours=6)) == []
    svc.set_status(ticket.id, "in_progress", actor="region")  # still in progress when due again
    svc.escalate(T0 + timedelta(hours=9, minutes=1))
    top = svc.escalate(T0 + timedelta(hours=20))
    assert top["escalated"] == [] and top["at_top"] == [ticket.id]  # 总部 has no level above
    assert [(e["to_owner"], e["level"], e["at"]) for e in events] == [
        ("华北大区", 1, "2026-03-02T14:00:00"), ("总部", 2, "2026-03-02T18:01:00")]
    assert events[1]["original_owner"] == "北京朝阳店" and events[1]["ticket_id"] == ticket.id
    audit = svc.detail(ticket.id)["audit"]
    escalations = [a for a in audit if a["action"] == "escalated"]
    assert [(a["from"], a["to"], a["actor"], a["detail"]["level"]) for a in escalations] == [
        ("北京朝阳店", "华北大区", "system:escalation", 1), ("华北大区", "总部", "system:escalation", 2)]
    notices = [a for a in audit if a["action"] == "notified"]
    assert [n["detail"]["event"] for n in notices] == events and all(n["detail"]["delivered"] for n in notices)


def test_resolved_tickets_do_not_escalate_and_a_failing_notifier_is_recorded(store: DocumentStore,
                                                                             clock: Clock) -> None:
    def broken(event: dict[str, Any]) -> None:
        raise ConnectionError("receiver down")

    svc = TicketService(store.engine, clock=clock, next_level=lambda owner: {"s": "r"}.get(owner), notify=broken)
    done = svc.open("done", "s", [], sla_hours=1, actor="a")
    late = svc.open("late", "s", [], sla_hours=1, actor="a")
    svc.set_status(done.id, "in_progress", actor="a")
    svc.set_status(done.id, "resolved", actor="a")
    result = svc.escalate(T0 + timedelta(hours=2))
    assert [e["ticket_id"] for e in result["escalated"]] == [late.id]
    assert svc.get(late.id).owner == "r" and svc.get(done.id).owner == "s"
    notice = next(a for a in svc.detail(late.id)["audit"] if a["action"] == "notified")
    assert notice["detail"]["delivered"] is False and notice["detail"]["error"] == "ConnectionError"


def test_default_notifier_still_records_the_event(store: DocumentStore, clock: Clock) -> None:
    svc = TicketService(store.engine, clock=clock, next_level=lambda owner: "up" if owner == "s" else None)
    ticket = svc.open("t", "s", [], sla_hours=1, actor="a")
    svc.escalate(T0 + timedelta(hours=3))
    notice = next(a for a in svc.detail(ticket.id)["audit"] if a["action"] == "notified")
    assert notice["detail"]["delivered"] is False and notice["detail"]["event"]["to_owner"] == "up"


def test_assign_keeps_the_original_owner_and_list_filters(svc: TicketService, clock: Clock) -> None:
    a = svc.open("a", "北京朝阳店", [], sla_hours=1, actor="x")
    b = svc.open("b", "北京朝阳店", [], sla_hours=10, actor="x")
    moved = svc.assign(b.id, "客服中心", actor="lead")
    assert (moved.owner, moved.original_owner) == ("客服中心", "北京朝阳店")
    assert [(e["action"], e["from"], e["to"]) for e in svc.detail(b.id)["audit"]][-1] == (
        "assign", "北京朝阳店", "客服中心")
    assert [t.id for t in svc.list(owner="客服中心")] == [b.id]
    assert [t.id for t in svc.list(overdue=True, now=T0 + timedelta(hours=2))] == [a.id]
    assert [t.id for t in svc.list(status=["open"])] == [a.id, b.id]  # earliest due first
    # a data scope: the store sees both (one it was opened for), another node sees neither
    assert {t.id for t in svc.list(owners={"北京朝阳店"})} == {a.id, b.id}
    assert svc.list(owners={"上海店"}) == []
    with pytest.raises(TicketNotFound):
        svc.get(a.id, owners={"上海店"})


def test_report_resolution_time_and_sla_compliance_per_owner(store: DocumentStore, clock: Clock) -> None:
    svc = TicketService(store.engine, clock=clock)
    # store A: resolved after 2, 4, 6, 8 and 30 hours against a 24 h SLA (4 met, 1 missed)
    for hours in (2, 4, 6, 8, 30):
        clock.now = T0
        ticket = svc.open(f"A{hours}", "A", [], sla_hours=24, actor="x")
        svc.set_status(ticket.id, "in_progress", actor="x")
        clock.now = T0 + timedelta(hours=hours)
        svc.set_status(ticket.id, "resolved", actor="x")
    # store B: one resolved in 1 h, one open past due (missed), one open not yet due (pending)
    clock.now = T0
    quick = svc.open("B1", "B", [], sla_hours=2, actor="x")
    svc.open("B2", "B", [], sla_hours=2, actor="x")
    svc.open("B3", "B", [], sla_hours=100, actor="x")
    svc.set_status(quick.id, "in_progress", actor="x")
    clock.now = T0 + timedelta(hours=1)
    svc.set_status(quick.id, "resolved", actor="x")
    report = svc.report(now=T0 + timedelta(hours=48))
    a, b = report["owners"]
    assert (a["owner"], a["tickets"], a["resolved"], a["median_resolution_hours"]) == ("A", 5, 5, 6.0)
    assert a["p90_resolution_hours"] == pytest.approx(8 + 0.6 * 22)  # numpy's linear p90 of 2,4,6,8,30
    assert (a["sla_met"], a["sla_missed"], a["sla_compliance"]) == (4, 1, 0.8)
    assert (b["tickets"], b["resolved"], b["median_resolution_hours"], b["sla_met"], b["sla_missed"],
            b["sla_pending"], b["sla_compliance"]) == (3, 1, 1.0, 1, 1, 1, 0.5)
    assert report["total"]["tickets"] == 8 and report["total"]["sla_compliance"] == pytest.approx(5 / 7, abs=1e-4)
    later = svc.report(since=T0 + timedelta(minutes=1), now=T0 + timedelta(hours=48))
    assert later["owners"] == [] and later["total"]["tickets"] == 0


def test_escalation_compliance_is_measured_on_the_first_due_time(store: DocumentStore, clock: Clock) -> None:
    svc = TicketService(store.engine, clock=clock, next_level=lambda owner: "R" if owner == "S" else None)
    ticket = svc.open("t", "S", [], sla_hours=2, actor="x")
    svc.escalate(T0 + timedelta(hours=3))  # new due: T0 + 5 h
    svc.set_status(ticket.id, "in_progress", actor="x")
    clock.now = T0 + timedelta(hours=4)
    svc.set_status(ticket.id, "resolved", actor="x")
    row = svc.report(now=T0 + timedelta(hours=10))["owners"][0]
    assert (row["owner"], row["sla_missed"], row["sla_met"]) == ("S", 1, 0)


def test_escalation_chain_config(tmp_path: Path) -> None:
    assert load_chain('{"北京朝阳店": "华北大区", "华北大区": "总部"}') == CHAIN
    path = tmp_path / "chain.json"
    path.write_text('{"a": "b"}', encoding="utf-8")
    assert load_chain(str(path)) == {"a": "b"}
    assert load_chain(None) == {}
    with pytest.raises(TicketError, match="cycle"):
        load_chain('{"a": "b", "b": "a"}')
    with pytest.raises(TicketError, match="no file"):
        load_chain(str(tmp_path / "missing.yaml"))
    with pytest.raises(TicketError, match="map each node"):
        load_chain("[1, 2]")


def test_cli_flow_escalates_with_a_given_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from voc.cli.main import app

    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOC_TICKET_ESCALATION", json.dumps(CHAIN, ensure_ascii=False))
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.stdout

    opened = json.loads(run("tickets", "open", "--title", "客户 13812345678 投诉", "--owner", "北京朝阳店",
                            "--sla-hours", "2", "--actor", "alice", "--json"))
    assert "13812345678" not in opened["title"] and opened["status"] == "open"
    ticket = str(opened["id"])
    run("tickets", "status", ticket, "closed", code=2)  # open → closed is not a step of the flow
    run("tickets", "status", ticket, "in_progress", "--note", "已联系")
    run("tickets", "comment", ticket, "回电 13812345678")
    run("tickets", "open", "--title", "x", "--owner", "北京朝阳店", "--doc", "nope", code=2)
    run("tickets", "show", "999", code=1)
    late = (datetime.fromisoformat(opened["due_at"]) + timedelta(minutes=1)).isoformat()
    escalated = json.loads(run("tickets", "escalate", "--now", late, "--json"))
    assert [(e["from_owner"], e["to_owner"]) for e in escalated["escalated"]] == [("北京朝阳店", "华北大区")]
    assert json.loads(run("tickets", "escalate", "--now", late, "--json"))["escalated"] == []
    listed = json.loads(run("tickets", "list", "--owner", "华北大区", "--json"))
    assert [t["id"] for t in listed] == [opened["id"]]
    shown = json.loads(run("tickets", "show", ticket, "--json"))
    assert [c["text"] for c in shown["comments"]] == ["回电 [手机号]"]
    assert [a["action"] for a in shown["audit"]] == ["opened", "status", "comment", "escalated", "notified"]
    report = json.loads(run("tickets", "report", "--json"))
    assert report["owners"][0]["owner"] == "北京朝阳店" and report["total"]["tickets"] == 1
    monkeypatch.setenv("VOC_TICKET_ESCALATION", str(tmp_path / "missing.yaml"))
    result = runner.invoke(app, ["tickets", "list"])
    assert result.exit_code == 2 and "VOC_TICKET_ESCALATION: no file" in result.stderr


def test_a_long_evidence_list_keeps_the_first_documents(store: DocumentStore, clock: Clock) -> None:
    extra = [Document(id=f"x{i:03d}", source="review", text=f"第{i}条", text_original=f"第{i}条") for i in range(250)]
    with store.engine.begin() as conn:
        conn.execute(insert(documents), [document_row(doc, None, T0) for doc in extra])
    svc = TicketService(store.engine, clock=clock)
    ticket = svc.open("上升的话题", "华北大区", [doc.id for doc in extra], actor="alerts")
    assert ticket.evidence_ids == [f"x{i:03d}" for i in range(200)]
    opened = svc.detail(ticket.id)["audit"][0]["detail"]
    assert (opened["evidence"], opened["evidence_given"]) == (200, 250)


def test_two_escalation_runs_at_once_escalate_once(store: DocumentStore, clock: Clock) -> None:
    import threading

    events: list[dict[str, Any]] = []
    services = [TicketService(store.engine, clock=clock, next_level=lambda owner: {"s": "r"}.get(owner),
                              notify=events.append) for _ in range(2)]
    ids = [services[0].open(f"t{i}", "s", [], sla_hours=1, actor="a").id for i in range(20)]
    start = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def run(service: TicketService) -> None:
        start.wait()
        results.append(service.escalate(T0 + timedelta(hours=2)))

    threads = [threading.Thread(target=run, args=(service,)) for service in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    escalated = sorted(e["ticket_id"] for result in results for e in result["escalated"])
    assert escalated == ids and sorted(e["ticket_id"] for e in events) == ids
    assert all(services[0].get(i).level == 1 for i in ids)
