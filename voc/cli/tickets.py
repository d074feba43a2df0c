"""`voc tickets …`: the ticket (工单) inbox from the command line, and `escalate` for cron."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail, open_service, progress_bar
from voc.tickets import Ticket, TicketError, TicketNotFound, TicketService

tickets_app = typer.Typer(help="Tickets (工单): list, show, open, move through the status flow, comment, "
                               "reassign, escalate overdue ones, report.", no_args_is_help=True)

IdArg = Annotated[int, typer.Argument(help="Ticket id.", min=1)]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who the audit trail records; default cli:$USER.")]
NowOpt = Annotated[str | None, typer.Option("--now", help="The time to judge by (ISO 8601); default: now.")]


def _actor(value: str | None) -> str:
    if value and value.strip():
        return value.strip()[:128]
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def _time(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise fail(f"{option} {value!r} is not an ISO 8601 time (e.g. 2026-03-05T09:00)") from None


@contextmanager
def _tickets() -> Iterator[TicketService]:
    voc = open_service()
    try:
        yield voc.tickets
    except TicketNotFound as exc:
        raise fail(str(exc), code=1) from None
    except TicketError as exc:
        raise fail(str(exc)) from None
    finally:
        voc.close()


def _line(ticket: Ticket, now: datetime) -> str:
    late = ticket.overdue(now)
    due = ticket.due_at.isoformat(sep=" ", timespec="minutes")
    owner = ticket.owner if ticket.owner == ticket.original_owner else f"{ticket.owner} (from {ticket.original_owner})"
    flag = "[bold red]overdue[/] " if late else ""
    return (f"#{ticket.id:<5} {ticket.status.value:<11} {flag}due {due}  {escape(owner)}  "
            f"{escape(ticket.title)}")


@tickets_app.command("list")
def list_tickets(
    owner: Annotated[str | None, typer.Option("--owner", help="Only tickets this node owns now.")] = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="open, in_progress, resolved or closed "
                                                                       "(repeatable).")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open or in-progress tickets past due.")] = False,
    now: NowOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Tickets, earliest due first."""
    at = _time(now, "--now")
    with _tickets() as service:
        moment = at or service.clock()
        found = service.list(status=status or (), owner=owner, overdue=overdue, now=moment, limit=limit)
    if as_json:
        emit_json([ticket.to_dict(moment) for ticket in found])
        return
    if not found:
        common.err_console.print("no tickets match", highlight=False)
    for ticket in found:
        common.console.print(_line(ticket, moment), highlight=False)


@tickets_app.command("show")
def show(ticket_id: IdArg, as_json: JsonOpt = False) -> None:
    """One ticket with its evidence (masked text), comments and audit trail."""
    with _tickets() as service:
        data = service.detail(ticket_id)
    if as_json:
        emit_json(data)
        return
    out = common.console
    overdue = " [bold red]overdue[/]" if data["overdue"] else ""
    out.print(f"[bold]#{data['id']} {escape(data['title'])}[/]  {data['status']}{overdue}", highlight=False)
    out.print(f"  owner {escape(data['owner'])} (opened for {escape(data['original_owner'])}, level {data['level']})"
              f"  due {data['due_at']}  SLA {data['sla_hours']:g} h", highlight=False)
    if data["alert_id"] or data["rule"]:
        out.print(f"  alert {data['alert_id'] or '-'}  rule {escape(data['rule'] or '-')}", highlight=False)
    for doc in data["evidence"]:
        text = "(no longer in the store)" if doc["missing"] else escape(doc["text"])
        out.print(f"  [cyan]{doc['id']}[/] {text}", highlight=False)
    for note in data["comments"]:
        out.print(f"  [green]{note['at']} {escape(note['author'])}[/]: {escape(note['text'])}", highlight=False)
    for entry in data["audit"]:
        change = f" {entry['from'] or ''} → {entry['to'] or ''}" if entry["from"] or entry["to"] else ""
        out.print(f"  [dim]{entry['at']} {escape(entry['actor'])} {entry['action']}{escape(change)}[/]",
                  highlight=False)


