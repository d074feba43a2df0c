"""Resolution time and SLA compliance per owner.

A ticket counts against the owner it was opened for (``original_owner``): escalation moves a ticket up,
but the lateness belongs to whoever let it run late. Compliance is measured on the first due time
(``sla_due_at``), since escalating sets a new due time and would otherwise excuse every late ticket.

- resolution time: hours from opening to (the latest) resolution, over resolved and closed tickets;
- SLA compliance: of the tickets whose outcome is known — resolved, or still unresolved past the first
  due time — the share resolved by that due time. Unresolved tickets not yet due are ``pending``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from voc.tickets.model import Ticket


@dataclass(slots=True)
class OwnerReport:
    owner: str
    tickets: int
    resolved: int
    open: int
    median_hours: float | None
    p90_hours: float | None
    sla_met: int
    sla_missed: int
    pending: int

    @property
    def sla_compliance(self) -> float | None:
        known = self.sla_met + self.sla_missed
        return round(self.sla_met / known, 4) if known else None

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "tickets": self.tickets, "resolved": self.resolved, "open": self.open,
                "median_resolution_hours": self.median_hours, "p90_resolution_hours": self.p90_hours,
                "sla_met": self.sla_met, "sla_missed": self.sla_missed, "sla_pending": self.pending,
                "sla_compliance": self.sla_compliance}


def owner_report(owner: str, items: list[Ticket], now: datetime) -> OwnerReport:
    hours = [(t.resolved_at - t.created_at).total_seconds() / 3600 for t in items if t.resolved_at]
    met = sum(1 for t in items if t.resolved_at and t.resolved_at <= t.sla_due_at)
    missed = sum(1 for t in items if (t.resolved_at and t.resolved_at > t.sla_due_at)
                 or (not t.resolved_at and now > t.sla_due_at))
    return OwnerReport(
        owner=owner, tickets=len(items), resolved=len(hours), open=len(items) - len(hours),
        median_hours=_round(np.median(hours)) if hours else None,
        p90_hours=_round(np.percentile(hours, 90)) if hours else None,
        sla_met=met, sla_missed=missed, pending=len(items) - met - missed)


def report(items: Iterable[Ticket], now: datetime, *, since: datetime | None = None,
           until: datetime | None = None) -> dict[str, Any]:
    """Per owner and overall, over the tickets opened in [since, until)."""
    chosen = [t for t in items if (since is None or t.created_at >= since) and (until is None or t.created_at < until)]
    by_owner: dict[str, list[Ticket]] = {}
    for ticket in chosen:
        by_owner.setdefault(ticket.original_owner, []).append(ticket)
    return {
        "since": since.isoformat(timespec="seconds") if since else None,
        "until": until.isoformat(timespec="seconds") if until else None,
        "now": now.isoformat(timespec="seconds"),
        "owners": [owner_report(owner, by_owner[owner], now).to_dict() for owner in sorted(by_owner)],
        "total": owner_report("*", chosen, now).to_dict(),
    }


def _round(value: Any) -> float:
    return round(float(value), 2)
