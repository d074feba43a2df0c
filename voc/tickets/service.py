"""Tickets (工单): open, work, comment, reassign, escalate and report, each change in the audit trail.

Time comes from an injected clock (or a ``now`` argument), never from sleeping; who gets an overdue
ticket next comes from an injected ``next_level`` and who hears of it from an injected ``notify``, so the
organisation tree and the webhook delivery plug in without this module knowing them.

Every read and write goes through ``_visible``: an optional ``owners`` set (a key's data scope) limits
the tickets a caller can see to those a node in it owns now or was opened for; outside it a ticket is
"not found", as if it did not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Select, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from voc.store import create_tables, documents
from voc.tickets import reports
from voc.tickets.escalation import ChainNextLevel, NextLevel, Notify, load_chain, no_notifier
from voc.tickets.model import (
    ACTIVE,
    Ticket,
    TicketError,
    TicketNotFound,
    TicketStatus,
    check_transition,
    iso,
    parse_status,
)
from voc.tickets.tables import TABLES, ticket_audit, ticket_comments, ticket_evidence, tickets

if TYPE_CHECKING:
    from voc.settings import VocSettings

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 500
MAX_COMMENT_CHARS = 4000
MAX_OWNER_CHARS = 256
MAX_EVIDENCE = 200
MAX_SLA_HOURS = 87_600  # ten years
SYSTEM_ACTOR = "system:escalation"

Clock = Callable[[], datetime]
Mask = Callable[[str], str]


class TicketService:
    def __init__(self, engine: Engine, *, default_sla_hours: float = 24.0,
                 escalation_sla_hours: float | None = None, next_level: NextLevel | None = None,
                 notify: Notify | None = None, mask: Mask | None = None, clock: Clock | None = None) -> None:
        self.engine = engine
        create_tables(engine, TABLES)
        self.default_sla_hours = default_sla_hours
        self.escalation_sla_hours = escalation_sla_hours
        self.next_level: NextLevel = next_level or ChainNextLevel({})
        self.notify: Notify = notify or no_notifier
        self.mask: Mask = mask or (lambda text: text)
        self.clock: Clock = clock or datetime.now

    @classmethod
    def from_settings(cls, settings: VocSettings, engine: Engine, **overrides: Any) -> TicketService:
        """Defaults from settings: the SLA, the escalation chain, and the project's PII masking."""
        values: dict[str, Any] = {
            "default_sla_hours": settings.ticket_sla_hours,
            "escalation_sla_hours": settings.ticket_escalation_sla_hours,
            "next_level": ChainNextLevel(load_chain(settings.ticket_escalation)),
            "mask": pii_mask(settings),
        }
        return cls(engine, **(values | overrides))

    # --- opening ------------------------------------------------------------------------------
    def open(self, title: str, owner: str, evidence_ids: Sequence[str], *, due_at: datetime | None = None,
             sla_hours: float | None = None, alert_id: str | None = None, rule: Any = None,
             actor: str) -> Ticket:
        """A new ticket, or the one already opened from ``alert_id`` (opening is idempotent per alert).

        The due time is ``due_at``, else now + ``sla_hours``, else the rule's ``sla_hours``, else the default.
        ``rule`` is a rule name, or a mapping/object with ``name`` (or ``id``) and ``sla_hours``.
        """
        if alert_id is not None and (existing := self._by_alert(alert_id)) is not None:
            return existing
        title = self._text(title, "title", MAX_TITLE_CHARS)
        owner = _owner(owner)
        given = list(dict.fromkeys(str(i).strip() for i in evidence_ids if str(i).strip()))
        # A rising-topic alert may cite thousands of documents: the ticket keeps the first ones (the audit
        # entry says how many were given) rather than failing the alert that opens it.
        ids = given[:MAX_EVIDENCE]
        rule_name, rule_sla = _rule_parts(rule)
        now = _naive(self.clock())
        hours = sla_hours if sla_hours is not None else rule_sla if rule_sla is not None else self.default_sla_hours
        if not 0 < hours <= MAX_SLA_HOURS:
            raise TicketError(f"sla_hours must be positive and at most {MAX_SLA_HOURS:,} (got {hours})")
        due = _naive(due_at) if due_at is not None else now + timedelta(hours=hours)
        if due_at is not None and sla_hours is None and rule_sla is None:
            hours = max((due - now).total_seconds() / 3600, 0.0)  # the SLA the given due time amounts to
        try:
            with self.engine.begin() as conn:
                self._check_documents(conn, ids)
                ticket_id = int(conn.execute(insert(tickets).values(
                    title=title, status=TicketStatus.OPEN.value, owner=owner, original_owner=owner, level=0,
                    alert_id=alert_id, rule=rule_name, sla_hours=hours, due_at=due, sla_due_at=due, created_at=now,
                    created_by=actor, updated_at=now)).inserted_primary_key[0])
                if ids:
                    conn.execute(insert(ticket_evidence), [
                        {"ticket_id": ticket_id, "document_id": doc_id, "position": i} for i, doc_id in enumerate(ids)])
                self._audit(conn, ticket_id, now, actor, "opened", None, TicketStatus.OPEN.value, {
                    "owner": owner, "due_at": iso(due), "sla_hours": hours, "alert_id": alert_id, "rule": rule_name,
                    "evidence": len(ids), "evidence_given": len(given)})
        except IntegrityError:
            # Two openers of the same alert at once: the loser returns the winner's ticket.
            if alert_id is not None and (existing := self._by_alert(alert_id)) is not None:
                return existing
            raise
        return self.get(ticket_id)

    # --- reading ------------------------------------------------------------------------------
    def get(self, ticket_id: int, *, owners: set[str] | None = None) -> Ticket:
        with self.engine.connect() as conn:
            return self._load(conn, ticket_id, owners)

    def list(self, *, status: Sequence[str] = (), owner: str | None = None, overdue: bool = False,
             owners: set[str] | None = None, now: datetime | None = None, limit: int = 100,
             offset: int = 0) -> list[Ticket]:
        """Tickets, most urgent first (earliest due). ``owner`` is the current owner; ``overdue`` means
        open or in progress past the due time at ``now``."""
        wanted = [parse_status(value).value for value in status]
        query = self._visible(select(tickets), owners)
        if wanted:
            query = query.where(tickets.c.status.in_(wanted))
        if owner:
            query = query.where(tickets.c.owner == owner.strip())
        if overdue:
            query = query.where(tickets.c.status.in_([s.value for s in ACTIVE]),
                                tickets.c.due_at < _naive(now or self.clock()))
        query = query.order_by(tickets.c.due_at, tickets.c.id).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
            evidence = self._evidence_ids(conn, [row.id for row in rows])
        return [Ticket.from_row(row, evidence.get(row.id, [])) for row in rows]

    def count(self, *, owners: set[str] | None = None) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(self._visible(select(func.count()).select_from(tickets), owners)) or 0)

    def detail(self, ticket_id: int, *, owners: set[str] | None = None, now: datetime | None = None
               ) -> dict[str, Any]:
        """The ticket with its evidence (masked text only), comments and audit trail."""
        with self.engine.connect() as conn:
            ticket = self._load(conn, ticket_id, owners)
            found = {row.id: row for row in conn.execute(
                select(documents.c.id, documents.c.text, documents.c.source, documents.c.store,
                       documents.c.created_at).where(documents.c.id.in_(ticket.evidence_ids)))}
            comments = [{"id": r.id, "ticket_id": r.ticket_id, "at": iso(r.at), "author": r.author, "text": r.text}
                        for r in conn.execute(
                select(ticket_comments).where(ticket_comments.c.ticket_id == ticket_id).order_by(ticket_comments.c.id))]
            audit = self._audit_rows(conn, ticket_id)
        evidence = [{"id": doc_id, "text": found[doc_id].text, "source": found[doc_id].source,
                     "store": found[doc_id].store, "created_at": iso(found[doc_id].created_at), "missing": False}
                    if doc_id in found else {"id": doc_id, "text": None, "source": None, "store": None,
                                             "created_at": None, "missing": True}
                    for doc_id in ticket.evidence_ids]
        return {**ticket.to_dict(_naive(now or self.clock())), "evidence": evidence, "comments": comments,
                "audit": audit}

    # --- acting -------------------------------------------------------------------------------
    def set_status(self, ticket_id: int, new: str, *, actor: str, note: str | None = None,
                   owners: set[str] | None = None) -> Ticket:
        wanted = parse_status(new)
        note = self._text(note, "note", MAX_COMMENT_CHARS) if note and note.strip() else None
        now = self.clock()
        with self.engine.begin() as conn:
            ticket = self._load(conn, ticket_id, owners)
            check_transition(ticket_id, ticket.status, wanted)
            values: dict[str, Any] = {"status": wanted.value, "updated_at": now}
            if wanted is TicketStatus.RESOLVED:
                values["resolved_at"] = now
            elif wanted is TicketStatus.CLOSED:
                values["closed_at"] = now
            elif wanted is TicketStatus.OPEN:  # reopened: the work starts again, with a fresh deadline
                values.update(resolved_at=None, closed_at=None, due_at=now + timedelta(hours=ticket.sla_hours))
            self._update(conn, ticket_id, ticket.status, values)
            self._audit(conn, ticket_id, now, actor, "status", ticket.status.value, wanted.value,
                        {"note": note} | ({"due_at": iso(values["due_at"])} if "due_at" in values else {}))
            return self._load(conn, ticket_id, None)

    def comment(self, ticket_id: int, text: str, *, actor: str, owners: set[str] | None = None) -> dict[str, Any]:
        """Adds a comment, PII-masked before it is stored; returns it."""
        body = self._text(text, "comment", MAX_COMMENT_CHARS)
        now = self.clock()
        with self.engine.begin() as conn:
            self._load(conn, ticket_id, owners)
            comment_id = int(conn.execute(insert(ticket_comments).values(
                ticket_id=ticket_id, at=now, author=actor, text=body)).inserted_primary_key[0])
            conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(updated_at=now))
            self._audit(conn, ticket_id, now, actor, "comment", None, None,
                        {"comment_id": comment_id, "chars": len(body)})
        return {"id": comment_id, "ticket_id": ticket_id, "at": iso(now), "author": actor, "text": body}

    def assign(self, ticket_id: int, owner: str, *, actor: str, owners: set[str] | None = None) -> Ticket:
        """Hands the ticket to another owner; the owner it was opened for stays recorded (and reported)."""
        owner = _owner(owner)
        now = self.clock()
        with self.engine.begin() as conn:
            ticket = self._load(conn, ticket_id, owners)
            if owner == ticket.owner:
                return ticket
            conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(owner=owner, updated_at=now))
            self._audit(conn, ticket_id, now, actor, "assign", ticket.owner, owner, {})
            return self._load(conn, ticket_id, None)

    # --- escalation ---------------------------------------------------------------------------
    def escalate(self, now: datetime | None = None, *, actor: str = SYSTEM_ACTOR,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Moves every overdue ticket (open or in progress, now > due) one level up, sets a new due time
        and notifies. Idempotent: a ticket escalated at ``now`` is due after ``now`` again, and a
        concurrent run that changed it first makes this run skip it."""
        now = _naive(now or self.clock())
        query = select(tickets).where(tickets.c.status.in_([s.value for s in ACTIVE]), tickets.c.due_at < now)
        with self.engine.connect() as conn:
            overdue = list(conn.execute(query.order_by(tickets.c.due_at, tickets.c.id)))
        escalated: list[dict[str, Any]] = []
        at_top: list[int] = []
        for done, row in enumerate(overdue, 1):
            if progress:
                progress(done, len(overdue))  # (tickets looked at, overdue tickets): notices may be slow
            target = self.next_level(row.owner)
            if not target or target == row.owner:
                at_top.append(row.id)
                continue
            event = self._escalate_one(row, target, now, actor)
            if event is not None:
                escalated.append(event)
        return {"now": iso(now), "escalated": escalated, "at_top": at_top}

    def _escalate_one(self, row: Any, target: str, now: datetime, actor: str) -> dict[str, Any] | None:
        hours = self.escalation_sla_hours or row.sla_hours
        due = now + timedelta(hours=hours)
        event = {"type": "ticket.escalated", "ticket_id": row.id, "title": row.title, "status": row.status,
                 "from_owner": row.owner, "to_owner": target, "original_owner": row.original_owner,
                 "level": row.level + 1, "overdue_since": iso(row.due_at), "due_at": iso(due), "at": iso(now),
                 "alert_id": row.alert_id, "rule": row.rule}
        with self.engine.begin() as conn:
            changed = conn.execute(update(tickets).where(
                tickets.c.id == row.id, tickets.c.owner == row.owner, tickets.c.level == row.level,
                tickets.c.due_at == row.due_at, tickets.c.status.in_([s.value for s in ACTIVE]),
            ).values(owner=target, level=row.level + 1, due_at=due, escalated_at=now, updated_at=now)).rowcount
            if changed != 1:
                return None  # another run escalated it (or someone acted on it) in between
            self._audit(conn, row.id, now, actor, "escalated", row.owner, target,
                        {"level": row.level + 1, "previous_due_at": iso(row.due_at), "due_at": iso(due)})
        # Delivery happens after the commit: a slow or failing receiver must not undo the escalation.
        try:
            self.notify(event)
            outcome: dict[str, Any] = {"delivered": self.notify is not no_notifier}
        except Exception as exc:  # any receiver failure is recorded in the audit, never raised
            log.warning("ticket %s: escalation notice failed: %s", row.id, type(exc).__name__)
            outcome = {"delivered": False, "error": type(exc).__name__}
        with self.engine.begin() as conn:
            self._audit(conn, row.id, now, actor, "notified", None, target, {"event": event, **outcome})
        return event

    # --- reports ------------------------------------------------------------------------------
    def report(self, *, since: datetime | None = None, until: datetime | None = None,
               now: datetime | None = None, owners: set[str] | None = None) -> dict[str, Any]:
        query = self._visible(select(tickets), owners)
        if since is not None:
            query = query.where(tickets.c.created_at >= _naive(since))
        if until is not None:
            query = query.where(tickets.c.created_at < _naive(until))
        with self.engine.connect() as conn:
            items = [Ticket.from_row(row, []) for row in conn.execute(query)]
        return reports.report(items, _naive(now or self.clock()), since=since and _naive(since),
                              until=until and _naive(until))

    # --- internals ----------------------------------------------------------------------------
    @staticmethod
    def _visible(query: Select[Any], owners: set[str] | None) -> Select[Any]:
        """The one place a data scope applies: a node sees tickets it owns now or was opened for."""
        if owners is None:
            return query
        names = sorted(owners)
        return query.where(or_(tickets.c.owner.in_(names), tickets.c.original_owner.in_(names)))

    def _load(self, conn: Connection, ticket_id: int, owners: set[str] | None) -> Ticket:
        row = conn.execute(self._visible(select(tickets).where(tickets.c.id == ticket_id), owners)).first()
        if row is None:
            raise TicketNotFound(ticket_id)
        return Ticket.from_row(row, self._evidence_ids(conn, [ticket_id]).get(ticket_id, []))

    def find_by_alert(self, alert_id: str) -> Ticket | None:
        """The ticket opened from ``alert_id``, if any."""
        return self._by_alert(alert_id)

    def _by_alert(self, alert_id: str) -> Ticket | None:
        with self.engine.connect() as conn:
            found = conn.scalar(select(tickets.c.id).where(tickets.c.alert_id == alert_id))
            return self._load(conn, int(found), None) if found is not None else None

    @staticmethod
    def _evidence_ids(conn: Connection, ticket_ids: Sequence[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for start in range(0, len(ticket_ids), 900):
            query = select(ticket_evidence).where(ticket_evidence.c.ticket_id.in_(ticket_ids[start:start + 900]))
            for row in conn.execute(query.order_by(ticket_evidence.c.ticket_id, ticket_evidence.c.position)):
                found.setdefault(row.ticket_id, []).append(row.document_id)
        return found

    @staticmethod
    def _check_documents(conn: Connection, ids: Sequence[str]) -> None:
        known: set[str] = set()
        for start in range(0, len(ids), 900):
            known.update(conn.scalars(select(documents.c.id).where(documents.c.id.in_(ids[start:start + 900]))))
        unknown = [doc_id for doc_id in ids if doc_id not in known]
        if unknown:
            raise TicketError(f"unknown evidence documents: {', '.join(unknown[:10])}"
                              + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""))

    @staticmethod
    def _update(conn: Connection, ticket_id: int, expected: TicketStatus, values: dict[str, Any]) -> None:
        # Conditional on the status read: of two concurrent changes, the second fails rather than skipping a step.
        changed = conn.execute(update(tickets).where(tickets.c.id == ticket_id, tickets.c.status == expected.value)
                               .values(**values)).rowcount
        if changed != 1:
            raise TicketError(f"ticket {ticket_id} changed meanwhile; read it again and retry")

    @staticmethod
    def _audit(conn: Connection, ticket_id: int, at: datetime, actor: str, action: str, from_value: str | None,
               to_value: str | None, detail: dict[str, Any]) -> None:
        conn.execute(insert(ticket_audit).values(ticket_id=ticket_id, at=at, actor=actor, action=action,
                                                 from_value=from_value, to_value=to_value, detail=detail))

    @staticmethod
    def _audit_rows(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
        query = select(ticket_audit).where(ticket_audit.c.ticket_id == ticket_id).order_by(ticket_audit.c.id)
        return [{"id": r.id, "at": iso(r.at), "actor": r.actor, "action": r.action, "from": r.from_value,
                 "to": r.to_value, "detail": r.detail} for r in conn.execute(query)]

    def _text(self, value: str | None, what: str, limit: int) -> str:
        text = (value or "").strip()
        if not text:
            raise TicketError(f"the {what} must not be empty")
        if len(text) > limit:
            raise TicketError(f"the {what} is {len(text):,} characters; at most {limit:,}")
        return self.mask(text)


def pii_mask(settings: VocSettings) -> Mask:
    """Free text from users masked the way documents' ``text_original`` is (voc.text.original_mask)."""
    if not settings.pii_enabled:
        return lambda text: text
    from voc.text.normalize import Normalizer
    from voc.text.original_mask import mask_original
    from voc.text.pii import PiiMasker

    masker = PiiMasker(settings.pii_types, style=settings.pii_style)
    normalizer = Normalizer(to_simplified=settings.to_simplified)
    return lambda text: mask_original(text, masker, normalizer)


def _owner(value: str) -> str:
    owner = (value or "").strip()
    if not owner:
        raise TicketError("the owner must not be empty (a store, region, head office or team)")
    if len(owner) > MAX_OWNER_CHARS:
        raise TicketError(f"the owner name is longer than {MAX_OWNER_CHARS} characters")
    return owner


def _rule_parts(rule: Any) -> tuple[str | None, float | None]:
    if rule is None:
        return None, None
    if isinstance(rule, str):
        return rule.strip() or None, None
    get = rule.get if isinstance(rule, Mapping) else (lambda name: getattr(rule, name, None))
    name = get("name") or get("id")
    sla = get("sla_hours")
    return (str(name)[:256] if name else None), (float(sla) if sla is not None else None)


def _naive(value: datetime) -> datetime:
    """Times are stored without an offset, in local time like the rest of the store."""
    naive = value.astimezone().replace(tzinfo=None) if value.tzinfo is not None else value
    if not 1970 <= naive.year <= 2999:  # a due time computed from year 9999 would overflow
        raise TicketError(f"the time {naive.isoformat()} is out of range (years 1970-2999)")
    return naive
