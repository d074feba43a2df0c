"""Who a ticket escalates to: the next level up from an owner.

The service takes any ``next_level(owner) -> str | None`` callable (the organisation tree of the data-scope
work plugs in here). Without one, the chain comes from ``VOC_TICKET_ESCALATION``: a YAML or JSON file
mapping each node to its parent, or that mapping written inline as JSON::

    VOC_TICKET_ESCALATION='{"北京店": "华北大区", "华北大区": "总部"}'

A node missing from the mapping is the top: its tickets stay overdue and are not escalated further.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from voc.tickets.model import TicketConfigError

NextLevel = Callable[[str], str | None]
Notify = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class ChainNextLevel:
    """``next_level`` over a fixed node → parent mapping."""

    parents: Mapping[str, str]

    def __call__(self, owner: str) -> str | None:
        parent = self.parents.get(owner)
        return parent if parent and parent != owner else None


def load_chain(value: str | None) -> dict[str, str]:
    """The node → parent mapping a ``VOC_TICKET_ESCALATION`` value names (a file path or inline JSON)."""
    if not value or not value.strip():
        return {}
    text = value.strip()
    if text[0] not in "{[":  # inline JSON; anything else names a file
        path = Path(text).expanduser()
        if not path.is_file():
            raise TicketConfigError(f"VOC_TICKET_ESCALATION: no file {path} (give a YAML/JSON file or inline JSON)")
        text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON: one parser reads both
    except (yaml.YAMLError, RecursionError) as exc:  # RecursionError: brackets nested past the parser
        raise TicketConfigError(f"VOC_TICKET_ESCALATION: not YAML/JSON ({exc.__class__.__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str | int) and isinstance(v, str | int)
                                             for k, v in data.items()):
        raise TicketConfigError("VOC_TICKET_ESCALATION must map each node name to its parent's name")
    chain = {str(k).strip(): str(v).strip() for k, v in data.items()}
    _check_acyclic(chain)
    return chain


def _check_acyclic(chain: Mapping[str, str]) -> None:
    # A cycle would escalate a ticket round and round, one level per run, forever.
    for start in chain:
        seen = {start}
        node = chain.get(start)
        while node is not None and node in chain:
            if node in seen:
                raise TicketConfigError(f"VOC_TICKET_ESCALATION has a cycle through {node!r}")
            seen.add(node)
            node = chain[node]


def no_notifier(event: dict[str, Any]) -> None:
    """The default ``notify``: delivers nothing (the audit trail records the event all the same)."""


def describe_chain(chain: Mapping[str, str], start: str) -> list[str]:
    """``start`` and every level above it, for messages and the CLI."""
    path = [start]
    while (parent := chain.get(path[-1])) and parent not in path:
        path.append(parent)
    return path


__all__ = ["ChainNextLevel", "NextLevel", "Notify", "describe_chain", "load_chain", "no_notifier"]
