"""Topic representation: class-based TF-IDF keywords, a short label and representative quotes."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from voc.topics.embedding import pretokenized

# jieba part-of-speech classes that never make a topic label: numerals, measure words, pronouns,
# prepositions, conjunctions, particles, adverbs, interjections, onomatopoeia, directions, times.
FUNCTION_TAGS = frozenset({"m", "mq", "q", "r", "rr", "rz", "p", "c", "u", "uj", "ul", "uz", "ug", "uv", "ud",
                           "d", "dg", "e", "y", "o", "f", "t", "tg", "x", "w", "zg", "k", "h", "b"})
_NUMBERISH = re.compile(r"[0-9０-９]|^[零一二两三四五六七八九十百千万亿几半第个次天块元年月日号]+$")
_ASCII_WORD = re.compile(r"^[a-z]{2,}$")
# Verbs and nouns that occur in every kind of complaint and say nothing about its subject, and the
# pronoun + verb fusions (我要, 我查) that jieba's HMM produces from chatty text.
GENERIC_WORDS = frozenset({
    "没有", "不能", "希望", "根本", "结果", "时候", "觉得", "感觉", "东西", "问题", "真的", "还是", "知道", "出来",
    "起来", "一下", "已经", "现在", "这次", "这个", "那个", "还有", "就是", "不是", "可以", "不会", "不要", "没什么",
    "看着", "一直",
})
_PRONOUN_FUSION = re.compile(r"^[我你他她它咱俺][\u4e00-\u9fff]$")


def is_content_word(word: str, tag: str | None) -> bool:
    """A word fit for a label: two or more characters, not a number or unit, not a function word."""
    if len(word) < 2 or _NUMBERISH.search(word):
        return False
    if word.isascii():
        return bool(_ASCII_WORD.match(word))
    if word in GENERIC_WORDS or _PRONOUN_FUSION.match(word):
        return False
    return tag is None or tag not in FUNCTION_TAGS


@dataclass(slots=True)
class TopicTerms:
    keywords: list[str]
    weights: list[float]

    @property
    def label(self) -> str:
        return "·".join(self.keywords[:3]) if self.keywords else "(无关键词)"


class ClassTfidfLabeler:
    """BERTopic-style c-TF-IDF: each topic's documents joined into one, weighted against all topics.

    ``tag_of`` gives a word's part of speech (jieba's dictionary tag, None when unknown); only content
    words are candidates.
    """

    def __init__(self, tag_of: Callable[[str], str | None], top_n: int = 10, min_df: int = 2) -> None:
        self.tag_of = tag_of
        self.top_n = top_n
        self.min_df = min_df

    def fit(self, tokens: Sequence[list[str]], labels: np.ndarray, topic_ids: Sequence[int]
            ) -> tuple[dict[int, TopicTerms], sp.csr_matrix]:
        """Keywords per topic and the row-normalised c-TF-IDF matrix (one row per ``topic_ids`` entry)."""
        vectorizer = CountVectorizer(analyzer=pretokenized, min_df=min(self.min_df, max(1, len(tokens) // 50)))
        try:
            counts = vectorizer.fit_transform(tokens)
        except ValueError:  # no token survives: an empty or all-stopword corpus
            return {tid: TopicTerms([], []) for tid in topic_ids}, sp.csr_matrix((len(topic_ids), 1))
        vocab = vectorizer.get_feature_names_out()
        keep = np.array([is_content_word(word, self.tag_of(word)) for word in vocab])
        index = {tid: row for row, tid in enumerate(topic_ids)}
        rows = np.array([index.get(int(label), -1) for label in labels])
        member = rows >= 0
        assign = sp.csr_matrix((np.ones(member.sum()), (rows[member], np.flatnonzero(member))),
                               shape=(len(topic_ids), counts.shape[0]))
        class_counts = ((assign @ counts).astype(np.float64) @ sp.diags(keep.astype(np.float64))).tocsr()
        class_counts.eliminate_zeros()
        tf = sp.diags(1.0 / np.maximum(np.asarray(class_counts.sum(axis=1)).ravel(), 1.0)) @ class_counts
        average_words = class_counts.sum() / max(len(topic_ids), 1)
        term_totals = np.asarray(class_counts.sum(axis=0)).ravel()
        idf = np.log1p(average_words / np.maximum(term_totals, 1.0))
        ctfidf = (tf @ sp.diags(idf)).tocsr()
        terms: dict[int, TopicTerms] = {}
        for row, tid in enumerate(topic_ids):
            values = ctfidf.getrow(row).toarray().ravel()
            top = [i for i in np.argsort(-values)[:self.top_n] if values[i] > 0]
            terms[tid] = TopicTerms([str(vocab[i]) for i in top], [round(float(values[i]), 5) for i in top])
        norms = sp.diags(1.0 / np.maximum(np.sqrt(np.asarray(ctfidf.multiply(ctfidf).sum(axis=1)).ravel()), 1e-12))
        return terms, (norms @ ctfidf).tocsr()


def representative_quotes(texts: Sequence[str], members: np.ndarray, similarity: np.ndarray, *, count: int = 5,
                          max_chars: int = 120, min_chars: int = 6) -> list[str]:
    """Up to ``count`` distinct member texts closest to the topic centre, preferring readable lengths."""
    order = members[np.argsort(-similarity)]
    chosen: list[str] = []
    seen: set[str] = set()
    fallback: list[str] = []
    for index in order:
        text = " ".join(texts[index].split())
        key = text[:40]
        if key in seen:
            continue
        seen.add(key)
        quote = text if len(text) <= max_chars else text[:max_chars - 1] + "…"
        (chosen if len(text) >= min_chars else fallback).append(quote)
        if len(chosen) >= count:
            break
    return (chosen + fallback)[:count]
