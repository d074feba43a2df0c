"""Character n-grams beside the jieba terms, so a search finds every mention of a short string.

jieba makes 汤洒了 one word and 微辣 one word, so a search on the words alone misses 汤 and 辣. Both
backends therefore also index each document's characters: every character as a token (unigrams)
followed by every pair of neighbouring characters (bigrams), space-separated, so SQLite's 'ascii'
FTS5 tokenizer and Elasticsearch's whitespace analyzer read the same tokens. A string is then found
as a phrase: one character as its unigram, longer strings as their overlapping bigrams in order
(送餐慢 -> "送餐 餐慢"), which matches exactly the texts holding the string: ``grep``'s recall.

Characters that the 'ascii' tokenizer would split on (ASCII punctuation, whitespace) are mapped
into a private-use plane instead of dropped, so a string with punctuation in it still matches
exactly and no phrase bridges a gap. ASCII letters are folded to lower case, like the terms.
The text is the document's stored text: normalised and PII-masked, never the raw text.
"""

from __future__ import annotations

import itertools

GRAMS_VERSION = 2  # bump when the tokens change: stored embedded indexes then refill their n-grams
_PLANE = 0xF0000  # supplementary private-use area A: never in normalised text, one code point each
# The embedded index keeps words and n-grams in one FTS5 table, whose posting lists are per token
# across columns: without a mark, the word 很 and the unigram 很 would share one list and every word
# query would read (and skip) every occurrence of its characters. Elasticsearch has a field each.
GRAM_MARK = chr(_PLANE + 0x8000)


def _fold(ch: str) -> str:
    code = ord(ch)
    if code < 128:
        if ch.isalnum():
            return ch.lower()
        return chr(_PLANE + code)
    if ch.isspace() and code <= 0xFFFD:  # Elasticsearch's whitespace analyzer splits on these
        return chr(_PLANE + code)
    return ch


def gram_chars(text: str) -> list[str]:
    """The characters of ``text`` as n-gram units (folded, separators mapped)."""
    return [_fold(ch) for ch in text]


def grams_text(text: str, mark: str = "") -> str:
    """What a document's n-gram field holds: unigrams, then bigrams, space-separated, each after ``mark``."""
    chars = gram_chars(text)
    return " ".join(mark + gram for gram in chars + [a + b for a, b in itertools.pairwise(chars)])


def phrase_tokens(string: str, mark: str = "") -> list[str]:
    """The n-gram tokens that must appear in order, adjacent, in a text holding ``string``; [] for
    an empty string. Leading and trailing whitespace of a query is not part of it."""
    chars = gram_chars(string.strip())
    grams = chars if len(chars) <= 1 else [a + b for a, b in itertools.pairwise(chars)]
    return [mark + gram for gram in grams]
