"""`voc keys create|list|revoke`: API keys for `voc serve` (stored hashed; shown once)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail, open_service

if TYPE_CHECKING:
    from api.auth import KeyStore

keys_app = typer.Typer(help="API keys for the REST API: create, list, revoke.", no_args_is_help=True)


def _key_store() -> KeyStore:
    from api.auth import KeyStore  # imported late: `voc --help` stays fast

    return KeyStore(open_service().store.engine)


@keys_app.command("create")
def create(
    role: Annotated[str, typer.Option("--role", help="researcher, designer, service or admin.")],
    name: Annotated[str | None, typer.Option("--name", help="What the key is for (shown in listings).")] = None,
    rate_limit: Annotated[int | None, typer.Option("--rate-limit", min=0,
                                                   help="Requests per minute for this key (0: unlimited).")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="Organisation node (id or name, `voc org show`) whose documents the key sees; repeat for "
                        "several. A business line FIELD=VALUE (channel=外卖) is ANDed with the nodes. Default: every "
                        "document.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key. It is printed once and only its hash is stored: keep it somewhere safe."""
    from api.auth import ROLES

    if role not in ROLES:
        raise fail(f"--role must be one of {', '.join(ROLES)}")
    nodes = _scope_nodes(scope or [])
    key, record = _key_store().create(role, name=name, rate_limit_per_minute=rate_limit, scope=nodes)
    if as_json:
        emit_json({"key": key, "id": record.id, "role": record.role, "scope": list(record.scope)})
        return
    seen = f", scope {' + '.join(record.scope)}" if record.scope else ""
    common.console.print(f"created {record.role} key {record.id}{seen}; send it as `Authorization: Bearer <key>`:",
                         highlight=False)
    common.console.print(key, highlight=False, soft_wrap=True)


def _scope_nodes(refs: list[str]) -> list[str]:
    """Node ids for the names or ids given, checked against the current organisation tree."""
    if not refs:
        return []
    from voc.scopes import load_org_tree

    service = open_service()
    try:
        tree = load_org_tree(service)
    finally:
        service.close()
    if tree is None:
        raise fail("--scope needs an organisation tree: import one with `voc org import FILE`")
    from voc.scopes.scope import parse_line

    unknown = [ref for ref in refs if ref not in tree and parse_line(ref) is None]
    if unknown:
        raise fail(f"--scope: no node {', '.join(map(repr, unknown))} in the organisation tree (see `voc org show`; "
                   "a business line is FIELD=VALUE, e.g. channel=外卖)")
    return list(dict.fromkeys(ref.strip() if parse_line(ref) else tree.node(ref).id for ref in refs))


@keys_app.command("list")
def list_keys(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Key ids, roles and names (never the keys themselves)."""
    records = _key_store().list(include_revoked=include_revoked)
    rows = [{"id": r.id, "role": r.role, "name": r.name, "rate_limit_per_minute": r.rate_limit_per_minute,
             "created_at": r.created_at.isoformat(), "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
             "scope": list(r.scope)}
            for r in records]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        revoked = f"  revoked {row['revoked_at']}" if row["revoked_at"] else ""
        scope = f"  scope: {' + '.join(row['scope'])}" if row["scope"] else "  scope: all"
        common.console.print(f"{row['id']}  {row['role']:<10} {row['created_at']}  {row['name'] or ''}{scope}"
                             f"{revoked}", highlight=False, markup=False)


@keys_app.command("revoke")
def revoke(
    key_ids: Annotated[list[str], typer.Argument(help="Key ids (from `voc keys list`) or whole keys.")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke keys: servers stop accepting them within seconds."""
    revoked = _key_store().revoke(key_ids)
    if as_json:
        emit_json({"revoked": revoked})
        return
    if not revoked:
        raise fail("no active key with that id", code=1)
    common.console.print(f"revoked {', '.join(revoked)}", highlight=False)
