"""The Elasticsearch index layout and the translation of SearchQuery into the query DSL.

Every rule here mirrors indexing/embedded.py so both backends return the same hits and facets:
terms are tokenised like SQLite's 'ascii' FTS5 tokenizer (ASCII folded to lower case, ASCII
punctuation splits, every non-ASCII character kept), dates are kept to the second, missing dates
and scores sort last, the tie-breaker is the id in the sort key's direction, and facets are ordered
by count then value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from indexing.base import WORD_TIER, Filters, IndexRecord, SearchQuery, nps_group, rating_star
from indexing.grams import gram_chars
from indexing.matching import searchable, string_parts

# Only built-in pieces: the integ-test distribution has no analysis-common (no custom tokenizers or
# lowercase filter), so text arrives pre-tokenised and the whitespace analyzer splits it back.
# Layout 2: character n-grams (grams), rating and survey score. A version written with an earlier
# layout gets the new fields added in place, but its documents lack them until `voc index rebuild`.
LAYOUT = 2
STALE_FIELDS = ("grams", "rating", "survey_score")  # what a version of layout 1 lacks
MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"layout": LAYOUT},
    "properties": {
        "id": {"type": "keyword"},
        "text": {"type": "text", "index": False},  # shown and highlighted, never matched directly
        "terms": {"type": "text", "analyzer": "whitespace", "norms": True},
        # the text's characters (indexing/grams.py), one token each; index_phrases adds their pairs,
        # so a string matches as a phrase of bigrams as on the embedded index, and the documents
        # sent carry the characters once (measured on 62,773 reviews: 53 MB against 69 MB with
        # bigrams sent as tokens, substring p99 56 against 144 ms)
        "grams": {"type": "text", "analyzer": "whitespace", "norms": True, "index_phrases": True},
        "rating": {"type": "float"},
        "rating_star": {"type": "integer"},
        "survey_score": {"type": "float"},
        "nps": {"type": "keyword"},
        "source": {"type": "keyword"},
        "channel": {"type": "keyword"},
        "industry": {"type": "keyword"},
        "product": {"type": "keyword"},
        "store": {"type": "keyword"},
        "sentiment": {"type": "keyword"},
        "sentiment_score": {"type": "double"},
        "topic_id": {"type": "integer"},
        "topic_label": {"type": "keyword"},
        "tags": {"type": "keyword"},
        "indicator_ids": {"type": "keyword"},
        "near_duplicate_of": {"type": "keyword"},
        "created_at": {"type": "date", "format": "strict_date_optional_time"},
        "aspects": {
            "type": "nested",
            "properties": {
                "aspect": {"type": "keyword"},
                "polarity": {"type": "keyword"},
                "score": {"type": "double"},
                "indicator_id": {"type": "keyword"},
                "term": {"type": "keyword"},  # the aspect term as written; "" when implicit
                "term_start": {"type": "integer", "index": False},  # code points into text; -1 when implicit
                "term_end": {"type": "integer", "index": False},
                "confidence": {"type": "float"},  # the span tagger's probability
            },
        },
    },
}
ASPECT_FIELDS = tuple(MAPPING["properties"]["aspects"]["properties"])


def missing_properties(live: dict[str, Any], wanted: dict[str, Any] = MAPPING) -> dict[str, Any]:
    """The fields of ``wanted`` that the live index's mapping lacks, as a put-mapping body (nested
    objects recurse). Adding fields is the one mapping change an existing index accepts in place;
    anything else (a changed type) needs `voc index rebuild`, which creates a new version."""
    out: dict[str, Any] = {}
    have = live.get("properties") or {}
    for name, spec in wanted.get("properties", {}).items():
        if name not in have:
            out[name] = spec
        elif "properties" in spec:
            inner = missing_properties(have[name], spec)
            if inner:
                out[name] = {key: value for key, value in spec.items() if key != "properties"} | inner
    return {"properties": out} if out else {}
STORED_FIELDS = ("id", "text", "terms", "source", "created_at", "channel", "industry", "product", "store",
                 "sentiment", "sentiment_score", "topic_id", "topic_label", "near_duplicate_of", "rating",
                 "survey_score")
FACET_FIELD = {"source": "source", "channel": "channel", "industry": "industry", "product": "product",
               "store": "store", "sentiment": "sentiment", "topic": "topic_id", "tags": "tags",
               "rating": "rating_star", "nps": "nps"}
SORTS: dict[str, list[dict[str, Any]]] = {
    "relevance": [{"_score": "desc"}, {"id": "asc"}],
    "newest": [{"created_at": {"order": "desc", "missing": "_last"}}, {"id": "desc"}],
    "oldest": [{"created_at": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
    "most_negative": [{"sentiment_score": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
    "most_positive": [{"sentiment_score": {"order": "desc", "missing": "_last"}}, {"id": "desc"}],
}
_ASCII_SEPARATOR = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")
_ASCII_LOWER = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})


def fts_tokens(term: str) -> list[str]:
    """What SQLite's 'ascii' tokenizer makes of one term, so both backends match the same documents."""
    return _ASCII_SEPARATOR.sub(" ", term.translate(_ASCII_LOWER)).split()


