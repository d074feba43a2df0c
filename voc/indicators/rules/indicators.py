"""The rules of an indicator tree, as the mapper uses them: rule hits per clause and exclusions.

An indicator's ``exclude`` rule vetoes it for a clause: no keyword, aspect, embedding or rule mention
of that indicator may come from a clause the exclude rule matches (``丢件`` under 物流 unless
``运费险`` is mentioned, say). Other indicators are not affected, nor are the indicator's mentions
from other clauses of the same document.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from voc.indicators.rules import Rule, RuleMatch, RuleSyntaxError, parse_rule

if TYPE_CHECKING:
    from voc.indicators.model import Indicator
    from voc.text.tokenize import Tokenizer

log = logging.getLogger(__name__)


class _Spanned(Protocol):
    indicator_id: str
    span_start: int


class _Bounds(Protocol):
    start: int
    end: int


class _ClauseLike(Protocol):
    excluded: set[str]

    @property
    def clause(self) -> _Bounds: ...


M = TypeVar("M", bound=_Spanned)


@dataclass(frozen=True, slots=True)
class _NodeRules:
    node_id: str
    rule: Rule | None
    exclude: Rule | None


class IndicatorRules:
    """The compiled ``rule``/``exclude`` of every node given; nodes without either cost nothing."""

    def __init__(self, nodes: Iterable[Indicator], tokenizer: Tokenizer) -> None:
        self.nodes: list[_NodeRules] = []
        for node in nodes:
            rule = _compile(node.id, "rule", node.rule, tokenizer)
            exclude = _compile(node.id, "exclude", node.exclude, tokenizer)
            if rule or exclude:
                self.nodes.append(_NodeRules(node.id, rule, exclude))

    def __bool__(self) -> bool:
        return bool(self.nodes)

    def excluded(self, tokens: Sequence[str]) -> set[str]:
        """Ids of the indicators this clause may not map to."""
        return {n.node_id for n in self.nodes if n.exclude is not None and n.exclude.matches(tokens)}

    def hits(self, tokens: Sequence[str], excluded: set[str]) -> list[tuple[str, RuleMatch]]:
        """(indicator id, match) for each indicator whose rule matches and that is not excluded."""
        found = []
        for node in self.nodes:
            if node.rule is None or node.node_id in excluded:
                continue
            match = node.rule.matches(tokens)
            if match is not None:
                found.append((node.node_id, match))
        return found

    def allowed(self, mentions: list[M], clauses: Sequence[_ClauseLike]) -> list[M]:
        """Mentions left once every exclusion is applied: the last word on a document's mapping, so a
        mapping path that never asked (a later one, say) still cannot map an excluded clause."""
        if not self.nodes:
            return mentions
        blocked = [(c.clause.start, c.clause.end, c.excluded) for c in clauses if c.excluded]
        return [m for m in mentions
                if not any(start <= m.span_start < end and m.indicator_id in ids for start, end, ids in blocked)]


def _compile(node_id: str, field: str, text: str, tokenizer: Tokenizer) -> Rule | None:
    if not text.strip():
        return None
    try:
        return parse_rule(text, tokenizer)
    except RuleSyntaxError as exc:
        # Validated on import; a dictionary change since can still turn a term into a stopword.
        # One stale rule must not stop the mapping of everything else.
        log.warning("indicator %s: %s ignored: %s", node_id, field, exc)
        return None


def rule_problems(nodes: Iterable[Indicator], tokenizer: Tokenizer) -> list[str]:
    """What is wrong with the rules of these nodes against this tokenizer (a term that is only
    stopwords, say), one line per problem naming the node; empty when all compile."""
    problems = []
    for node in nodes:
        for field, text in (("rule", node.rule), ("exclude", node.exclude)):
            if text.strip():
                try:
                    parse_rule(text, tokenizer)
                except RuleSyntaxError as exc:
                    problems.append(f"indicator {node.id} ({node.name!r}): {field} {text!r}: {exc}")
    return problems
