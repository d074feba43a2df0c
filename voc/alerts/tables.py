"""SQL tables of alerts, on the document store's ``metadata`` (created with the store's tables).

Alerts keep evidence as document ids and masked snippets only (the store's ``text`` is masked already;
``text_original`` is never read). The delivery log has one row per (alert, webhook), updated per attempt,
so a failed delivery keeps its payload and can be sent again: nothing is lost.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String, Table, Text

from voc.store import metadata

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("updated_at", DateTime, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    # What fired: "document:<id>", "store:<name>", "topic:<id>", "indicator:<id>"; dedupe is per (rule, subject)
    Column("subject", String(300), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # open | acknowledged | closed
    Column("fired_at", DateTime, nullable=False, index=True),
    Column("document_ids", JSON, nullable=False),
    Column("snippets", JSON, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("ticket_id", String(64)),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False, index=True),
    Column("webhook", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("response_status", Integer),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

TABLES = (alert_rules, alerts, alert_deliveries)
