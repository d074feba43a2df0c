"""`voc org import|export|show|versions|audit`: the organisation tree that scopes keys and CLI runs,
and `--scope` (or VOC_SCOPE) for commands that read documents."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail, open_service

org_app = typer.Typer(help="The organisation tree (head office → regions → stores) that data scopes use.",
                      no_args_is_help=True)

ScopeOpt = Annotated[list[str] | None, typer.Option(
    "--scope", envvar="VOC_SCOPE", show_default=False,
    help="See only these organisation nodes' documents (id or name; repeat), or a business line within them "
         "(FIELD=VALUE, e.g. channel=外卖). Default: everything, as the local operator.")]


def scoped_service(scope: list[str] | None) -> tuple[Any, Any]:
    """The service to close, and the facade to use: scoped when ``scope`` names nodes below the root."""
    from voc.scopes import load_org_tree, scoped

    base = open_service()
    if not scope:
        return base, base
    tree = load_org_tree(base)
    if tree is None:
        base.close()
        raise fail("--scope needs an organisation tree: import one with `voc org import FILE`")
    from voc.scopes.scope import parse_line

    unknown = [ref for ref in scope if ref not in tree and parse_line(ref) is None]
    if unknown:
        base.close()
        raise fail(f"--scope: no node {', '.join(map(repr, unknown))} in the organisation tree (see `voc org show`)")
    return base, scoped(base, scope)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (a container without passwd entry)
        return "cli"


@org_app.command("import")
def import_tree(
    path: Annotated[Path, typer.Argument(help="YAML, JSON or XLSX file.", dir_okay=False)],
    fmt: Annotated[str | None, typer.Option("--format", help="yaml, json or xlsx (default: from the name).")] = None,
    note: Annotated[str, typer.Option("--note", help="Why this version (kept in the audit trail).")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Store the file as a new version of the tree; a bad file stores nothing and says what is wrong."""
    from voc.scopes import OrgFileError, OrgStore, read_tree

    try:
        tree = read_tree(path, fmt)
    except OrgFileError as exc:
        raise fail(str(exc)) from None
    service = open_service()
    try:
        version = OrgStore(service.store.engine).save(tree, author=_actor(), note=note)
    finally:
        service.close()
    if as_json:
        emit_json({"version": version, "nodes": tree.size(), "field": tree.mapping_field})
        return
    common.console.print(f"organisation tree version {version}: {tree.size()} nodes, documents placed by "
                         f"{tree.mapping_field}", highlight=False)


@org_app.command("export")
def export_tree(
    output: Annotated[Path, typer.Argument(help="File to write (.yaml, .json or .xlsx).", dir_okay=False)],
    fmt: Annotated[str | None, typer.Option("--format", help="yaml, json or xlsx (default: from the name).")] = None,
    version: Annotated[int | None, typer.Option("--version", min=1, help="A stored version (default: newest).")
                       ] = None,
) -> None:
    """Write the tree to a file that `voc org import` reads back."""
    from voc.scopes import OrgFileError, dump_tree, load_org_tree
    from voc.scopes.io import detect_format

    service = open_service()
    try:
        tree = load_org_tree(service, version)
    finally:
        service.close()
    if tree is None:
        raise fail("no organisation tree" + (f" version {version}" if version else "") + "; see `voc org import`")
    try:
        output.write_bytes(dump_tree(tree, detect_format(output, fmt)))
    except OrgFileError as exc:
        raise fail(str(exc)) from None
    common.console.print(f"wrote version {tree.version} to {output}", highlight=False)


@org_app.command("show")
def show(as_json: JsonOpt = False) -> None:
    """The current tree, one node a line, with the values each node owns."""
    from voc.scopes import load_org_tree

    service = open_service()
    try:
        tree = load_org_tree(service)
    finally:
        service.close()
    if tree is None:
        raise fail("no organisation tree yet; see `voc org import`", code=1)
    if as_json:
        emit_json(tree.to_dict())
        return
    common.console.print(f"{tree.name} (version {tree.version}, documents placed by {tree.mapping_field})",
                         highlight=False)
    for node, depth in tree.walk():
        values = f"  [{', '.join(node.values)}]" if node.values else ""
        kind = f" ({node.kind})" if node.kind else ""
        label = node.name if node.name == node.id else f"{node.name} <{node.id}>"
        common.console.print(f"{'  ' * depth}{label}{kind}{values}", highlight=False, markup=False)
    common.console.print("  unassigned: documents no node lists (seen only at the top)", highlight=False)


@org_app.command("versions")
def versions(as_json: JsonOpt = False) -> None:
    """Every stored version."""
    from voc.scopes import OrgStore

    service = open_service()
    try:
        rows = OrgStore(service.store.engine).versions()
    finally:
        service.close()
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        common.console.print(f"{row['version']:>4}  {row['created_at']}  {row['author']}  {row['note']}",
                             highlight=False, markup=False)


@org_app.command("audit")
def audit(limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50, as_json: JsonOpt = False) -> None:
    """Who changed the tree, when, and which nodes."""
    from voc.scopes import OrgStore

    service = open_service()
    try:
        rows = OrgStore(service.store.engine).audit_log(limit)
    finally:
        service.close()
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        detail = row["detail"]
        common.console.print(f"{row['at']}  {row['actor']}  {row['action']} v{row['version']}: "
                             f"+{len(detail.get('added', []))} -{len(detail.get('removed', []))} "
                             f"~{len(detail.get('changed', []))}", highlight=False, markup=False)
