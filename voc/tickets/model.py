"""What a ticket is: its status flow, its record, and the errors the service raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


# open → in_progress → resolved → closed; a resolved or closed ticket may be reopened.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset({TicketStatus.IN_PROGRESS}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.OPEN}),
    TicketStatus.CLOSED: frozenset({TicketStatus.OPEN}),
}
# Only these may run late: an overdue ticket in them escalates.
ACTIVE: frozenset[TicketStatus] = frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS})


class TicketError(ValueError):
    """Input the service cannot take (unknown documents, an empty title, a bad SLA): the API's 422."""


class TicketConfigError(TicketError):
    """The server's ticket settings are unusable (an escalation chain that cannot be read): not the caller's fault."""


class TicketNotFound(LookupError):
    """No such ticket, or one outside the caller's scope (the same answer: a scope does not leak ids)."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"no ticket {ticket_id}")
        self.ticket_id = ticket_id


class InvalidTransition(TicketError):
    """A status change the flow does not allow: the API's 409."""

    def __init__(self, ticket_id: int, current: TicketStatus, wanted: str) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        super().__init__(f"ticket {ticket_id} is {current}; it cannot become {wanted} (allowed: {allowed})")
        self.ticket_id = ticket_id
        self.current = current
        self.wanted = wanted
        self.allowed = sorted(TRANSITIONS[current])


def parse_status(value: str) -> TicketStatus:
    try:
        return TicketStatus(value)
    except ValueError:
        raise TicketError(f"unknown status {value!r}; use one of {', '.join(TicketStatus)}") from None


def check_transition(ticket_id: int, current: TicketStatus, wanted: TicketStatus) -> None:
    if wanted not in TRANSITIONS[current]:
        raise InvalidTransition(ticket_id, current, wanted)


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


@dataclass(slots=True)
class Ticket:
    id: int
    title: str
    status: TicketStatus
    owner: str
    original_owner: str
    level: int
    alert_id: str | None
    rule: str | None
    sla_hours: float
    due_at: datetime
    sla_due_at: datetime
    created_at: datetime
    created_by: str
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    evidence_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: Any, evidence_ids: list[str]) -> Ticket:
        values = {name: getattr(row, name) for name in (
            "id", "title", "owner", "original_owner", "level", "alert_id", "rule", "sla_hours", "due_at",
            "sla_due_at", "created_at", "created_by", "updated_at", "resolved_at", "closed_at", "escalated_at")}
        return cls(status=TicketStatus(row.status), evidence_ids=evidence_ids, **values)

    def overdue(self, now: datetime) -> bool:
        return self.status in ACTIVE and now > self.due_at

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = str(self.status)
        for name in ("due_at", "sla_due_at", "created_at", "updated_at", "resolved_at", "closed_at", "escalated_at"):
            data[name] = iso(data[name])
        if now is not None:
            data["overdue"] = self.overdue(now)
        return data
