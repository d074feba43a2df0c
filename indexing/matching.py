"""What a query matches, for the embedded index (FTS5 expressions over docs_match).

Each jieba term of a query must match, as a word (the ``terms`` column, as before) or as a string of
characters (a phrase of n-grams in the ``grams`` column, indexing/grams.py); when the query text as
typed is given and differs from its single term, a document holding that text as a string matches
too. Ranking puts documents matching every word first (base.WORD_TIER); the Elasticsearch query in
indexing/es_mapping.py says the same in its own language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexing.base import SearchQuery
from indexing.grams import gram_chars, phrase_tokens


@dataclass(frozen=True, slots=True)
class Match:
    full: str  # every document the query finds
    words: str | None  # those that match all its words (ranked first); None when a term has no word


def word_searchable(term: str) -> bool:
    """Whether the 'ascii' tokenizer keeps anything of ``term`` (ASCII punctuation alone is dropped)."""
    return any(ch.isalnum() or ord(ch) > 127 for ch in term)


def searchable(terms: Sequence[str]) -> list[str]:
    """The distinct terms a query matches on; a term of ASCII punctuation alone drops out."""
    return [term for term in dict.fromkeys(terms) if word_searchable(term)]


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def whole_adds(terms: Sequence[str], text: str) -> bool:
    """Whether the typed text, as a string, finds documents its terms do not: only when some term is
    not a piece of it (a synonym, a case or width the tokenizer changed); a text holding every term
    is found by the terms' own strings already."""
    whole = "".join(gram_chars(text.strip()))
    return bool(whole) and any("".join(gram_chars(term)) not in whole for term in terms)


def fts_match(terms: Sequence[str], text: str = "") -> Match | None:
    """The FTS5 expressions for a query; None when it has nothing searchable (it matches nothing)."""
    clauses: list[str] = []
    words: list[str] = []
    for term in searchable(terms):
        words.append(_quoted(term))
        grams = phrase_tokens(term)
        clauses.append(f"(terms : {_quoted(term)} OR grams : {_quoted(' '.join(grams))})")
    extra = word_searchable(text) and (whole_adds(terms, text) or not clauses)
    if not clauses and not extra:
        return None
    full = " AND ".join(clauses)
    if extra:
        phrase = "grams : " + _quoted(" ".join(phrase_tokens(text)))
        full = f"({full}) OR {phrase}" if full else phrase
    word_only = "terms : (" + " AND ".join(words) + ")" if words else None
    return Match(full=full, words=word_only)


def highlight_strings(query: SearchQuery) -> list[str]:
    """What a hit's snippet marks: the terms, and the typed text (a string match may hold only it)."""
    whole = query.text.strip()
    return [*query.terms, whole] if whole else list(query.terms)
