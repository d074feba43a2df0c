"""A scope: the part of the organisation a key may see, as one mandatory restriction on document fields.

The restriction is a set of mapping-field values (the stores of a region, say). It is ANDed into a
query's filters by intersection: a user filter on the same field can only narrow it, and an empty
intersection means "nothing" (never "no filter"). The root of the tree, or no scope at all, is
unrestricted; only there are unassigned documents (no node lists their value) visible.

A scope may also name business lines, ``channel=外卖`` (any of store, channel, industry, product): they
are ANDed with the nodes (华东大区 AND channel 外卖: the region's delivery documents); several values of
one field are ORed. Lines without a node apply to the whole tree (the root AND the line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, false, true
from sqlalchemy.sql.elements import ColumnElement

from indexing import Filters
from voc.scopes.tree import MAPPING_FIELDS, UNASSIGNED, OrgTree

LINE_SEP = "="


def parse_line(ref: str) -> tuple[str, str] | None:
    """``"channel=外卖"`` -> ("channel", "外卖"); None when ``ref`` is not a business line (a node)."""
    field, sep, value = ref.partition(LINE_SEP)
    field, value = field.strip(), value.strip()
    return (field, value) if sep and field in MAPPING_FIELDS and value else None


def _lines(refs: Sequence[str]) -> tuple[tuple[str, frozenset[str]], ...]:
    found: dict[str, set[str]] = {}
    for ref in refs:
        line = parse_line(ref)
        if line is not None:
            found.setdefault(line[0], set()).add(line[1])
    return tuple((field, frozenset(values)) for field, values in sorted(found.items()))


class ScopeDenied(PermissionError):
    """What a scoped caller may not do at all (e.g. rebuild the whole index)."""


@dataclass(frozen=True, slots=True)
class Scope:
    nodes: tuple[str, ...] = ()  # node ids (empty: unrestricted)
    field: str = "store"
    values: frozenset[str] | None = None  # None: every document, unassigned ones included
    owners: frozenset[str] = frozenset()  # node ids in the subtrees: what alerts and tickets may belong to
    lines: tuple[tuple[str, frozenset[str]], ...] = ()  # business lines (field, values), ANDed with the nodes

    @classmethod
    def everything(cls) -> Scope:
        return cls()

    @classmethod
    def resolve(cls, tree: OrgTree | None, refs: Sequence[str]) -> Scope:
        """The scope of nodes given by id or name. Fails closed: without a tree, or for a node the
        current tree no longer has, the scope sees nothing of that node."""
        refs = tuple(dict.fromkeys(r for r in refs if r))
        lines = _lines(refs)
        nodes = tuple(ref for ref in refs if parse_line(ref) is None)
        if lines:  # the nodes' scope (the root's without nodes), then the lines on top
            base = cls.resolve(tree, nodes or ((tree.root.id,) if tree is not None else ("\x00",)))
            return replace(base, nodes=tuple(refs), lines=lines)
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
    def restrictions(self) -> list[tuple[str, frozenset[str]]]:
        """Every (field, allowed values) a document must meet: the nodes' values, then the lines."""
        return ([(self.field, self.values)] if self.values is not None else []) + list(self.lines)

    @property
    def unrestricted(self) -> bool:
        return self.values is None and not self.lines

    def describe(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes), "field": self.field, "unrestricted": self.unrestricted,
                "values": None if self.values is None else sorted(self.values),
                "lines": {field: sorted(values) for field, values in self.lines}}

    # --- the restriction, in the forms its users take -----------------------------------------
    def filters(self) -> Filters | None:
        """The restriction alone as index filters; None when the scope sees nothing (an empty list in
        ``Filters`` would mean "no filter"), ``Filters()`` when unrestricted."""
        return self.narrow(Filters())

    def narrow(self, filters: Filters | None) -> Filters | None:
        """``filters`` AND the restriction; None when nothing can match."""
        filters = filters or Filters()
        for field, values in self.restrictions:
            asked: list[str] = getattr(filters, field)
            allowed = sorted(set(asked) & values) if asked else sorted(values)
            if not allowed:
                return None
            filters = replace(filters, **{field: allowed})
        return filters

    def allows(self, value: str | None) -> bool:
        """Whether a mapping-field value is inside the nodes (lines aside: see ``allows_fields``)."""
        return self.values is None or (value is not None and value in self.values)

    def allows_fields(self, get: Callable[[str], Any]) -> bool:
        """Whether a document whose field values ``get`` returns is inside the scope, lines included."""
        for field, values in self.restrictions:
            value = get(field)
            if value is None or str(value) not in values:
                return False
        return True

    def allows_owner(self, node_id: str) -> bool:
        """Whether an alert or ticket owned by this node is within the scope."""
        return self.values is None or node_id in self.owners

    def sql(self, table: Any) -> ColumnElement[bool]:
        """The restriction as a SQL condition on a table with the mapping field (``voc.store.documents``)."""
        conditions = [table.c[field].in_(sorted(values)) if values else false()
                      for field, values in self.restrictions]
        return and_(*conditions) if conditions else true()
