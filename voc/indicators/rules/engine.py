"""Evaluating a parsed rule over one clause's tokens.

Every node evaluates to the token spans it matched (``[]`` for a ``NOT`` that holds, ``None`` for no
match), so a match can show its evidence. Cost is linear in the clause: term occurrences are found
through a token → positions index built once per clause, and ``NEAR`` pairs each occurrence with
its nearest partner on either side (binary search), never every pair.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from voc.indicators.rules.syntax import And, Near, Node, Not, Term, render

# A negator among the two tokens before a term puts the term in its scope (不满意, 没有 很 满意).
NEGATORS = frozenset({"不", "没", "没有", "未", "别", "无"})
NEGATION_WINDOW = 2
Span = tuple[int, int]  # token indices, end exclusive


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """Where a rule matched: token spans (sorted) and the words at each, for evidence."""

    spans: tuple[Span, ...]
    words: tuple[str, ...]

    @property
    def term(self) -> str:
        """The matched words, each once, as a mention's ``term``."""
        return "、".join(dict.fromkeys(self.words))


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed rule. ``str(rule)`` is its canonical text; equal rules have equal trees."""

    root: Node
    source: str = field(default="", compare=False)

    def __str__(self) -> str:
        return render(self.root)

    def matches(self, tokens: Sequence[str]) -> RuleMatch | None:
        spans = _Clause(tokens).evaluate(self.root)
        if spans is None:
            return None
        ordered = tuple(sorted(set(spans)))
        return RuleMatch(ordered, tuple("".join(tokens[start:end]) for start, end in ordered))


class _Clause:
    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = tokens
        self.positions: dict[str, list[int]] = defaultdict(list)
        for i, token in enumerate(tokens):
            self.positions[token].append(i)

    def evaluate(self, node: Node) -> list[Span] | None:
        if isinstance(node, Term):
            found = self.occurrences(node)
            return found or None
        if isinstance(node, Not):
            return None if self.evaluate(node.operand) is not None else []
        if isinstance(node, Near):
            return self.near(node)
        results = [self.evaluate(child) for child in node.operands]
        if isinstance(node, And):
            if any(r is None for r in results):
                return None
            return [span for r in results if r for span in r]
        matched = [span for r in results if r is not None for span in r]
        return matched if any(r is not None for r in results) else None

    def occurrences(self, term: Term) -> list[Span]:
        size = len(term.tokens)
        found = []
        for start in self.positions.get(term.tokens[0], ()):
            if tuple(self.tokens[start:start + size]) != term.tokens:
                continue
            negator = self.negator_before(start)
            if term.negated and negator is not None:
                found.append((negator, start + size))  # the evidence includes the 不 of 不满意
            elif not term.negated and negator is None:
                found.append((start, start + size))
        return found

    def negator_before(self, start: int) -> int | None:
        for i in range(start - 1, max(-1, start - 1 - NEGATION_WINDOW), -1):
            if self.tokens[i] in NEGATORS:
                return i
        return None

    def near(self, node: Near) -> list[Span] | None:
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if not left or not right:
            return None
        found = set(_nearest(left, right, node.distance)) | set(_nearest(right, left, node.distance))
        return sorted(found) or None


def _nearest(spans: list[Span], others: list[Span], distance: int) -> list[Span]:
    """For each span, the joint span with the closest other span after it within ``distance`` tokens.

    Both directions are covered by calling this twice with the sides swapped; overlapping spans
    (the same words on both sides) are not near each other, they are one place.
    """
    others = sorted(others)
    starts = [start for start, _ in others]
    joined = []
    for start, end in spans:
        # first other starting at or after this span's end, as long as it is within the distance
        i = bisect_left(starts, end)
        if i < len(others) and others[i][0] - end <= distance:
            joined.append((start, others[i][1]))
    return joined
