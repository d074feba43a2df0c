"""Data scopes: the organisation tree, and what part of it (which documents) a key may see.

``OrgTree`` maps documents onto nodes; ``Scope`` turns nodes into one mandatory restriction
(``Scope.narrow`` for index filters, ``Scope.sql`` for the store, ``Scope.owners`` for alerts and
tickets); ``ScopedVoc`` is the facade a scoped caller gets, the one place that applies it.
"""

from __future__ import annotations

from typing import Any

from voc.scopes.io import OrgFileError, dump_tree, parse_tree, read_tree
from voc.scopes.scope import Scope, ScopeDenied, parse_line
from voc.scopes.scoped import ScopedIndex, ScopedVoc, restrict
from voc.scopes.store import OrgStore
from voc.scopes.tree import UNASSIGNED, OrgNode, OrgTree, OrgTreeError

__all__ = ["UNASSIGNED", "OrgFileError", "OrgNode", "OrgStore", "OrgTree", "OrgTreeError", "Scope", "ScopeDenied",
           "ScopedIndex", "ScopedVoc", "dump_tree", "import_org_tree", "load_org_tree", "org_next_level", "parse_tree",
           "read_tree", "restrict", "scoped", "ticket_overrides", "visible_tree"]


def load_org_tree(voc: Any, version: int | None = None) -> OrgTree | None:
    """The stored organisation tree (the newest version unless one is named), or None if none was imported."""
    return OrgStore(voc.store.engine).tree(version)


def import_org_tree(voc: Any, tree: OrgTree, *, author: str, note: str = "") -> int:
    """Store ``tree`` as the next version (with its audit entry); returns the version. Only an unscoped
    caller may: the tree decides every key's scope, a store manager's included."""
    if isinstance(voc, ScopedVoc):
        raise ScopeDenied("a scoped key cannot change the organisation tree")
    return OrgStore(voc.store.engine).save(tree, author=author, note=note)


def scoped(voc: Any, refs: list[str] | tuple[str, ...] | None) -> Any:
    """``voc`` itself when ``refs`` is empty or names the root; else a ``ScopedVoc`` for those nodes."""
    scope = Scope.resolve(load_org_tree(voc), list(refs or ()))
    return voc if scope.unrestricted else ScopedVoc(voc, scope)


def org_next_level(engine: Any) -> Any:
    """``next_level`` for ticket escalation from the organisation tree, read at each call (a new tree
    version applies at once): a node's parent (its id), None at the top or for an owner the tree lacks."""
    store = OrgStore(engine)

    def next_level(owner: str) -> str | None:
        tree = store.tree()
        return tree.next_level(owner) if tree is not None and owner in tree else None

    return next_level


def ticket_overrides(settings: Any, engine: Any) -> dict[str, Any]:
    """What the ticket service takes from the organisation: escalation up the tree, unless a chain of its
    own is configured (``VOC_TICKET_ESCALATION`` wins)."""
    if settings.ticket_escalation and str(settings.ticket_escalation).strip():
        return {}
    return {"next_level": org_next_level(engine)}


def visible_tree(voc: Any) -> dict[str, Any] | None:
    """The current tree as ``voc`` may see it: the root unscoped, else the scope's own subtrees (a store
    manager is not shown the other regions); None without a tree."""
    tree = load_org_tree(voc.base if isinstance(voc, ScopedVoc) else voc)
    if tree is None:
        return None
    refs = [ref for ref in voc.scope.nodes if parse_line(ref) is None] if isinstance(voc, ScopedVoc) else []
    nodes = [tree.find(ref) for ref in refs or [tree.root.id]]  # business lines alone: the whole tree
    return {"name": tree.name, "field": tree.mapping_field, "version": tree.version,
            "nodes": [node.to_dict() for node in nodes if node is not None]}
