"""Labelled aspect and opinion spans from the public data, in one form, with fixed splits.

Every set becomes ``SpanExample``s: a text and its character spans, each an aspect term or an
opinion term, with a polarity where the set gives one and a category where it names one.

- zhijiang2019 cosmetics quadruples: aspect span (often implicit, "_"), opinion span, 13 categories,
  polarity per quadruple. Split 80/20 by text key, seed 0.
- ccf2021 bank reviews: BIO entities. PRODUCT and COMMENTS_N (the attribute commented on) are
  aspects, COMMENTS_ADJ the evaluation word; BANK names the company, a target rather than an
  aspect, and is left out. No span polarity. Split 80/20 by text key, seed 0.
- diaasq phone threads: each utterance on its own; every labelled aspect and opinion (not only
  those in a quadruple), opinion polarity given; targets (phone models) left out; its own train/valid/test files.
- absa atepc (camera, car, notebook, phone, mooc): aspect spans with polarity; the data repeats a
  sentence once per aspect, so copies are merged; its own train/test files, test texts that also
  occur in train dropped.

Texts of a test part never occur in a train part (compared by ``text_key``).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from models.sentiment.data import data_root, text_key

POLARITY = {"正面": "positive", "负面": "negative", "中性": "neutral", "pos": "positive", "neg": "negative",
            "neu": "neutral", "Positive": "positive", "Negative": "negative", "Neutral": "neutral"}
SPAN_SETS = ("zhijiang", "ccf_bank", "diaasq", "atepc")
ATEPC_DOMAINS = ("camera", "car", "notebook", "phone", "mooc")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str  # "aspect" | "opinion"
    polarity: str = ""  # "" where the set does not say
    category: str = ""


@dataclass(slots=True)
class SpanExample:
    text: str
    spans: list[Span] = field(default_factory=list)
    source: str = ""
    category_labels: tuple[str, ...] = ()  # document-level categories, where the set gives them

    def of_kind(self, kind: str) -> set[tuple[int, int]]:
        return {(s.start, s.end) for s in self.spans if s.kind == kind}


def _test_by_hash(text: str, share: float = 0.2) -> bool:
    digest = hashlib.sha1(("0:" + text_key(text)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def _valid(text: str, start: int, end: int) -> bool:
    return 0 <= start < end <= len(text)


def _zhijiang() -> Iterator[SpanExample]:
    path = data_root() / "zhijiang2019_cosmetics_opinion_quads" / "train.jsonl"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            text, spans, categories = row["review"], set(), []
            for quad in row["quads"]:
                polarity = POLARITY.get(quad["polarity"], "")
                category = quad["category"]
                categories.append(category)
                for kind in ("aspect", "opinion"):
                    if quad[f"{kind}_term"] == "_":
                        continue
                    start, end = int(quad[f"{kind}_start"]), int(quad[f"{kind}_end"])
                    if _valid(text, start, end):
                        spans.add(Span(start, end, kind, polarity, category))
            yield SpanExample(text, sorted(spans, key=_order), "zhijiang", tuple(dict.fromkeys(categories)))


def _ccf_bank() -> Iterator[SpanExample]:
    path = data_root() / "ccf2021_bank_product_reviews" / "train.csv"
    kinds = {"PRODUCT": "aspect", "COMMENTS_N": "aspect", "COMMENTS_ADJ": "opinion"}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["text"]
            spans = {Span(int(e["start"]), int(e["end"]), kinds[e["type"]])
                     for e in json.loads(row["entities_json"] or "[]")
                     if e["type"] in kinds and _valid(text, int(e["start"]), int(e["end"]))}
            yield SpanExample(text, sorted(spans, key=_order), "ccf_bank")


def _diaasq(part: str) -> Iterator[SpanExample]:
    path = data_root() / "diaasq_zh_phone_conversation_absa" / f"{part}.jsonl"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            # token offsets run over the whole thread; each utterance's text is its tokens joined
            places: list[tuple[int, int, int]] = []  # global token index -> (utterance, start, end)
            texts: list[str] = []
            for index, tokens in enumerate(row["tokens"]):
                position = 0
                for token in tokens:
                    places.append((index, position, position + len(token)))
                    position += len(token)
                texts.append("".join(tokens))
            spans: list[set[Span]] = [set() for _ in texts]
            labelled = [(item, "aspect", "") for item in row["aspects"]]
            labelled += [(item, "opinion", POLARITY.get(item[3], "")) for item in row["opinions"]]
            for (first, stop, *_), kind, polarity in labelled:
                if not 0 <= first < stop <= len(places):
                    continue
                utterance, start, _ = places[first]
                last_utterance, _, end = places[stop - 1]
                if last_utterance == utterance:
                    spans[utterance].add(Span(start, end, kind, polarity))
            for text, found in zip(texts, spans, strict=True):
                yield SpanExample(text, sorted(found, key=_order), "diaasq")


def _atepc(domain: str, part: str) -> list[SpanExample]:
    path = data_root() / "absa_chinese_aspect_polarity" / "atepc" / f"{domain}.{part}.txt.atepc"
    merged: dict[str, set[Span]] = {}
    rows: list[list[str]] = []

    def flush() -> None:
        text = "".join(r[0] for r in rows)
        spans = merged.setdefault(text, set())
        position, start = 0, -1
        for i, (char, tag, polarity) in enumerate(rows):
            if tag.startswith("B-") or (tag.startswith("I-") and start < 0):
                start = position
            if start >= 0 and (i + 1 == len(rows) or not rows[i + 1][1].startswith("I-")):
                spans.add(Span(start, position + len(char), "aspect", POLARITY.get(polarity, "")))
                start = -1
            position += len(char)
        rows.clear()

    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split(" ")
            if len(parts) < 3 or not parts[0]:
                if rows:
                    flush()
                continue
            rows.append(parts[:3])
    if rows:
        flush()
    return [SpanExample(text, sorted(spans, key=_order), f"atepc_{domain}") for text, spans in merged.items()]


def _order(span: Span) -> tuple[int, int, str]:
    return span.start, span.end, span.kind


@functools.cache
def span_splits(name: str) -> tuple[tuple[SpanExample, ...], tuple[SpanExample, ...]]:
    """(train, test) for one set; shared, so callers never modify the examples."""
    if name in ("zhijiang", "ccf_bank"):
        examples = list(_zhijiang() if name == "zhijiang" else _ccf_bank())
        train = [e for e in examples if not _test_by_hash(e.text)]
        test = [e for e in examples if _test_by_hash(e.text)]
    elif name == "diaasq":
        train = [*_diaasq("train"), *_diaasq("valid")]
        test = list(_diaasq("test"))
    elif name == "atepc":
        train = [e for domain in ATEPC_DOMAINS for e in _atepc(domain, "train")]
        test = [e for domain in ATEPC_DOMAINS for e in _atepc(domain, "test")]
    else:
        raise ValueError(f"unknown span set {name!r}; known: {', '.join(SPAN_SETS)}")
    seen = {text_key(e.text) for e in train}
    test = [e for e in test if text_key(e.text) not in seen and e.text.strip()]
    return tuple(e for e in train if e.text.strip()), tuple(test)


def data_path() -> Path:
    return data_root()


CATEGORY_SETS = ("bdci_car", "zhijiang")


@dataclass(frozen=True, slots=True)
class CategoryDocument:
    text: str
    categories: frozenset[str]


@functools.cache
def category_splits(name: str) -> tuple[tuple[CategoryDocument, ...], tuple[CategoryDocument, ...]]:
    """(train, test) documents with their labelled categories: bdci2018's 10 car aspects (rows
    grouped by content) or zhijiang's 13 categories; 80/20 by text key, seed 0."""
    if name == "bdci_car":
        path = data_root() / "bdci2018_car_aspect" / "train_2.csv"
        grouped: dict[str, tuple[str, set[str]]] = {}
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                grouped.setdefault(row["content_id"], (row["content"].strip(), set()))[1].add(row["subject"])
        documents = [CategoryDocument(text, frozenset(categories)) for text, categories in grouped.values()]
    elif name == "zhijiang":
        documents = [CategoryDocument(e.text, frozenset(e.category_labels)) for e in _zhijiang()]
    else:
        raise ValueError(f"unknown category set {name!r}; known: {', '.join(CATEGORY_SETS)}")
    merged: dict[str, CategoryDocument] = {}
    for document in documents:  # the same text under two ids: one document, the union of labels
        key = text_key(document.text)
        if key in merged:
            document = CategoryDocument(merged[key].text, merged[key].categories | document.categories)
        merged[key] = document
    train = tuple(d for d in merged.values() if d.text and not _test_by_hash(d.text))
    test = tuple(d for d in merged.values() if d.text and _test_by_hash(d.text))
    return train, test