def fts_text(terms: Sequence[str]) -> str:
    """All of a document's terms as one whitespace-separated string of fts_tokens, in one pass."""
    return " ".join(_ASCII_SEPARATOR.sub(" ", " ".join(terms).translate(_ASCII_LOWER)).split())


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def to_source(record: IndexRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": record.id, "text": record.text, "source": record.source,
        "terms": fts_text(record.terms), "grams": " ".join(gram_chars(record.text)),
    }
    optional = {
        "rating": record.rating, "rating_star": rating_star(record.rating),
        "survey_score": record.survey_score, "nps": nps_group(record.survey_score),
        "created_at": iso(record.created_at), "channel": record.channel, "industry": record.industry,
        "product": record.product, "store": record.store, "sentiment": record.sentiment,
        "sentiment_score": record.sentiment_score, "topic_id": record.topic_id,
        "topic_label": record.topic_label, "near_duplicate_of": record.near_duplicate_of,
        # Fields later records may carry (indicator mapping, aspect sentiment); the mapping has them.
        "indicator_ids": getattr(record, "indicator_ids", None),
        "aspects": es_aspects(getattr(record, "aspects", None)),
    }
    doc.update({key: value for key, value in optional.items() if value is not None})
    if record.tags:
        doc["tags"] = sorted(set(record.tags))
    return doc


def es_aspects(aspects: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Analysis aspects cut to the mapped fields: the mapping is strict, and opinion text and its
    offsets are read from the document store, not searched."""
    if aspects is None:
        return None
    return [{key: a[key] for key in ASPECT_FIELDS if a.get(key) is not None} for a in aspects]


def word_clause(term: str) -> dict[str, Any] | None:
    """The term as a word, as the embedded index quotes it (its tokens adjacent and in order)."""
    tokens = fts_tokens(term)
    if not tokens:
        return None
    if len(tokens) == 1:
        return {"term": {"terms": tokens[0]}}
    return {"match_phrase": {"terms": {"query": " ".join(tokens), "analyzer": "whitespace"}}}


def string_clause(string: str) -> dict[str, Any] | None:
    """A string of characters, as a phrase of them (answered from their indexed pairs)."""
    chars = gram_chars(string.strip())
    if not chars:
        return None
    return {"match_phrase": {"grams": {"query": " ".join(chars), "analyzer": "whitespace"}}}


def term_clauses(terms: Sequence[str], text: str = "") -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """(what the query finds, how its hits are scored); None when nothing is searchable. A document
    matches on every word, or on every part of the typed text as characters (indexing/matching.py
    says the same for the embedded index); one matching every word scores WORD_TIER plus its words'
    BM25, as before n-grams, any other the BM25 of its strings' phrases."""
    words = [clause for clause in map(word_clause, searchable(terms)) if clause is not None]
    strings = [clause for clause in map(string_clause, string_parts(terms, text)) if clause is not None]
    if not words and not strings:
        return None
    every_word = {"bool": {"filter": words}}
    options = ([every_word] if words else []) + ([{"bool": {"filter": strings}}] if strings else [])
    found = options[0] if len(options) == 1 else {"bool": {"should": options, "minimum_should_match": 1}}
    if not words:
        return found, [{"bool": {"must": strings}}]
    scoring = [{"bool": {"must": [*words, {"constant_score": {"filter": every_word, "boost": WORD_TIER}}]}}]
    if strings:
        scoring.append({"bool": {"must": strings, "must_not": [every_word]}})
    return found, scoring


def filter_clauses(f: Filters) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    for field, values in (("source", f.source), ("channel", f.channel), ("industry", f.industry),
                          ("product", f.product), ("store", f.store), ("sentiment", f.sentiment),
                          ("topic_id", f.topic), ("id", f.ids)):
        if values:
            clauses.append({"terms": {field: list(values)}})
    clauses += [{"term": {"tags": tag}} for tag in f.tags]
    bounds = {key: iso(value) for key, value in (("gte", f.since), ("lte", f.until)) if value}
    if bounds:
        clauses.append({"range": {"created_at": bounds}})
    if f.nps:
        clauses.append({"terms": {"nps": list(f.nps)}})
    for field, low, high in (("rating", f.rating_min, f.rating_max), ("survey_score", f.score_min, f.score_max)):
        limits = {key: value for key, value in (("gte", low), ("lte", high)) if value is not None}
        if limits:
            clauses.append({"range": {field: limits}})
    return clauses


def build_query(query: SearchQuery) -> dict[str, Any]:
    bool_query: dict[str, Any] = {"filter": filter_clauses(query.filters)}
    if query.terms:
        matched = term_clauses(query.terms, query.text)
        if matched is None:
            return {"match_none": {}}  # nothing searchable is not "everything"
        found, scoring = matched
        bool_query["filter"].append(found)
        bool_query["should"] = scoring
    if query.filters.exclude_near_duplicates:
        bool_query["must_not"] = [{"exists": {"field": "near_duplicate_of"}}]
    return {"bool": bool_query}


def effective_sort(query: SearchQuery) -> str:
    """Relevance without searchable terms means nothing to rank by: newest first, as embedded does."""
    if query.sort == "relevance" and not (query.terms and term_clauses(query.terms, query.text)):
        return "newest"
    return query.sort


def facet_aggs(query: SearchQuery) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for name in query.facets:
        if name not in FACET_FIELD:
            raise ValueError(f"unknown facet {name!r}")
        aggs[f"facet_{name}"] = {"terms": {
            "field": FACET_FIELD[name], "size": query.facet_size,
            "shard_size": max(100, query.facet_size * 5),  # exact enough when there are several shards
            "order": [{"_count": "desc"}, {"_key": "asc"}],
        }}
    return aggs


def read_facets(query: SearchQuery, aggregations: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {name: {str(bucket["key"]): int(bucket["doc_count"])
                   for bucket in aggregations[f"facet_{name}"]["buckets"]} for name in query.facets}


def from_source(source: dict[str, Any]) -> dict[str, Any]:
    """A stored document as the embedded backend's get() returns it."""
    record = {name: source.get(name) for name in STORED_FIELDS}
    record["terms"] = (source.get("terms") or "").split()
    for name in ("rating", "survey_score"):  # floats, as the embedded index's REAL columns give them
        if record[name] is not None:
            record[name] = float(record[name])
    record["tags"] = sorted(source.get("tags") or [])
    return record
