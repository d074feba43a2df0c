"""The indicator system (指标体系): a tree of groups and indicators of any depth.

A node with children is a group, a node without is an indicator (a leaf can still be declared a
group, e.g. a group whose indicators are yet to be written). Every node carries the same fields, so
groups can hold keywords too: a mention of 物流 that names no specific logistics indicator still
counts for the 物流配送 group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

STATUSES: tuple[str, ...] = ("active", "draft", "retired")
NodeKind = Literal["group", "indicator"]
_ID_RE = re.compile(r"^[\w.\-:/]+$")


@dataclass(slots=True)
class Indicator:
    id: str
    name: str
    definition: str = ""
    keywords: list[str] = field(default_factory=list)
    synonyms: list[str] = field(default_factory=list)
    survey_question: str | None = None
    status: str = "active"
    rule: str = ""  # boolean rule over tokens that maps a clause here (syntax: voc.indicators.rules)
    exclude: str = ""  # a clause this rule matches never maps here, by any path
    version: int = 1  # the tree version in which this node last changed
    kind: NodeKind = "indicator"
    children: list[Indicator] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.kind == "group" or bool(self.children)

    @property
    def terms(self) -> list[str]:
        """What a mention of this node looks like: its name, keywords and synonyms (deduplicated)."""
        return list(dict.fromkeys(t for t in (self.name, *self.keywords, *self.synonyms) if t))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "name": self.name, "kind": "group" if self.is_group else "indicator",
            "definition": self.definition, "keywords": list(self.keywords), "synonyms": list(self.synonyms),
            "survey_question": self.survey_question, "status": self.status, "version": self.version,
            "rule": self.rule, "exclude": self.exclude,
        }
        if self.children:
            data["children"] = [child.to_dict() for child in self.children]
        return data

    def content(self) -> dict[str, Any]:
        """The fields a version diff compares (not children, not the version stamp)."""
        return {"name": self.name, "definition": self.definition, "keywords": self.keywords,
                "synonyms": self.synonyms, "survey_question": self.survey_question, "status": self.status,
                "rule": self.rule, "exclude": self.exclude}


@dataclass(slots=True)
class Located:
    node: Indicator
    parent: Indicator | None
    path: list[str]  # names from the root down to and including this node
    level: int  # 1 for top-level nodes


@dataclass(slots=True)
class IndicatorTree:
    name: str = "指标体系"
    version: int = 0  # 0 until stored
    nodes: list[Indicator] = field(default_factory=list)

    def walk(self) -> Iterator[Located]:
        """Every node, depth first, parents before children."""
        stack: list[tuple[Indicator, Indicator | None, list[str]]] = [
            (node, None, []) for node in reversed(self.nodes)]
        while stack:
            node, parent, path = stack.pop()
            here = [*path, node.name]
            yield Located(node, parent, here, len(here))
            stack.extend((child, node, here) for child in reversed(node.children))

    def find(self, node_id: str) -> Located | None:
        return next((loc for loc in self.walk() if loc.node.id == node_id), None)

    def ids(self) -> set[str]:
        return {loc.node.id for loc in self.walk()}

    def active(self) -> list[Located]:
        """Nodes that mapping uses: not retired, under no retired ancestor."""
        retired: set[str] = set()
        found = []
        for loc in self.walk():
            if loc.node.status == "retired" or (loc.parent is not None and loc.parent.id in retired):
                retired.add(loc.node.id)
                continue
            found.append(loc)
        return found

    def descendants(self, node_id: str) -> set[str]:
        """The node's id and every id below it."""
        located = self.find(node_id)
        if located is None:
            return set()
        out: set[str] = set()
        stack = [located.node]
        while stack:
            node = stack.pop()
            out.add(node.id)
            stack.extend(node.children)
        return out

    def groups(self) -> list[Located]:
        return [loc for loc in self.walk() if loc.node.is_group]

    def add(self, node: Indicator, parent_id: str | None) -> None:
        if node.id in self.ids():
            raise ValueError(f"indicator id {node.id!r} already exists")
        if parent_id is None:
            self.nodes.append(node)
            return
        parent = self.find(parent_id)
        if parent is None:
            raise ValueError(f"no group {parent_id!r} in the indicator system")
        parent.node.children.append(node)
        parent.node.kind = "group"

    def next_child_id(self, parent_id: str | None) -> str:
        taken = self.ids()
        prefix = f"{parent_id}." if parent_id else "N"
        number = len(self.find(parent_id).node.children if parent_id and self.find(parent_id) else self.nodes) + 1
        while f"{prefix}{number}" in taken:
            number += 1
        return f"{prefix}{number}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "indicators": [n.to_dict() for n in self.nodes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndicatorTree:
        """The stored shape (what ``to_dict`` writes); other shapes go through ``voc.indicators.io``."""
        return cls(name=data.get("name") or "指标体系", version=int(data.get("version") or 0),
                   nodes=[_node_from_dict(item) for item in data.get("indicators", [])])

    def stamp(self, version: int, previous: IndicatorTree | None) -> None:
        """Set the tree version; nodes new or changed since ``previous`` get it as their version."""
        self.version = version
        before = {loc.node.id: loc for loc in previous.walk()} if previous else {}
        for loc in self.walk():
            old = before.get(loc.node.id)
            parent_moved = old is not None and (old.parent.id if old.parent else None) != (
                loc.parent.id if loc.parent else None)
            if old is None or old.node.content() != loc.node.content() or parent_moved:
                loc.node.version = version
            else:
                loc.node.version = old.node.version


def _node_from_dict(data: dict[str, Any]) -> Indicator:
    return Indicator(
        id=data["id"], name=data["name"], definition=data.get("definition") or "",
        keywords=list(data.get("keywords") or []), synonyms=list(data.get("synonyms") or []),
        survey_question=data.get("survey_question"), status=data.get("status") or "active",
        rule=data.get("rule") or "", exclude=data.get("exclude") or "",
        version=int(data.get("version") or 1), kind=data.get("kind") or "indicator",
        children=[_node_from_dict(child) for child in data.get("children") or []],
    )


def valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def diff_trees(old: IndicatorTree, new: IndicatorTree) -> dict[str, Any]:
    """What changed between two versions: ids added, removed, and fields changed per id."""
    before = {loc.node.id: loc for loc in old.walk()}
    after = {loc.node.id: loc for loc in new.walk()}
    changed = []
    for node_id in sorted(before.keys() & after.keys()):
        a, b = before[node_id], after[node_id]
        fields = {key: {"from": value, "to": b.node.content()[key]}
                  for key, value in a.node.content().items() if b.node.content()[key] != value}
        old_parent = a.parent.id if a.parent else None
        new_parent = b.parent.id if b.parent else None
        if old_parent != new_parent:
            fields["parent"] = {"from": old_parent, "to": new_parent}
        if fields:
            changed.append({"id": node_id, "name": b.node.name, "changes": fields})
    return {
        "from_version": old.version, "to_version": new.version,
        "added": [{"id": i, "name": after[i].node.name, "path": after[i].path} for i in after if i not in before],
        "removed": [{"id": i, "name": before[i].node.name, "path": before[i].path} for i in before if i not in after],
        "changed": changed,
    }
