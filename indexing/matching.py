"""What a query matches, for the embedded index (FTS5 expressions over docs_match).

A query matches on its words OR on its characters: a document matches when it holds every jieba
term of the query as a word (the ``terms`` column, as before n-grams), or when it holds each part
of the typed text (split at whitespace) as a string of characters (a phrase of n-grams in the
``grams`` column, indexing/grams.py) - so its recall is grep's. Without a typed text, the terms are
the parts. Documents matching every word rank first (base.WORD_TIER), by BM25 over the words as
before; the others after them. indexing/es_mapping.py says the same for Elasticsearch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexing.base import SearchQuery
from indexing.grams import GRAM_MARK, phrase_tokens


@dataclass(frozen=True, slots=True)
class Match:
    full: str  # every document the query finds
    words: str | None  # those that hold all its words (ranked first); None when it has no word
    strings: str | None  # those that hold every part of it as characters


def word_searchable(term: str) -> bool:
    """Whether the 'ascii' tokenizer keeps anything of ``term`` (ASCII punctuation alone is dropped)."""
    return any(ch.isalnum() or ord(ch) > 127 for ch in term)


def searchable(terms: Sequence[str]) -> list[str]:
    """The distinct terms a query matches on; a term of ASCII punctuation alone drops out."""
    return [term for term in dict.fromkeys(terms) if word_searchable(term)]


def string_parts(terms: Sequence[str], text: str = "") -> list[str]:
    """The strings a document may hold instead of the words: the typed text's whitespace-separated
    parts, or the terms when no text was given; punctuation alone is nothing to search for."""
    parts = text.split() if text.strip() else list(terms)
    return [part for part in dict.fromkeys(parts) if word_searchable(part)]


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts_match(terms: Sequence[str], text: str = "") -> Match | None:
    """The FTS5 expressions for a query; None when it has nothing searchable (it matches nothing)."""
    words = searchable(terms)
    parts = string_parts(terms, text)
    word_expr = "terms : (" + " AND ".join(map(_quoted, words)) + ")" if words else None
    phrases = [_quoted(" ".join(phrase_tokens(part, GRAM_MARK))) for part in parts]
    strings_expr = "grams : (" + " AND ".join(phrases) + ")" if phrases else None
    if word_expr and strings_expr:
        return Match(full=f"({word_expr}) OR ({strings_expr})", words=word_expr, strings=strings_expr)
    if word_expr or strings_expr:
        return Match(full=word_expr or strings_expr or "", words=word_expr, strings=strings_expr)
    return None


def highlight_strings(query: SearchQuery) -> list[str]:
    """What a hit's snippet marks: the terms, and the typed text's parts (a string match may hold only them)."""
    return [*query.terms, *query.text.split()]
