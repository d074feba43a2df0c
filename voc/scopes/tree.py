"""The organisation tree: head office → regions → stores (any depth), and which documents each node owns.

A node owns the documents whose mapping field (``store`` by default; ``channel``, ``industry`` or
``product`` for a tree of business lines) holds one of its ``values``; a node sees what it owns and
what every node below it owns. A document whose value no node lists belongs to the unassigned node,
which only the root sees: a store manager never sees a document nobody has placed yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

MAPPING_FIELDS: tuple[str, ...] = ("store", "channel", "industry", "product")
UNASSIGNED = "unassigned"
_ID_RE = re.compile(r"^[\w.\-:/]+$")


class OrgTreeError(ValueError):
    """A tree that cannot be used (duplicate names, a value owned twice...); the message says which."""


@dataclass(slots=True)
class OrgNode:
    id: str
    name: str
    kind: str = ""  # head_office / region / store / business_line...: shown, never interpreted
    values: list[str] = field(default_factory=list)  # mapping-field values this node owns itself
    children: list[OrgNode] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.kind:
            data["kind"] = self.kind
        if self.values:
            data["values"] = list(self.values)
        if self.children:
            data["children"] = [child.to_dict() for child in self.children]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrgNode:
        return cls(id=data["id"], name=data["name"], kind=data.get("kind", ""), values=list(data.get("values", [])),
                   children=[cls.from_dict(child) for child in data.get("children", [])])


@dataclass(slots=True)
class OrgTree:
    """One root (head office); every node found by id or by name."""

    root: OrgNode
    mapping_field: str = "store"
    name: str = "组织架构"
    version: int = 0
    _parents: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)
    _nodes: dict[str, OrgNode] = field(default_factory=dict, init=False, repr=False)
    _owner: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _by_name: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.mapping_field not in MAPPING_FIELDS:
            raise OrgTreeError(f"cannot map documents by {self.mapping_field!r}: "
                               f"use one of {', '.join(MAPPING_FIELDS)}")
        names: dict[str, str] = {}
        for node, parent in self._walk():
            if not _ID_RE.match(node.id):
                raise OrgTreeError(f"node {node.name!r}: invalid id {node.id!r} (letters, digits, CJK, '.', '-', "
                                   "'_', ':' and '/' only)")
            if node.id == UNASSIGNED or node.name == UNASSIGNED:
                raise OrgTreeError(f"{UNASSIGNED!r} is reserved for documents no node owns")
            for key in {node.id, node.name}:
                if key in names and names[key] != node.id:
                    raise OrgTreeError(f"{key!r} names two nodes; ids and names must be unique")
                names[key] = node.id
            if node.id in self._nodes:
                raise OrgTreeError(f"duplicate node id {node.id!r}")
            self._nodes[node.id] = node
            self._parents[node.id] = parent.id if parent else None
            for value in node.values:
                if value in self._owner:
                    raise OrgTreeError(f"{self.mapping_field} {value!r} is listed under both {self._owner[value]!r} "
                                       f"and {node.id!r}; a document belongs to one node")
                self._owner[value] = node.id
        self._by_name = {node.name: node.id for node in self._nodes.values()}

    def _walk(self) -> Iterator[tuple[OrgNode, OrgNode | None]]:
        stack: list[tuple[OrgNode, OrgNode | None]] = [(self.root, None)]
        while stack:
            node, parent = stack.pop()
            yield node, parent
            stack.extend((child, node) for child in reversed(node.children))

    # --- lookup -------------------------------------------------------------------------------
    def walk(self) -> Iterator[tuple[OrgNode, int]]:
        """Every node with its depth (root 0), parents before children."""
        depth: dict[str, int] = {}
        for node, parent in self._walk():
            depth[node.id] = depth[parent.id] + 1 if parent else 0
            yield node, depth[node.id]

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str) and self.find(ref) is not None

    def find(self, ref: str) -> OrgNode | None:
        """A node by id or by name."""
        node_id = ref if ref in self._nodes else self._by_name.get(ref)
        return self._nodes.get(node_id) if node_id else None

    def node(self, ref: str) -> OrgNode:
        found = self.find(ref)
        if found is None:
            raise OrgTreeError(f"no node {ref!r} in the organisation tree (version {self.version})")
        return found

    def parent(self, ref: str) -> OrgNode | None:
        """The node above (None for the root); the unassigned node hangs under the root."""
        if ref == UNASSIGNED:
            return self.root
        parent_id = self._parents[self.node(ref).id]
        return self._nodes[parent_id] if parent_id else None

    def ancestors(self, ref: str) -> list[OrgNode]:
        """From the parent up to the root."""
        found: list[OrgNode] = []
        node = self.parent(ref)
        while node is not None:
            found.append(node)
            node = self.parent(node.id)
        return found

    def next_level(self, owner: str) -> str | None:
        """Who an overdue ticket owned by ``owner`` escalates to: the parent's id, None at the top."""
        parent = self.parent(owner)
        return parent.id if parent else None

    def escalation(self) -> Callable[[str], str | None]:
        return self.next_level

    def subtree(self, ref: str) -> list[OrgNode]:
        start = self.node(ref)
        out: list[OrgNode] = []
        stack = [start]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out

    def values_under(self, ref: str) -> set[str]:
        """The mapping-field values a node sees: its own and every descendant's."""
        return {value for node in self.subtree(ref) for value in node.values}

    def is_root(self, ref: str) -> bool:
        return self.node(ref).id == self.root.id

    def owner_of(self, value: str | None) -> str:
        """The node a document with this mapping-field value belongs to (``UNASSIGNED`` when none)."""
        return self._owner.get(value, UNASSIGNED) if value is not None else UNASSIGNED

    def node_for(self, document: dict[str, Any]) -> str:
        """The node of a document given as fields (``store``, ``channel``…)."""
        value = document.get(self.mapping_field)
        return self.owner_of(str(value) if value is not None else None)

    # --- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "field": self.mapping_field, "version": self.version, "root": self.root.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrgTree:
        return cls(root=OrgNode.from_dict(data["root"]), mapping_field=data.get("field", "store"),
                   name=data.get("name", "组织架构"), version=int(data.get("version", 0)))

    def size(self) -> int:
        return len(self._nodes)
