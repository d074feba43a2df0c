"""Alerts, tickets and the organisation tree (issues 22 and 23), and the scope of an API key.

Stores opened by development builds of this release may already have some of these: each table is created
only where it is missing, and the column only where it is missing.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

schema = sa.MetaData()

alert_deliveries = sa.Table(
    "alert_deliveries",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("alert_id", sa.Integer(), nullable=False),
    sa.Column("webhook", sa.String(length=64), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("response_status", sa.Integer(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_alert_deliveries_alert_id", alert_deliveries.c.alert_id, unique=False)
sa.Index("ix_alert_deliveries_status", alert_deliveries.c.status, unique=False)
alert_rules = sa.Table(
    "alert_rules",
    schema,
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("definition", sa.JSON(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("name"),
)
alerts = sa.Table(
    "alerts",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("rule", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("subject", sa.String(length=300), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("fired_at", sa.DateTime(), nullable=False),
    sa.Column("document_ids", sa.JSON(), nullable=False),
    sa.Column("snippets", sa.JSON(), nullable=False),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.Column("ticket_id", sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_alerts_fired_at", alerts.c.fired_at, unique=False)
sa.Index("ix_alerts_rule", alerts.c.rule, unique=False)
sa.Index("ix_alerts_status", alerts.c.status, unique=False)
sa.Index("ix_alerts_subject", alerts.c.subject, unique=False)
org_audit = sa.Table(
    "org_audit",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.String(length=128), nullable=False),
    sa.Column("action", sa.String(length=32), nullable=False),
    sa.Column("version", sa.Integer(), nullable=True),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_org_audit_at", org_audit.c.at, unique=False)
org_versions = sa.Table(
    "org_versions",
    schema,
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=256), nullable=False),
    sa.Column("tree", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("author", sa.String(length=128), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("version"),
)
tickets = sa.Table(
    "tickets",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("owner", sa.String(length=256), nullable=False),
    sa.Column("original_owner", sa.String(length=256), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("alert_id", sa.String(length=128), nullable=True),
    sa.Column("rule", sa.String(length=256), nullable=True),
    sa.Column("sla_hours", sa.Float(), nullable=False),
    sa.Column("due_at", sa.DateTime(), nullable=False),
    sa.Column("sla_due_at", sa.DateTime(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("created_by", sa.String(length=128), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("resolved_at", sa.DateTime(), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("escalated_at", sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("alert_id"),
)
sa.Index("ix_tickets_created_at", tickets.c.created_at, unique=False)
sa.Index("ix_tickets_due_at", tickets.c.due_at, unique=False)
sa.Index("ix_tickets_original_owner", tickets.c.original_owner, unique=False)
sa.Index("ix_tickets_owner", tickets.c.owner, unique=False)
sa.Index("ix_tickets_status", tickets.c.status, unique=False)
ticket_audit = sa.Table(
    "ticket_audit",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("ticket_id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.String(length=128), nullable=False),
    sa.Column("action", sa.String(length=32), nullable=False),
    sa.Column("from_value", sa.Text(), nullable=True),
    sa.Column("to_value", sa.Text(), nullable=True),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_ticket_audit_ticket_id", ticket_audit.c.ticket_id, unique=False)
ticket_comments = sa.Table(
    "ticket_comments",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("ticket_id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("author", sa.String(length=128), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_ticket_comments_ticket_id", ticket_comments.c.ticket_id, unique=False)
ticket_evidence = sa.Table(
    "ticket_evidence",
    schema,
    sa.Column("ticket_id", sa.Integer(), nullable=False),
    sa.Column("document_id", sa.String(length=32), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("ticket_id", "document_id"),
)


def upgrade() -> None:
    bind = op.get_bind()
    schema.create_all(bind, checkfirst=True)
    if "scope" not in {column["name"] for column in sa.inspect(bind).get_columns("api_keys")}:
        with op.batch_alter_table("api_keys") as batch_op:
            batch_op.add_column(sa.Column("scope", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("scope")
    schema.drop_all(op.get_bind(), checkfirst=True)
