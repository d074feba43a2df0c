"""Lexer and recursive-descent parser of the rule language (grammar in ``voc.indicators.rules``).

Bounded by construction: the text is at most ``MAX_RULE_CHARS`` long, lexing and parsing are one
pass each, and the recursion depth is counted (parentheses and NOTs) and refused past ``MAX_DEPTH``
before Python's own limit could be reached.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from voc.indicators.rules.syntax import (
    MAX_DEPTH,
    MAX_NEAR,
    MAX_RULE_CHARS,
    MAX_TERMS,
    And,
    Near,
    Node,
    Not,
    Or,
    RuleSyntaxError,
    Term,
    positional,
)

Tokenize = Callable[[str], list[str]]

_OPEN, _CLOSE = "(（", ")）"
_QUOTES = {'"': '"”', "“": '"”'}
_NEAR = re.compile(r"NEAR(?:/(\d*))?$")
_LOWER_NEAR = re.compile(r"near/\d*$", re.IGNORECASE)
_FOREIGN_OPERATORS = {"&&": "AND", "&": "AND", "||": "OR", "|": "OR", "!": "NOT", "XOR": "", "ADJ": "NEAR/n",
                      "WITHIN": "NEAR/n", "ANDNOT": "AND NOT", "NOTNEAR": "", "BEFORE": "NEAR/n",
                      "AFTER": "NEAR/n"}
_OTHER_SLASH_OPERATOR = re.compile(r"[A-Za-z]+/\d*$")  # W/5, PRE/3: proximity operators of other tools


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # WORD PHRASE AND OR NOT NEG NEAR ( ) END
    text: str
    position: int
    distance: int = 0


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in _OPEN or char in _CLOSE:
            tokens.append(_Token("(" if char in _OPEN else ")", char, i))
            i += 1
        elif char in _QUOTES:
            end = next((j for j in range(i + 1, n) if text[j] in _QUOTES[char]), -1)
            if end < 0:
                raise RuleSyntaxError("this quote is never closed", i, "引号未闭合")
            phrase = text[i + 1:end].strip()
            if not phrase:
                raise RuleSyntaxError("empty quotes: a phrase needs at least one word", i, "引号内为空")
            tokens.append(_Token("PHRASE", phrase, i))
            i = end + 1
        elif char == "”":
            raise RuleSyntaxError("a closing quote with no opening quote", i, "引号不匹配")
        else:
            j = i
            while j < n and not (text[j].isspace() or text[j] in _OPEN or text[j] in _CLOSE
                                 or text[j] in _QUOTES or text[j] == "”"):
                j += 1
            tokens.append(_word(text[i:j], i))
            i = j
    tokens.append(_Token("END", "", n))
    return tokens


def _word(word: str, position: int) -> _Token:
    if word in ("AND", "OR", "NOT", "NEG"):
        return _Token(word, word, position)
    near = _NEAR.match(word)
    if _LOWER_NEAR.match(word) and not near:
        raise RuleSyntaxError(f"write operators in capitals: {word.upper()!r}", position, "运算符请用大写")
    if near:
        if not near.group(1):
            raise RuleSyntaxError("NEAR needs a distance in tokens, e.g. NEAR/5", position,
                                  "NEAR 需要距离，如 NEAR/5")
        distance = int(near.group(1))
        if not 1 <= distance <= MAX_NEAR:
            raise RuleSyntaxError(f"NEAR distance {distance} is out of range (1 to {MAX_NEAR})", position,
                                  f"NEAR 距离须在 1 到 {MAX_NEAR} 之间")
        return _Token("NEAR", word, position, distance)
    if word.upper() in _FOREIGN_OPERATORS or _OTHER_SLASH_OPERATOR.match(word):
        use = _FOREIGN_OPERATORS.get(word.upper()) or "AND, OR, NOT, NEAR/n"
        raise RuleSyntaxError(f"unknown operator {word!r}: use {use}", position, "未知运算符")
    if "*" in word or "?" in word:
        raise RuleSyntaxError("wildcards (* ?) are not supported: list the words with OR", position,
                              "不支持通配符，请用 OR 列出各个词")
    if any(c in word for c in "&|!"):
        raise RuleSyntaxError(f"{word!r} mixes a word with an operator symbol: put it in quotes or use "
                              "AND / OR / NOT", position, "词中含有运算符号")
    return _Token("WORD", word, position)


class _Parser:
    def __init__(self, tokens: list[_Token], tokenize: Tokenize) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0
        self.terms = 0
        self.tokenize = tokenize

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        if token.kind != "END":  # END stays put, so a lookahead past it sees END again
            self.at += 1
        return token

    def parse(self) -> Node:
        if self.peek().kind == "END":
            raise RuleSyntaxError("the rule is empty", 0, "规则为空")
        node = self.any_of()
        token = self.peek()
        if token.kind == ")":
            raise RuleSyntaxError("unbalanced parenthesis: this ')' has no '('", token.position, "括号不匹配")
        if token.kind != "END":  # any other token here follows an operand without an operator
            raise self.adjacent(token)
        return node

    def adjacent(self, token: _Token) -> RuleSyntaxError:
        hint = (f"; operators are written in capitals ({token.text.upper()})"
                if token.text.upper() in ("AND", "OR", "NOT", "NEG") else ", or quote them as one phrase")
        return RuleSyntaxError(f"{token.text!r} follows the previous term with no operator: write AND, OR or "
                               f"NOT between them{hint}", token.position, "两个词之间缺少运算符（AND / OR / NOT）")

    def any_of(self, after: _Token | None = None) -> Node:
        items = [self.all_of(after)]
        while self.peek().kind == "OR":
            items.append(self.all_of(self.take()))
        return _flat(Or, items)

    def all_of(self, after: _Token | None = None) -> Node:
        items = [self.negation(after)]
        while self.peek().kind in ("AND", "NOT"):
            # a NOT where an operator is expected is AND NOT: `(a OR b) NOT c`
            operator = self.take() if self.peek().kind == "AND" else None
            items.append(self.negation(operator))
        return _flat(And, items)

    def negation(self, after: _Token | None) -> Node:
        if self.peek().kind != "NOT":
            return self.proximity(after)
        token = self.take()
        self.enter(token)
        operand = self.negation(token)
        self.depth -= 1
        return Not(operand)

    def proximity(self, after: _Token | None) -> Node:
        left = self.primary(after)
        while self.peek().kind == "NEAR":
            operator = self.take()
            right = self.primary(operator)
            for side in (left, right):
                if not positional(side):
                    raise RuleSyntaxError(f"{operator.text} joins words, phrases, NEG(…) or OR-groups of them, "
                                          "not AND or NOT", operator.position, "NEAR 两侧只能是词、短语或 OR 组合")
            left = Near(left, right, operator.distance)
        return left

    def primary(self, after: _Token | None) -> Node:
        token = self.take()
        if token.kind in ("WORD", "PHRASE"):
            return self.term(token, negated=False)
        if token.kind == "NEG":
            opening, word, closing = self.take(), self.take(), self.take()
            if opening.kind != "(" or word.kind not in ("WORD", "PHRASE") or closing.kind != ")":
                raise RuleSyntaxError("NEG takes one word or quoted phrase in parentheses: NEG(满意)",
                                      token.position, "NEG 的写法：NEG(满意)")
            return self.term(word, negated=True)
        if token.kind == "(":
            self.enter(token)
            if self.peek().kind == ")":
                raise RuleSyntaxError("empty parentheses", token.position, "括号内为空")
            node = self.any_of(token)
            closing = self.take()
            if closing.kind != ")":
                if closing.kind == "END":
                    raise RuleSyntaxError("unbalanced parenthesis: this '(' is never closed", token.position,
                                          "括号不匹配")
                raise self.adjacent(closing)
            self.depth -= 1
            return node
        raise self.missing(token, after)

    def missing(self, token: _Token, after: _Token | None) -> RuleSyntaxError:
        if token.kind == ")" and after is None:
            return RuleSyntaxError("unbalanced parenthesis: this ')' has no '('", token.position, "括号不匹配")
        if after is None:
            return RuleSyntaxError(f"{token.text!r} needs a word, phrase or group before it", token.position,
                                   f"{token.text} 前面缺少词语")
        found = "the end of the rule" if token.kind == "END" else repr(token.text)
        return RuleSyntaxError(f"{after.text!r} needs a word, phrase or group after it, found {found}",
                               after.position, f"{after.text} 后面缺少词语")

    def term(self, token: _Token, negated: bool) -> Term:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise RuleSyntaxError(f"too many terms (at most {MAX_TERMS})", token.position,
                                  f"词语过多（最多 {MAX_TERMS} 个）")
        tokens = tuple(self.tokenize(token.text))
        if not tokens:
            raise RuleSyntaxError(f"{token.text!r} is only stopwords or punctuation to the tokenizer and "
                                  "could never match", token.position, "该词被分词器过滤，无法匹配")
        return Term(token.text, tokens, negated)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleSyntaxError(f"nested too deeply (at most {MAX_DEPTH} levels of parentheses and NOT)",
                                  token.position, "嵌套层数过多")


def _flat(kind: type[And] | type[Or], items: list[Node]) -> Node:
    if len(items) == 1:
        return items[0]
    flat: list[Node] = []
    for item in items:
        flat.extend(item.operands if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


def whitespace_tokens(text: str) -> list[str]:
    """Terms without a jieba tokenizer: lowercased whitespace-separated words (syntax checks, tests)."""
    return text.lower().split()


def parse_node(text: str, tokenize: Tokenize | None = None) -> Node:
    if len(text) > MAX_RULE_CHARS:
        raise RuleSyntaxError(f"the rule is {len(text)} characters long (at most {MAX_RULE_CHARS})",
                              MAX_RULE_CHARS, f"规则过长（最多 {MAX_RULE_CHARS} 个字符）")
    return _Parser(_lex(text), tokenize or whitespace_tokens).parse()
