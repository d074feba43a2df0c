"""Per-document rules (low score, escalation language) over the documents a store commit just stored.

Cheap by design, since it runs inside ingest: a scope check on fields, a number comparison, and for
escalation one pass of the parsed rule over the tokens the pipeline already produced (the rule engine
is linear in the tokens). Evidence is the store's ``text``, which the pipeline has masked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from voc.alerts.rules import AlertRule
from voc.indicators.rules import Rule, parse_rule
from voc.indicators.rules.syntax import Near, Not, Term

SNIPPET_CHARS = 160


@dataclass(slots=True)
class Firing:
    """A rule that holds for a subject, before dedupe decides whether it becomes an alert."""

    rule: AlertRule
    subject: str
    title: str
    document_ids: list[str]
    snippets: list[str]
    detail: dict[str, Any] = field(default_factory=dict)


def snippet(text: str, around: str | None = None, width: int = SNIPPET_CHARS) -> str:
    """A short piece of the masked text, centred on ``around`` when it occurs."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    start = 0
    if around and (at := text.find(around)) >= 0:
        start = max(0, min(at - width // 3, len(text) - width))
    return ("…" if start else "") + text[start:start + width] + ("…" if start + width < len(text) else "")


def number(meta: dict[str, Any] | None, key: str) -> float | None:
    value = (meta or {}).get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def document_indicators(doc: Any) -> set[str]:
    """Indicators a document is already mapped to, when its analysis carries them (mapping usually runs
    later, by `voc indicators map`; aggregate rules read the mapping table instead)."""
    found = (getattr(doc, "analysis", None) or {}).get("indicators") or []
    return {str(item.get("id")) if isinstance(item, dict) else str(item) for item in found}


class DocumentEvaluator:
    def __init__(self, rules: Sequence[AlertRule], tokenize: Callable[[str], list[str]] | None = None) -> None:
        self.rules = [rule for rule in rules if rule.enabled and rule.per_document]
        # Rule terms are tokenised like documents, so 投诉到消协 in a rule matches the tokens a document has.
        self._parsed: dict[str, Rule] = {rule.name: parse_rule(
            rule.sensitivity.rule, _Tokenizer(tokenize) if tokenize else None)
                                         for rule in self.rules if rule.kind == "escalation"}
        # Every match of an (affirmative) rule contains a term outside NOT, so a document holding none of
        # those terms' first tokens cannot match: most documents are ruled out by one set test.
        self._anchors = {name: frozenset(_anchors(rule.root)) for name, rule in self._parsed.items()}

    def __bool__(self) -> bool:
        return bool(self.rules)

    def evaluate(self, docs: Sequence[Any]) -> list[Firing]:
        firings: list[Firing] = []
        for doc in docs:
            mapped: set[str] | None = None
            vocabulary: set[str] | None = None
            for rule in self.rules:
                if rule.scope.indicator and mapped is None:
                    mapped = document_indicators(doc)
                if not rule.scope.admits(doc, mapped):
                    continue
                if rule.kind == "low_score":
                    found = self._low_score(rule, doc)
                else:
                    if vocabulary is None:
                        vocabulary = set(doc.tokens.split() if isinstance(doc.tokens, str) else doc.tokens)
                    found = self._escalation(rule, doc, vocabulary)
                if found:
                    firings.append(found)
        return firings

    def _low_score(self, rule: AlertRule, doc: Any) -> Firing | None:
        score, rating = number(doc.meta, "score"), number(doc.meta, "rating")
        if score is not None and score <= rule.sensitivity.score_max:
            what, detail = f"score {score:g}/10", {"score": score}
        elif rating is not None and rating <= rule.sensitivity.rating_max:
            what, detail = f"rating {rating:g}/5", {"rating": rating}
        else:
            return None
        where = f" · {doc.store}" if doc.store else ""
        return Firing(rule, f"document:{doc.id}", f"低分 low {doc.source} {what}{where}", [doc.id],
                      [snippet(doc.text)], {**detail, "source": doc.source, "store": doc.store})

    def _escalation(self, rule: AlertRule, doc: Any, vocabulary: set[str]) -> Firing | None:
        if self._anchors[rule.name].isdisjoint(vocabulary):
            return None
        tokens = doc.tokens.split() if isinstance(doc.tokens, str) else doc.tokens
        match = self._parsed[rule.name].matches(tokens)
        if match is None:
            return None
        words = list(dict.fromkeys(match.words))
        where = f" · {doc.store}" if doc.store else ""
        return Firing(rule, f"document:{doc.id}", f"升级风险 escalation: {'、'.join(words)}{where}", [doc.id],
                      [snippet(doc.text, words[0] if words else None)],
                      {"words": words, "source": doc.source, "store": doc.store})


class _Tokenizer:
    """The shape `parse_rule` expects (an object with ``tokenize``)."""

    def __init__(self, tokenize: Callable[[str], list[str]]) -> None:
        self._tokenize = tokenize

    def tokenize(self, text: str) -> list[str]:
        return self._tokenize(text)


def _anchors(node: Any, negated: bool = False) -> set[str]:
    """First tokens of the terms a match must include one of (terms under NOT never anchor a match)."""
    if isinstance(node, Term):
        return set() if negated or not node.tokens else {node.tokens[0]}
    if isinstance(node, Not):
        return _anchors(node.operand, not negated)
    if isinstance(node, Near):
        return _anchors(node.left, negated) | _anchors(node.right, negated)
    return set().union(*(_anchors(child, negated) for child in node.operands))
