"""Tickets (工单): the inbox (list, one ticket with evidence, comments and audit), opening, the status flow,
comments, reassignment, escalation of overdue tickets, and the per-owner report."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field

from api.auth import ApiKey
from api.deps import State, require
from api.errors import ApiError, ErrorResponse
from api.routes.indicators import actor
from api.schemas import DocId, Strict, _no_controls, _valid_unicode
from voc.tickets import InvalidTransition, TicketConfigError, TicketError, TicketNotFound, TicketService
from voc.tickets.service import MAX_COMMENT_CHARS, MAX_EVIDENCE, MAX_OWNER_CHARS, MAX_SLA_HOURS, MAX_TITLE_CHARS

router = APIRouter(tags=["tickets"])
log = logging.getLogger("voc.api")

StatusName = Literal["open", "in_progress", "resolved", "closed"]
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Ticket id.")]
Owner = Annotated[str, Field(min_length=1, max_length=MAX_OWNER_CHARS,
                             description="An organisation node: store, region, head office or team."),
                  AfterValidator(_no_controls)]
FreeText = Annotated[str, Field(min_length=1, max_length=MAX_COMMENT_CHARS), AfterValidator(_valid_unicode)]
NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such ticket"}}
CONFLICT = {409: {"model": ErrorResponse, "description": "the status flow does not allow this change"}}


# --- models -----------------------------------------------------------------------------------
class TicketOut(BaseModel):
    id: int
    title: str
    status: StatusName
    owner: str = Field(description="Who must act now (escalation moves a ticket up).")
    original_owner: str = Field(description="The node the ticket was opened for; reports count it here.")
    level: int = Field(description="Escalations so far.")
    alert_id: str | None
    rule: str | None
    sla_hours: float
    due_at: str
    sla_due_at: str = Field(description="The first due time; SLA compliance is measured on it.")
    created_at: str
    created_by: str
    updated_at: str
    resolved_at: str | None
    closed_at: str | None
    escalated_at: str | None
    evidence_ids: list[str]
    overdue: bool


class TicketList(BaseModel):
    tickets: list[TicketOut]


class EvidenceOut(BaseModel):
    id: str
    text: str | None = Field(description="The stored, PII-masked text.")
    source: str | None
    store: str | None
    created_at: str | None
    missing: bool = Field(description="The document is no longer in the store.")


class CommentOut(BaseModel):
    id: int
    ticket_id: int
    at: str
    author: str
    text: str = Field(description="As stored: PII-masked.")


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str = Field(description="opened, status, comment, assign, escalated or notified.")
    from_: str | None = Field(alias="from")
    to: str | None
    detail: dict[str, Any]


class TicketDetail(TicketOut):
    evidence: list[EvidenceOut]
    comments: list[CommentOut]
    audit: list[AuditOut]


class TicketOpenIn(Strict):
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS), AfterValidator(_valid_unicode)]
    owner: Owner
    doc_ids: list[DocId] = Field(default_factory=list, max_length=MAX_EVIDENCE, description="Evidence documents.")
    sla_hours: float | None = Field(None, gt=0, le=MAX_SLA_HOURS, description="Hours until due; default: the "
                                                                              "server's VOC_TICKET_SLA_HOURS.")
    due_at: datetime | None = Field(None, description="Or an explicit due time.")
    alert_id: Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_no_controls)] | None = Field(
        None, description="Opening from the same alert again returns its ticket (200).")
    rule: Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_no_controls)] | None = None


class StatusIn(Strict):
    status: StatusName
    note: FreeText | None = Field(None, description="Why; kept in the audit trail, PII-masked.")


class CommentIn(Strict):
    text: FreeText


class AssignIn(Strict):
    owner: Owner


class EscalateIn(Strict):
    now: datetime | None = Field(None, description="The time to judge by; default: the server's clock.")


class EscalationEvent(BaseModel):
    type: str
    ticket_id: int
    title: str
    status: str
    from_owner: str
    to_owner: str
    original_owner: str
    level: int
    overdue_since: str
    due_at: str
    at: str
    alert_id: str | None
    rule: str | None


class EscalateOut(BaseModel):
    now: str
    escalated: list[EscalationEvent]
    at_top: list[int] = Field(description="Overdue tickets whose owner has no level above.")


class OwnerReportOut(BaseModel):
    owner: str
    tickets: int
    resolved: int
    open: int
    median_resolution_hours: float | None
    p90_resolution_hours: float | None
    sla_met: int
    sla_missed: int
    sla_pending: int = Field(description="Unresolved and not yet past the first due time.")
    sla_compliance: float | None = Field(description="sla_met / (sla_met + sla_missed).")


class ReportOut(BaseModel):
    since: str | None
    until: str | None
    now: str
    owners: list[OwnerReportOut]
    total: OwnerReportOut


# --- helpers ----------------------------------------------------------------------------------
def scope_owners(key: ApiKey) -> set[str] | None:
    """The owner nodes a key may see tickets of; None: all. The one place data scopes will apply."""
    return None


@contextmanager
def ticket_errors() -> Iterator[None]:
    try:
        yield
    except TicketNotFound as exc:
        raise ApiError(404, str(exc)) from None
    except TicketConfigError:
        log.warning("tickets are misconfigured", exc_info=True)  # the message may name a server path
        raise ApiError(503, "tickets are not available: the server's ticket settings are invalid (see its log)",
                       headers={"Retry-After": "60"}) from None
    except InvalidTransition as exc:
        raise ApiError(409, str(exc), details={"status": exc.current.value, "allowed": exc.allowed}) from None
    except TicketError as exc:
        raise ApiError(422, str(exc), code="invalid_ticket") from None


def _service(state: Any) -> TicketService:
    return state.voc.tickets  # type: ignore[no-any-return]


# --- routes -----------------------------------------------------------------------------------
@router.get("/tickets", response_model=TicketList, summary="Tickets, earliest due first")
def list_tickets(
    state: State, key: Annotated[ApiKey, Depends(require("read"))],
    status: Annotated[list[StatusName], Query(description="Only these states (repeatable).")] = [],  # noqa: B006
    owner: Annotated[str | None, Query(max_length=MAX_OWNER_CHARS, description="Current owner.")] = None,
    overdue: Annotated[bool, Query(description="Only open or in-progress tickets past due.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    with ticket_errors():
        service = _service(state)
        now = service.clock()
        found = service.list(status=status, owner=owner, overdue=overdue, owners=scope_owners(key), now=now,
                             limit=limit, offset=offset)
    return {"tickets": [ticket.to_dict(now) for ticket in found]}


@router.post("/tickets", status_code=201, response_model=TicketOut, summary="Open a ticket",
             responses={200: {"model": TicketOut, "description": "already opened from this alert_id"}})
def open_ticket(body: TicketOpenIn, state: State, key: Annotated[ApiKey, Depends(require("act"))]) -> Any:
    with ticket_errors():
        service = _service(state)
        existing = service.find_by_alert(body.alert_id) if body.alert_id else None
        if existing is not None:
            return JSONResponse(existing.to_dict(service.clock()), status_code=200)
        ticket = service.open(body.title, body.owner, body.doc_ids, due_at=body.due_at, sla_hours=body.sla_hours,
                              alert_id=body.alert_id, rule=body.rule, actor=actor(key))
    return ticket.to_dict(service.clock())


@router.get("/tickets/report", response_model=ReportOut, summary="Resolution time and SLA compliance per owner",
            description="Over the tickets opened in [since, until), per owner they were opened for: median and "
                        "p90 hours to resolution, and the share resolved by the first due time.")
def ticket_report(state: State, key: Annotated[ApiKey, Depends(require("read"))],
                  since: Annotated[datetime | None, Query()] = None,
                  until: Annotated[datetime | None, Query()] = None) -> dict[str, Any]:
    with ticket_errors():
        return _service(state).report(since=since, until=until, owners=scope_owners(key))


@router.post("/tickets/escalate", response_model=EscalateOut, summary="Escalate overdue tickets one level up",
             description="Every open or in-progress ticket past its due time moves to the next level up and the "
                         "new owner is notified. Running it twice at the same time escalates once.")
def escalate(state: State, _key: Annotated[ApiKey, Depends(require("admin"))],
             body: EscalateIn | None = None) -> dict[str, Any]:
    with ticket_errors():
        return _service(state).escalate(body.now if body else None)


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, responses=NOT_FOUND,
            summary="One ticket with its evidence, comments and audit trail")
def get_ticket(ticket_id: TicketId, state: State, key: Annotated[ApiKey, Depends(require("read"))]) -> Any:
    with ticket_errors():
        return _service(state).detail(ticket_id, owners=scope_owners(key))


@router.post("/tickets/{ticket_id}/status", response_model=TicketOut, responses={**NOT_FOUND, **CONFLICT},
             summary="Move a ticket along open → in_progress → resolved → closed, or reopen it")
def set_status(ticket_id: TicketId, body: StatusIn, state: State,
               key: Annotated[ApiKey, Depends(require("act"))]) -> dict[str, Any]:
    with ticket_errors():
        service = _service(state)
        ticket = service.set_status(ticket_id, body.status, actor=actor(key), note=body.note,
                                    owners=scope_owners(key))
    return ticket.to_dict(service.clock())


@router.post("/tickets/{ticket_id}/comments", status_code=201, response_model=CommentOut, responses=NOT_FOUND,
             summary="Comment on a ticket (PII is masked before it is stored)")
def add_comment(ticket_id: TicketId, body: CommentIn, state: State,
                key: Annotated[ApiKey, Depends(require("act"))]) -> dict[str, Any]:
    with ticket_errors():
        return _service(state).comment(ticket_id, body.text, actor=actor(key), owners=scope_owners(key))


@router.post("/tickets/{ticket_id}/assign", response_model=TicketOut, responses=NOT_FOUND,
             summary="Hand a ticket to another owner")
def assign(ticket_id: TicketId, body: AssignIn, state: State,
           key: Annotated[ApiKey, Depends(require("act"))]) -> dict[str, Any]:
    with ticket_errors():
        service = _service(state)
        ticket = service.assign(ticket_id, body.owner, actor=actor(key), owners=scope_owners(key))
    return ticket.to_dict(service.clock())
