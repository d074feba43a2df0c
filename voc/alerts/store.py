"""Reading and writing the alert tables: rules, alerts with dedupe, and the delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from voc.alerts.evaluate import Firing
from voc.alerts.rules import AlertRule
from voc.alerts.tables import TABLES, alert_deliveries, alert_rules, alerts
from voc.store import create_tables

ALERT_STATUSES: tuple[str, ...] = ("open", "acknowledged", "closed")


class AlertStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # the store creates only the tables of modules imported when it opened: a fresh VOC_HOME that
        # ingests before anything imported the alert tables would have none
        create_tables(engine, TABLES)

    # --- rules --------------------------------------------------------------------------------
    def rules(self) -> list[AlertRule]:
        return [AlertRule.model_validate(row) for row in self.definitions()]

    def definitions(self) -> list[dict[str, Any]]:
        """The stored rules as JSON, unvalidated: cheap enough to compare on every ingested batch."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(alert_rules.c.definition).order_by(alert_rules.c.name)).scalars())

    def save_rules(self, rules: Sequence[AlertRule], *, replace: bool, now: datetime) -> None:
        """Add or update rules by name; ``replace`` removes the rules not given. One transaction."""
        with self.engine.begin() as conn:
            if replace:
                conn.execute(delete(alert_rules))
            else:
                conn.execute(delete(alert_rules).where(alert_rules.c.name.in_([r.name for r in rules])))
            if rules:
                conn.execute(insert(alert_rules), [
                    {"name": r.name, "kind": r.kind, "definition": r.to_json(), "enabled": r.enabled,
                     "updated_at": now} for r in rules])

    # --- alerts -------------------------------------------------------------------------------
    def fire(self, firings: Sequence[Firing], now: datetime) -> list[tuple[int, Firing]]:
        """Store each firing as an alert unless the same rule fired for the same subject within its
        cooldown (earlier in this call included); queue one delivery per webhook of the rule. One
        transaction for all of them (a batch of ingested documents). Returns (alert id, firing) pairs."""
        if not firings:
            return []
        names = sorted({firing.rule.name for firing in firings})
        with self.engine.begin() as conn:
            # A write first: it takes SQLite's write lock (row locks on PostgreSQL) before the dedupe read,
            # so two processes firing the same rule cannot both see "not fired yet".
            conn.execute(update(alert_rules).where(alert_rules.c.name.in_(names)).values(kind=alert_rules.c.kind))
            last = self._last_fired(conn, names, sorted({firing.subject[:300] for firing in firings}))
            chosen: list[Firing] = []
            for firing in firings:
                key = (firing.rule.name, firing.subject[:300])
                previous = last.get(key)
                if previous is None or now - previous >= firing.rule.cooldown:
                    last[key] = now
                    chosen.append(firing)
            if not chosen:
                return []
            # One executemany (SQLite runs RETURNING row by row); the ids are read back by (rule, subject) among
            # the rows added now, unique here: the dedupe above leaves one firing per (rule, subject), and the
            # write lock taken first keeps other writers of these rules out until the commit.
            before = conn.scalar(select(func.max(alerts.c.id))) or 0
            conn.execute(insert(alerts), [
                {"rule": f.rule.name, "kind": f.rule.kind, "subject": f.subject[:300], "title": f.title[:1000],
                 "status": "open", "fired_at": now, "document_ids": f.document_ids, "snippets": f.snippets,
                 "detail": f.detail, "ticket_id": None} for f in chosen])
            ids = {(rule, subject): alert_id for alert_id, rule, subject in conn.execute(
                select(alerts.c.id, alerts.c.rule, alerts.c.subject).where(
                    alerts.c.id > before, alerts.c.fired_at == now, alerts.c.rule.in_(names)))}
            fired = [(int(ids[(f.rule.name, f.subject[:300])]), f) for f in chosen]
            deliveries = [{"alert_id": alert_id, "webhook": name, "status": "pending", "attempts": 0,
                           "created_at": now, "updated_at": now}
                          for alert_id, firing in fired for name in firing.rule.webhooks]
            if deliveries:
                conn.execute(insert(alert_deliveries), deliveries)
        return fired

    @staticmethod
    def _last_fired(conn: Any, rules: list[str], subjects: list[str]) -> dict[tuple[str, str], datetime]:
        last: dict[tuple[str, str], datetime] = {}
        for offset in range(0, len(subjects), 500):  # SQLite's bound-parameter limit
            query = (select(alerts.c.rule, alerts.c.subject, func.max(alerts.c.fired_at))
                     .where(alerts.c.rule.in_(rules), alerts.c.subject.in_(subjects[offset:offset + 500]))
                     .group_by(alerts.c.rule, alerts.c.subject))
            last.update({(rule, subject): at for rule, subject, at in conn.execute(query)})
        return last

    def set_ticket(self, alert_id: int, ticket_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(alerts).where(alerts.c.id == alert_id).values(ticket_id=str(ticket_id)[:64]))

    def set_status(self, alert_id: int, status: str) -> bool:
        if status not in ALERT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ALERT_STATUSES)}")
        with self.engine.begin() as conn:
            return conn.execute(update(alerts).where(alerts.c.id == alert_id).values(status=status)).rowcount > 0

    def remove(self, alert_ids: Sequence[int]) -> None:
        """Take back alerts (and their queued deliveries) about documents an ingest failure took back."""
        if not alert_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(alert_deliveries).where(alert_deliveries.c.alert_id.in_(alert_ids)))
            conn.execute(delete(alerts).where(alerts.c.id.in_(alert_ids)))

    def list(self, *, status: Sequence[str] = (), rule: str | None = None, limit: int = 100,
             offset: int = 0) -> list[dict[str, Any]]:
        query = select(alerts).order_by(alerts.c.fired_at.desc(), alerts.c.id.desc()).limit(limit).offset(offset)
        if status:
            query = query.where(alerts.c.status.in_(list(status)))
        if rule:
            query = query.where(alerts.c.rule == rule)
        with self.engine.connect() as conn:
            return [alert_dict(row) for row in conn.execute(query)]

    def get(self, alert_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
        return alert_dict(row) if row else None

    # --- deliveries ---------------------------------------------------------------------------
    def pending_deliveries(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alert_deliveries).where(alert_deliveries.c.status == "pending")
                                .order_by(alert_deliveries.c.id))
            return [dict(row._mapping) for row in rows]

    def claim(self, delivery_id: int, now: datetime) -> bool:
        """Mark a pending delivery as being sent; False if another process took it first."""
        with self.engine.begin() as conn:
            return conn.execute(update(alert_deliveries).where(
                alert_deliveries.c.id == delivery_id, alert_deliveries.c.status == "pending",
            ).values(status="sending", updated_at=now)).rowcount == 1

    def record(self, delivery_id: int, now: datetime, *, status: str, attempts: int, error: str | None,
               response_status: int | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(alert_deliveries).where(alert_deliveries.c.id == delivery_id).values(
                status=status, attempts=attempts, last_error=error, response_status=response_status,
                updated_at=now))

    def requeue(self, *, statuses: Sequence[str] = ("failed", "sending"), now: datetime) -> int:
        """Queue failed (and stuck) deliveries again; their attempts so far stay counted."""
        with self.engine.begin() as conn:
            return conn.execute(update(alert_deliveries).where(alert_deliveries.c.status.in_(list(statuses)))
                                .values(status="pending", updated_at=now)).rowcount

    def deliveries(self, *, alert_id: int | None = None, status: Sequence[str] = (),
                   limit: int = 100) -> list[dict[str, Any]]:
        query = select(alert_deliveries).order_by(alert_deliveries.c.id.desc()).limit(limit)
        if alert_id is not None:
            query = query.where(alert_deliveries.c.alert_id == alert_id)
        if status:
            query = query.where(alert_deliveries.c.status.in_(list(status)))
        with self.engine.connect() as conn:
            return [_delivery_dict(row) for row in conn.execute(query)]


def alert_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "rule": row.rule, "kind": row.kind, "subject": row.subject, "title": row.title,
            "status": row.status, "fired_at": row.fired_at.isoformat(), "document_ids": list(row.document_ids),
            "snippets": list(row.snippets), "detail": dict(row.detail), "ticket_id": row.ticket_id}


def _delivery_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "alert_id": row.alert_id, "webhook": row.webhook, "status": row.status,
            "attempts": row.attempts, "last_error": row.last_error, "response_status": row.response_status,
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}
