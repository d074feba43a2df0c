"""SQL tables of tickets (工单), on the document store's ``metadata``.

A ticket keeps the owner it was opened for (``original_owner``) beside the owner it has now: escalation
moves the ticket up the organisation, and the store that let it run late must stay visible (reports
count a ticket against its original owner).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, String, Table, Text

from voc.store import metadata

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # open | in_progress | resolved | closed
    Column("owner", String(256), nullable=False, index=True),
    Column("original_owner", String(256), nullable=False, index=True),
    Column("level", Integer, nullable=False, default=0),  # escalations so far
    # Opening from the same alert twice gives the same ticket; NULL for tickets opened by hand.
    Column("alert_id", String(128), unique=True),
    Column("rule", String(256)),
    Column("sla_hours", Float, nullable=False),
    Column("due_at", DateTime, nullable=False, index=True),
    Column("sla_due_at", DateTime, nullable=False),  # the first promise: SLA compliance is measured on it
    Column("created_at", DateTime, nullable=False, index=True),
    Column("created_by", String(128), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("resolved_at", DateTime),
    Column("closed_at", DateTime),
    Column("escalated_at", DateTime),
)

ticket_evidence = Table(
    "ticket_evidence",
    metadata,
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("document_id", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
)

ticket_comments = Table(
    "ticket_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("author", String(128), nullable=False),
    Column("text", Text, nullable=False),  # PII-masked before it is stored
)

ticket_audit = Table(
    "ticket_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),  # opened | status | comment | assign | escalated | notified
    Column("from_value", Text),
    Column("to_value", Text),
    Column("detail", JSON, nullable=False),
)

TABLES = (tickets, ticket_evidence, ticket_comments, ticket_audit)
