"""What a topic is called within a scope: keywords, label and quotes from the scope's documents only.

A build labels topics over the whole corpus (c-TF-IDF, voc.topics.labels), so a region's topic label can
name a dish only another region sells. Here each topic's keywords are recomputed with the same c-TF-IDF
over the scope's members of each topic (weighted against the scope's other topics), the label is made
from them as a build makes it, and the quotes are the build's quotes that are the scope's own texts,
then the scope's members that hold the most of the scope's keywords. No word or quote can come from a
document outside the scope: nothing outside is read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from voc.scopes.scope import Scope
from voc.store import documents
from voc.topics.labels import ClassTfidfLabeler, representative_quotes

# Members per topic read for its words (the first by id: stable between calls); a c-TF-IDF ranking
# settles long before this, and it bounds the memory a large region's topic list costs.
MAX_MEMBERS = 5_000
QUOTES = 5


@dataclass(frozen=True, slots=True)
class TopicWords:
    keywords: list[str]
    label: str
    quotes: list[str]


def scoped_topic_words(engine: Any, scope: Scope, tag_of: Callable[[str], str | None],
                       build_quotes: dict[int, list[str]], *, top_n: int = 10) -> dict[int, TopicWords]:
    """Per topic with documents in the scope: its keywords, label and quotes from those documents."""
    c = documents.c
    query = (select(c.topic_id, c.tokens, c.text).where(c.topic_id >= 0, scope.sql(documents))
             .order_by(c.topic_id, c.id))
    tokens: list[list[str]] = []
    texts: list[str] = []
    labels: list[int] = []
    taken: dict[int, int] = defaultdict(int)
    with engine.connect() as conn:
        for topic_id, row_tokens, text in conn.execution_options(stream_results=True, yield_per=5000).execute(query):
            if taken[topic_id] >= MAX_MEMBERS:
                continue
            taken[topic_id] += 1
            tokens.append((row_tokens or "").split())
            texts.append(text)
            labels.append(int(topic_id))
    if not labels:
        return {}
    topic_ids = sorted(taken)
    label_array = np.asarray(labels)
    terms, _ = ClassTfidfLabeler(tag_of, top_n=top_n).fit(tokens, label_array, topic_ids)
    found: dict[int, TopicWords] = {}
    for topic_id in topic_ids:
        members = np.flatnonzero(label_array == topic_id)
        own = {texts[i] for i in members}
        kept = [quote for quote in build_quotes.get(topic_id, []) if quote in own]  # the build's choice first
        keywords = set(terms[topic_id].keywords)
        score = np.array([len(keywords.intersection(tokens[i])) for i in members], dtype=np.float64)
        quotes = kept + [q for q in representative_quotes(texts, members, score, count=QUOTES + len(kept))
                         if q not in kept]
        found[topic_id] = TopicWords(terms[topic_id].keywords, terms[topic_id].label, quotes[:QUOTES])
    return found
