"""API keys and roles.

A key is ``voc_<id>_<secret>``: the short id is stored in clear to find the row (and to name the key
in listings and logs); only the SHA-256 of the whole key is stored. The secret has 256 bits of
entropy, so a fast hash is enough (a slow password hash protects guessable secrets, not random ones).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Column, DateTime, Engine, Integer, String, Table, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from api.db import ensure_table
from voc.store import metadata

Role = Literal["researcher", "designer", "service", "admin"]
ROLES: tuple[str, ...] = ("researcher", "designer", "service", "admin")
Permission = Literal["read", "search", "tag", "analyze", "ingest", "review", "act", "admin"]
PERMISSIONS: tuple[str, ...] = ("read", "search", "tag", "analyze", "ingest", "review", "act", "admin")

# What each role may do. Routes name a permission, never a role, so a new route (topics, indicators,
# suggestions) only picks the permission it needs.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "researcher": frozenset({"read", "search", "tag", "act"}),  # act: work tickets (store/region managers)
    "designer": frozenset({"read", "search", "tag", "review", "act"}),
    "service": frozenset({"analyze", "ingest", "search", "read"}),
    "admin": frozenset(PERMISSIONS),
}

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", String(128)),
    Column("rate_limit_per_minute", Integer),  # NULL: the server's default
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("scope", JSON),  # organisation nodes the key may see (voc.scopes); NULL: everything
)

KEY_PREFIX = "voc_"
# Verified keys are remembered this long, so a request costs no store query; a key revoked from another
# process stops working within this time (at once in the process that revoked it).
CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    role: str
    name: str | None
    rate_limit_per_minute: int | None
    created_at: datetime
    revoked_at: datetime | None = None
    scope: tuple[str, ...] = ()  # organisation node ids; empty: every document

    @property
    def permissions(self) -> frozenset[str]:
        return ROLE_PERMISSIONS.get(self.role, frozenset())

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, _, secret = key[len(KEY_PREFIX):].partition("_")
    return (key_id, secret) if key_id and secret else None


class KeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_table(api_keys, engine)  # also when the store was opened before this module was imported
        _add_scope_column(engine)
        self._cache: dict[str, tuple[float, ApiKey]] = {}
        self._lock = threading.Lock()

    def create(self, role: str, name: str | None = None, rate_limit_per_minute: int | None = None,
               scope: Sequence[str] = ()) -> tuple[str, ApiKey]:
        """A new key: returns the key itself (shown once, never stored) and its record."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(4)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        scope = tuple(dict.fromkeys(node for node in scope if node))
        record = ApiKey(key_id, role, name, rate_limit_per_minute, datetime.now().replace(microsecond=0),
                        scope=scope)
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(
                id=key_id, key_hash=hash_key(key), role=role, name=name,
                rate_limit_per_minute=rate_limit_per_minute, created_at=record.created_at,
                scope=list(scope) or None))
        return key, record

    def recently_verified(self, key: str) -> ApiKey | None:
        """The record of a key this process verified within the last ``CACHE_SECONDS``, without a store query."""
        cached = self._cache.get(hash_key(key))
        return cached[1] if cached and cached[0] > time.monotonic() else None

    def verify(self, key: str) -> ApiKey | None:
        """The active key record for a presented key, or None."""
        digest = hash_key(key)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached and cached[0] > now:
            return cached[1]
        parts = split_key(key)
        if parts is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == parts[0])).first()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
            return None
        record = _record(row)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + CACHE_SECONDS, record)
        return record

    def list(self, include_revoked: bool = False) -> list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def revoke(self, key_ids: Sequence[str]) -> list[str]:
        """Revoke keys by id (or by the whole key); returns the ids revoked."""
        ids = [(split_key(value) or (value, ""))[0] for value in key_ids]
        with self.engine.begin() as conn:
            active = list(conn.scalars(select(api_keys.c.id).where(
                api_keys.c.id.in_(ids), api_keys.c.revoked_at.is_(None))))
            if active:
                conn.execute(update(api_keys).where(api_keys.c.id.in_(active)).values(revoked_at=datetime.now()))
        with self._lock:
            self._cache = {digest: entry for digest, entry in self._cache.items() if entry[1].id not in active}
        return active


def _record(row: Any) -> ApiKey:
    return ApiKey(id=row.id, role=row.role, name=row.name, rate_limit_per_minute=row.rate_limit_per_minute,
                  created_at=row.created_at, revoked_at=row.revoked_at, scope=tuple(row.scope or ()))


def _add_scope_column(engine: Engine) -> None:
    """Stores made before scoped keys lack the column: add it (nullable, so existing keys see everything).
    Two workers may race to add it; the loser's "duplicate column" is not an error."""
    if any(column["name"] == "scope" for column in inspect(engine).get_columns("api_keys")):
        return
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE api_keys ADD COLUMN scope JSON"))
    except DBAPIError:
        if not any(column["name"] == "scope" for column in inspect(engine).get_columns("api_keys")):
            raise