@tickets_app.command("open")
def open_ticket(
    title: Annotated[str, typer.Option("--title", help="What is wrong, in a line.")],
    owner: Annotated[str, typer.Option("--owner", help="The node that must act: a store, region, head office "
                                                       "or team.")],
    doc: Annotated[list[str] | None, typer.Option("--doc", help="Evidence document id (repeatable or "
                                                                "comma-separated).")] = None,
    sla_hours: Annotated[float | None, typer.Option("--sla-hours", min=0.01, help="Hours until due; default "
                                                                                  "VOC_TICKET_SLA_HOURS.")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a ticket by hand."""
    ids = [part for value in doc or [] for part in value.replace(",", " ").split()]
    with _tickets() as service:
        ticket = service.open(title, owner, ids, sla_hours=sla_hours, actor=_actor(actor))
        moment = service.clock()
    if as_json:
        emit_json(ticket.to_dict(moment))
    else:
        common.console.print(f"opened {_line(ticket, moment)}", highlight=False)


@tickets_app.command("status")
def set_status(
    ticket_id: IdArg,
    new: Annotated[str, typer.Argument(help="in_progress, resolved, closed, or open (reopen).")],
    note: Annotated[str | None, typer.Option("--note", help="Why (kept in the audit trail, PII-masked).")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a ticket along open → in_progress → resolved → closed, or reopen it."""
    with _tickets() as service:
        ticket = service.set_status(ticket_id, new, actor=_actor(actor), note=note)
        moment = service.clock()
    if as_json:
        emit_json(ticket.to_dict(moment))
    else:
        common.console.print(_line(ticket, moment), highlight=False)


@tickets_app.command("comment")
def comment(ticket_id: IdArg, text: Annotated[str, typer.Argument(help="The comment (PII is masked).")],
            actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Add a comment to a ticket."""
    with _tickets() as service:
        added = service.comment(ticket_id, text, actor=_actor(actor))
    if as_json:
        emit_json(added)
    else:
        common.console.print(f"comment {added['id']} on ticket #{ticket_id}: {escape(added['text'])}",
                             highlight=False)


@tickets_app.command("assign")
def assign(ticket_id: IdArg, owner: Annotated[str, typer.Argument(help="The new owner node.")],
           actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Hand a ticket to another owner (the owner it was opened for stays recorded)."""
    with _tickets() as service:
        ticket = service.assign(ticket_id, owner, actor=_actor(actor))
        moment = service.clock()
    if as_json:
        emit_json(ticket.to_dict(moment))
    else:
        common.console.print(_line(ticket, moment), highlight=False)


@tickets_app.command("escalate")
def escalate(now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Escalate every overdue ticket one level up and notify (run it from cron; running twice is harmless)."""
    at = _time(now, "--now")
    with _tickets() as service, progress_bar("escalating", None, enabled=not as_json) as advance:
        result = service.escalate(at, progress=lambda done, total: advance(1))
    if as_json:
        emit_json(result)
        return
    for event in result["escalated"]:
        common.console.print(f"#{event['ticket_id']} {escape(event['from_owner'])} → {escape(event['to_owner'])} "
                             f"(level {event['level']}, due {event['due_at']})", highlight=False)
    common.console.print(f"{len(result['escalated'])} escalated, {len(result['at_top'])} overdue at the top level",
                         highlight=False)


@tickets_app.command("report")
def report(
    since: Annotated[str | None, typer.Option("--since", help="Tickets opened from this time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="...and before this time.")] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolution time (median, p90) and SLA compliance per owner the tickets were opened for."""
    with _tickets() as service:
        data = service.report(since=_time(since, "--since"), until=_time(until, "--until"), now=_time(now, "--now"))
    if as_json:
        emit_json(data)
        return
    out = common.console
    out.print(f"{'owner':<20} {'tickets':>7} {'resolved':>8} {'median h':>9} {'p90 h':>7} {'SLA met':>8}",
              highlight=False)
    for row in [*data["owners"], {**data["total"], "owner": "(all)"}]:
        compliance = "-" if row["sla_compliance"] is None else f"{row['sla_compliance']:.0%}"
        out.print(f"{escape(row['owner']):<20} {row['tickets']:>7} {row['resolved']:>8} "
                  f"{_hours(row['median_resolution_hours']):>9} {_hours(row['p90_resolution_hours']):>7} "
                  f"{compliance:>8}", highlight=False)


def _hours(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"
