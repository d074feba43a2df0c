"""SQL tables of the indicator system, on the document store's ``metadata``.

Versions keep the whole tree as JSON: a tree is small (hundreds of nodes) and reading a version
whole is what every consumer does; diffs are computed from two snapshots.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, Table, Text

from voc.store import metadata

indicator_versions = Table(
    "indicator_versions",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(256), nullable=False),
    Column("tree", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("author", String(128), nullable=False),
    Column("note", Text, nullable=False, default=""),
)

indicator_suggestions = Table(
    "indicator_suggestions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False, index=True),  # pending | accepted | merged | rejected
    Column("name", String(256), nullable=False),
    Column("priority", Float, nullable=False),
    # Hash of the candidate's key terms; with ``document_ids`` in ``payload`` it tells whether a new
    # candidate is the same evidence as a rejected one (see voc.indicators.review).
    Column("fingerprint", String(64), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("tree_version", Integer),
    Column("reviewer", String(128)),
    Column("reviewed_at", DateTime),
    Column("reason", Text),
    Column("target", String(128)),  # the indicator it was accepted as or merged into
)

indicator_audit = Table(
    "indicator_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(128)),
    Column("version", Integer),
    Column("detail", JSON, nullable=False),
)

# Per-document mapping result for one tree version: ``indicator_mapped`` says a document was mapped
# (with or without mentions), ``indicator_mentions`` holds one row per (document, indicator).
indicator_mapped = Table(
    "indicator_mapped",
    metadata,
    Column("document_id", String(32), primary_key=True),
    Column("version", Integer, nullable=False, index=True),
)

indicator_mentions = Table(
    "indicator_mentions",
    metadata,
    Column("document_id", String(32), primary_key=True),
    Column("indicator_id", String(128), primary_key=True, index=True),
    Column("version", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("via", String(16), nullable=False),  # rule | keyword | name | synonym | aspect | embedding
    Column("polarity", String(16), nullable=False),
    Column("term", String(128), nullable=False),
    Column("span_start", Integer, nullable=False),
    Column("span_end", Integer, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("opinion", Text, nullable=False, default=""),
)

TABLES = (indicator_versions, indicator_suggestions, indicator_audit, indicator_mapped, indicator_mentions)
