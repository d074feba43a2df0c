"""The store as the release before migrations made it (create-on-open): documents, signatures, tags, ingest
runs, API keys, topics and the indicator tables.

Stores made before migrations may lack some of these (a table was created when its module was first used),
so each table is created only where it is missing.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A frozen copy of that schema: later changes to the application's tables never alter this revision.
schema = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    schema,
    sa.Column("id", sa.String(length=16), nullable=False),
    sa.Column("key_hash", sa.String(length=64), nullable=False),
    sa.Column("role", sa.String(length=16), nullable=False),
    sa.Column("name", sa.String(length=128), nullable=True),
    sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("revoked_at", sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
documents = sa.Table(
    "documents",
    schema,
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("source", sa.String(length=16), nullable=False),
    sa.Column("external_id", sa.String(length=256), nullable=True),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("text_original", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=True),
    sa.Column("ingested_at", sa.DateTime(), nullable=False),
    sa.Column("channel", sa.String(length=128), nullable=True),
    sa.Column("industry", sa.String(length=64), nullable=True),
    sa.Column("product", sa.String(length=256), nullable=True),
    sa.Column("store", sa.String(length=256), nullable=True),
    sa.Column("meta", sa.JSON(), nullable=False),
    sa.Column("turns", sa.JSON(), nullable=False),
    sa.Column("tokens", sa.Text(), nullable=False),
    sa.Column("search_terms", sa.Text(), nullable=False),
    sa.Column("pii", sa.JSON(), nullable=False),
    sa.Column("near_duplicate_of", sa.String(length=32), nullable=True),
    sa.Column("sentiment_label", sa.String(length=16), nullable=True),
    sa.Column("sentiment_score", sa.Float(), nullable=True),
    sa.Column("analysis", sa.JSON(), nullable=False),
    sa.Column("topic_id", sa.Integer(), nullable=True),
    sa.Column("topic_label", sa.String(length=256), nullable=True),
    sa.Column("ingest_run", sa.Integer(), nullable=True),
    sa.Column("indexed", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_documents_created_at", documents.c.created_at, unique=False)
sa.Index("ix_documents_indexed", documents.c.indexed, unique=False)
sa.Index("ix_documents_ingest_run", documents.c.ingest_run, unique=False)
sa.Index("ix_documents_source", documents.c.source, unique=False)
indicator_audit = sa.Table(
    "indicator_audit",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.String(length=128), nullable=False),
    sa.Column("action", sa.String(length=32), nullable=False),
    sa.Column("target", sa.String(length=128), nullable=True),
    sa.Column("version", sa.Integer(), nullable=True),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_indicator_audit_at", indicator_audit.c.at, unique=False)
indicator_mapped = sa.Table(
    "indicator_mapped",
    schema,
    sa.Column("document_id", sa.String(length=32), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("document_id"),
)
sa.Index("ix_indicator_mapped_version", indicator_mapped.c.version, unique=False)
indicator_mentions = sa.Table(
    "indicator_mentions",
    schema,
    sa.Column("document_id", sa.String(length=32), nullable=False),
    sa.Column("indicator_id", sa.String(length=128), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("score", sa.Float(), nullable=False),
    sa.Column("via", sa.String(length=16), nullable=False),
    sa.Column("polarity", sa.String(length=16), nullable=False),
    sa.Column("term", sa.String(length=128), nullable=False),
    sa.Column("span_start", sa.Integer(), nullable=False),
    sa.Column("span_end", sa.Integer(), nullable=False),
    sa.Column("evidence", sa.Text(), nullable=False),
    sa.Column("opinion", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("document_id", "indicator_id"),
)
sa.Index("ix_indicator_mentions_indicator_id", indicator_mentions.c.indicator_id, unique=False)
indicator_suggestions = sa.Table(
    "indicator_suggestions",
    schema,
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("name", sa.String(length=256), nullable=False),
    sa.Column("priority", sa.Float(), nullable=False),
    sa.Column("fingerprint", sa.String(length=64), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("tree_version", sa.Integer(), nullable=True),
    sa.Column("reviewer", sa.String(length=128), nullable=True),
    sa.Column("reviewed_at", sa.DateTime(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("target", sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_indicator_suggestions_fingerprint", indicator_suggestions.c.fingerprint, unique=False)
sa.Index("ix_indicator_suggestions_status", indicator_suggestions.c.status, unique=False)
indicator_versions = sa.Table(
    "indicator_versions",
    schema,
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=256), nullable=False),
    sa.Column("tree", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("author", sa.String(length=128), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("version"),
)
ingest_runs = sa.Table(
    "ingest_runs",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("path", sa.Text(), nullable=False),
    sa.Column("source", sa.String(length=16), nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.Column("accepted", sa.Integer(), nullable=False),
    sa.Column("duplicates", sa.Integer(), nullable=False),
    sa.Column("rejected", sa.Integer(), nullable=False),
    sa.Column("rejects_file", sa.Text(), nullable=True),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
minhash_signatures = sa.Table(
    "minhash_signatures",
    schema,
    sa.Column("document_id", sa.String(length=32), nullable=False),
    sa.Column("signature", sa.LargeBinary(), nullable=False),
    sa.Column("registered_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("document_id"),
)
sa.Index("ix_minhash_signatures_registered_at", minhash_signatures.c.registered_at, unique=False)
tags = sa.Table(
    "tags",
    schema,
    sa.Column("document_id", sa.String(length=32), nullable=False),
    sa.Column("tag", sa.String(length=128), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("document_id", "tag"),
)
sa.Index("ix_tags_tag", tags.c.tag, unique=False)
topic_builds = sa.Table(
    "topic_builds",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.Column("scope", sa.JSON(), nullable=False),
    sa.Column("n_documents", sa.Integer(), nullable=False),
    sa.Column("n_topics", sa.Integer(), nullable=False),
    sa.Column("outlier_share", sa.Float(), nullable=True),
    sa.Column("timings", sa.JSON(), nullable=True),
    sa.Column("hierarchy", sa.JSON(), nullable=True),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("owner", sa.String(length=300), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
    sa.Column("error", sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
topics = sa.Table(
    "topics",
    schema,
    sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("label", sa.String(length=256), nullable=False),
    sa.Column("keywords", sa.JSON(), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("negative_share", sa.Float(), nullable=False),
    sa.Column("quotes", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("first_build", sa.Integer(), nullable=False),
    sa.Column("last_build", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_topics_status", topics.c.status, unique=False)


def upgrade() -> None:
    schema.create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    schema.drop_all(op.get_bind(), checkfirst=True)
