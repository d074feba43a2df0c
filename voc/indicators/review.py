"""Review decisions on suggestions, as pure functions over trees and suggestion dicts.

``same_evidence`` is what keeps a rejected suggestion from coming back: a new candidate that shares
the rejected one's key terms is suppressed unless at least ``NEW_EVIDENCE`` of its documents are
new since the rejection. Fresh evidence (the issue grew) brings it back for another look.
"""

from __future__ import annotations

import copy
from typing import Any

from voc.indicators.model import Indicator, IndicatorTree

ACTIONS = ("accept", "merge", "reject")
STATUS_OF = {"accept": "accepted", "merge": "merged", "reject": "rejected"}
NEW_EVIDENCE = 0.25


class ReviewError(ValueError):
    """A review that cannot be applied (unknown target, already reviewed, missing reason)."""


def accept(tree: IndicatorTree, suggestion: dict[str, Any], *, parent: str | None = None,
           name: str | None = None, indicator_id: str | None = None) -> tuple[IndicatorTree, Indicator]:
    """A copy of the tree with the suggestion added as an indicator (under ``parent`` or its proposed one)."""
    new = copy.deepcopy(tree)
    parent_id = parent if parent is not None else suggestion.get("parent")
    if parent_id is not None:
        located = new.find(parent_id)
        if located is None:
            raise ReviewError(f"no indicator or group {parent_id!r} to put the new indicator under")
    taken_terms = _all_terms(new)
    node = Indicator(
        id=indicator_id or new.next_child_id(parent_id),
        name=name or suggestion["name"],
        definition=suggestion.get("definition") or "",
        keywords=[k for k in suggestion.get("keywords", []) if k not in taken_terms],
        survey_question=suggestion.get("survey_question"),
        status="active",
    )
    if node.id in new.ids():
        raise ReviewError(f"indicator id {node.id!r} already exists")
    new.add(node, parent_id)
    return new, node


def merge(tree: IndicatorTree, suggestion: dict[str, Any], target: str) -> tuple[IndicatorTree, list[str]]:
    """A copy of the tree with the suggestion's keywords added to ``target``; returns the words added."""
    new = copy.deepcopy(tree)
    located = new.find(target)
    if located is None:
        raise ReviewError(f"no indicator {target!r} to merge into")
    taken = _all_terms(new)
    added = [k for k in suggestion.get("keywords", []) if k not in taken]
    located.node.keywords.extend(added)
    return new, added


def same_evidence(candidate: dict[str, Any], reviewed: dict[str, Any]) -> bool:
    """Whether a new candidate is a reviewed suggestion again, on (almost) the same documents."""
    a, b = set(candidate["keywords"]), set(reviewed.get("keywords", []))
    related = (candidate["name"] == reviewed.get("name") or candidate["fingerprint"] == reviewed.get("fingerprint")
               or (bool(a and b) and len(a & b) / len(a | b) >= 0.5))
    if not related:
        return False
    old_docs = set(reviewed.get("evidence", {}).get("document_ids", []))
    new_docs = set(candidate["evidence"]["document_ids"]) - old_docs
    return len(new_docs) < NEW_EVIDENCE * max(candidate["evidence"]["count"], 1)


def _all_terms(tree: IndicatorTree) -> set[str]:
    return {term for loc in tree.walk() for term in loc.node.terms}
