"""The rule syntax tree, its canonical text, and the error every syntax problem raises.

Nodes are frozen dataclasses so that two parses of the same rule compare equal (the round-trip
property ``parse(str(rule)) == rule`` the tests check). ``AND``/``OR`` are n-ary and flattened at
parse time, so ``a AND (b AND c)`` and ``a AND b AND c`` are one tree with one canonical text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

MAX_RULE_CHARS = 500
MAX_TERMS = 64  # more alternatives than this belong in the keywords and synonyms
MAX_DEPTH = 32  # parentheses and NOTs nested; a few levels is all a real rule needs
MAX_NEAR = 50
KEYWORDS = ("AND", "OR", "NOT", "NEG")
# A term is written bare when it cannot be mistaken for syntax; otherwise it is quoted.
_BARE_TERM = re.compile(r"[^\s()（）\"“”&|!*?]+")


class RuleSyntaxError(ValueError):
    """A rule that cannot be parsed; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int, chinese: str = "") -> None:
        self.message = message
        self.position = position
        self.chinese = chinese
        note = f" ({chinese})" if chinese else ""
        super().__init__(f"rule error at character {position + 1}: {message}{note}")

    def to_dict(self) -> dict[str, object]:
        return {"message": self.message, "chinese": self.chinese, "position": self.position}


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase: its tokens must appear consecutively in the clause.

    ``negated`` selects the opposite occurrences: a plain term matches only where no negator
    precedes it, ``NEG(term)`` only where one does.
    """

    text: str
    tokens: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    left: Node
    right: Node
    distance: int  # at most this many tokens between the two sides


Node = Union[Term, Not, And, Or, Near]  # noqa: UP007 - a runtime alias; `|` of forward refs fails at import

_PRECEDENCE = {Or: 1, And: 2, Not: 3, Near: 4, Term: 5}


def positional(node: Node) -> bool:
    """Whether a node has a place in the clause (NEAR can measure distance to it)."""
    if isinstance(node, Term | Near):
        return True
    if isinstance(node, Or):
        return all(positional(child) for child in node.operands)
    return False


def affirmative(node: Node) -> bool:
    """Whether a match always points at some words; ``NOT x`` alone, or ``a OR NOT b``, would match
    nearly every clause and mark nothing."""
    if isinstance(node, Term | Near):
        return True
    if isinstance(node, Or):
        return all(affirmative(child) for child in node.operands)
    if isinstance(node, And):
        return any(affirmative(child) for child in node.operands)
    return False


def count_terms(node: Node) -> int:
    if isinstance(node, Term):
        return 1
    if isinstance(node, Not):
        return count_terms(node.operand)
    if isinstance(node, Near):
        return count_terms(node.left) + count_terms(node.right)
    return sum(count_terms(child) for child in node.operands)


def render(node: Node) -> str:
    """The canonical text of a node: parsing it gives the same tree."""
    if isinstance(node, Term):
        word = node.text if _BARE_TERM.fullmatch(node.text) and node.text.upper() not in KEYWORDS and \
            not node.text.upper().startswith("NEAR") else f'"{node.text}"'
        return f"NEG({word})" if node.negated else word
    if isinstance(node, Not):
        return f"NOT {_wrap(node.operand, _PRECEDENCE[Not])}"
    if isinstance(node, Near):
        # left-associative: a left NEAR needs no parentheses, a right one does
        return (f"{_wrap(node.left, _PRECEDENCE[Near])} NEAR/{node.distance} "
                f"{_wrap(node.right, _PRECEDENCE[Near] + 1)}")
    joiner = " AND " if isinstance(node, And) else " OR "
    # a child of its own kind cannot occur (flattened), so equal precedence never needs parentheses
    return joiner.join(_wrap(child, _PRECEDENCE[type(node)] + 1) for child in node.operands)


def _wrap(node: Node, minimum: int) -> str:
    text = render(node)
    return text if _PRECEDENCE[type(node)] >= minimum else f"({text})"
