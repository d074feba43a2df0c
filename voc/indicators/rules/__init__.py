"""Boolean rules over jieba tokens: an indicator's ``rule`` (what maps to it) and ``exclude`` (what never does).

Syntax (operators in capitals; ``（）`` and ``“”`` work like ``()`` and ``""``)::

    退款                       a word; tokenised like the clause, so 退款到账 is the tokens 退款 到 账 in a row
    "退款 到账"                a quoted phrase: consecutive tokens; quotes also let a term contain AND, (, …
    a AND b   a OR b           both / either
    NOT a   a AND NOT b        a NOT where an operator belongs means AND NOT: (a OR b) AND c NOT d
    a NEAR/n b                 both, in either order, with at most n tokens between them (1 ≤ n ≤ 50);
                               sides are words, phrases, NEG(…) or parenthesised OR-groups of them
    NEG(满意)                  only a negated occurrence: 不满意, 没有 很 满意
    ( … )                      grouping

Precedence, tightest first: NEAR, NOT, AND, OR. Two terms side by side without an operator are an
error, not an implicit AND: Chinese has no spaces, so ``退款 到账`` might mean a phrase or both words;
the rule says which (``"退款 到账"`` or ``退款 AND 到账``).

Negation: a plain term does not match where a negator (不 没 没有 未 别 无) is among the two tokens
before it, so ``满意`` misses 不满意; ``NEG(满意)`` matches exactly those; ``满意 OR NEG(满意)`` both.

A rule must look for at least one word: ``NOT 运费险`` alone (or ``a OR NOT b``) would match nearly
every clause. Limits: 500 characters, 100 terms, 32 levels of parentheses/NOT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voc.indicators.rules.engine import NEGATORS, Rule, RuleMatch
from voc.indicators.rules.parser import parse_node
from voc.indicators.rules.syntax import MAX_NEAR, MAX_RULE_CHARS, MAX_TERMS, RuleSyntaxError, affirmative

if TYPE_CHECKING:
    from voc.text.tokenize import Tokenizer

__all__ = ["MAX_NEAR", "MAX_RULE_CHARS", "MAX_TERMS", "NEGATORS", "Rule", "RuleMatch", "RuleSyntaxError",
           "parse_rule"]


def parse_rule(text: str, tokenizer: Tokenizer | None = None) -> Rule:
    """Parse a rule; terms are tokenised with ``tokenizer`` (without one: lowercased whitespace words,
    enough to check syntax). Raises ``RuleSyntaxError`` with the position and the problem."""
    root = parse_node(text, tokenizer.tokenize if tokenizer is not None else None)
    if not affirmative(root):
        raise RuleSyntaxError("the rule only says what must be absent and would match nearly every clause: "
                              "add a word it looks for (e.g. 退款 AND NOT 运费险)", 0,
                              "规则只有 NOT 条件，会匹配几乎所有句子")
    return Rule(root, text)
