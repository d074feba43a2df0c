"""A scope: the part of the organisation a key may see, as one mandatory restriction on document fields.

The restriction is a set of mapping-field values (the stores of a region, say). It is ANDed into a
query's filters by intersection: a user filter on the same field can only narrow it, and an empty
intersection means "nothing" (never "no filter"). The root of the tree, or no scope at all, is
unrestricted; only there are unassigned documents (no node lists their value) visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import false, true
from sqlalchemy.sql.elements import ColumnElement

from indexing import Filters
from voc.scopes.tree import UNASSIGNED, OrgTree


class ScopeDenied(PermissionError):
    """What a scoped caller may not do at all (e.g. rebuild the whole index)."""


@dataclass(frozen=True, slots=True)
class Scope:
    nodes: tuple[str, ...] = ()  # node ids (empty: unrestricted)
    field: str = "store"
    values: frozenset[str] | None = None  # None: every document, unassigned ones included
    owners: frozenset[str] = frozenset()  # node ids in the subtrees: what alerts and tickets may belong to

    @classmethod
    def everything(cls) -> Scope:
        return cls()

    @classmethod
    def resolve(cls, tree: OrgTree | None, refs: Sequence[str]) -> Scope:
        """The scope of nodes given by id or name. Fails closed: without a tree, or for a node the
        current tree no longer has, the scope sees nothing of that node."""
        refs = tuple(dict.fromkeys(r for r in refs if r))
        if not refs:
            return cls.everything()
        if tree is None:
            return cls(nodes=refs, values=frozenset())
        found = [tree.find(ref) for ref in refs]
        ids = tuple(node.id if node else ref for node, ref in zip(found, refs, strict=True))
        if any(node is not None and tree.is_root(node.id) for node in found):
            return cls(nodes=ids, field=tree.mapping_field, values=None, owners=frozenset(
                {ref for n in tree.subtree(tree.root.id) for ref in (n.id, n.name)} | {UNASSIGNED}))
        values: set[str] = set()
        owners: set[str] = set()
        for node in found:
            if node is not None:
                values |= tree.values_under(node.id)
                owners |= {ref for n in tree.subtree(node.id) for ref in (n.id, n.name)}  # tickets name either
        return cls(nodes=ids, field=tree.mapping_field, values=frozenset(values), owners=frozenset(owners))

    @property
    def unrestricted(self) -> bool:
        return self.values is None

    def describe(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes), "field": self.field, "unrestricted": self.unrestricted,
                "values": None if self.values is None else sorted(self.values)}

    # --- the restriction, in the forms its users take -----------------------------------------
    def filters(self) -> Filters | None:
        """The restriction alone as index filters; None when the scope sees nothing (an empty list in
        ``Filters`` would mean "no filter"), ``Filters()`` when unrestricted."""
        if self.values is None:
            return Filters()
        return Filters(**{self.field: sorted(self.values)}) if self.values else None

    def narrow(self, filters: Filters | None) -> Filters | None:
        """``filters`` AND the restriction; None when nothing can match."""
        filters = filters or Filters()
        if self.values is None:
            return filters
        asked: list[str] = getattr(filters, self.field)
        allowed = sorted(set(asked) & self.values) if asked else sorted(self.values)
        return replace(filters, **{self.field: allowed}) if allowed else None

    def allows(self, value: str | None) -> bool:
        return self.values is None or (value is not None and value in self.values)

    def allows_owner(self, node_id: str) -> bool:
        """Whether an alert or ticket owned by this node is within the scope."""
        return self.values is None or node_id in self.owners

    def sql(self, table: Any) -> ColumnElement[bool]:
        """The restriction as a SQL condition on a table with the mapping field (``voc.store.documents``)."""
        if self.values is None:
            return true()
        if not self.values:
            return false()
        return table.c[self.field].in_(sorted(self.values))
