"""``voc topics eval``: cluster a labelled file and score the topics against its labels."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from voc.ingest.readers import read_records
from voc.settings import VocSettings
from voc.text.normalize import Normalizer
from voc.text.tokenize import Tokenizer
from voc.topics.service import build_model

# Content classes for the label-quality check: nouns, verbs, adjectives, idioms, abbreviations,
# fixed expressions, foreign words. Checked with jieba.posseg over the term itself, independently
# of the tag lookup the labeller filters with.
_CONTENT_TAGS = ("n", "v", "a", "i", "j", "l", "eng", "nz", "vn", "an")
_HAS_DIGIT = re.compile(r"[0-9０-９]")


def read_labelled_texts(path: Path, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for record in read_records(path):
        if text_col not in record.values or label_col not in record.values:
            raise ValueError(f"{path}: needs columns {text_col!r} and {label_col!r}; has {sorted(record.values)}")
        text, label = record.values[text_col], record.values[label_col]
        if text in (None, "") or label in (None, ""):
            continue
        texts.append(str(text))
        labels.append(str(label))
    return texts, labels


def is_label_content_word(term: str, tokenizer: Tokenizer) -> bool:
    if len(term) < 2 or _HAS_DIGIT.search(term) or term in tokenizer.stopwords:
        return False
    if term.isascii():
        return term.isalpha()
    pieces = tokenizer.tokenize_with_pos(term)
    return bool(pieces) and all(flag.startswith(_CONTENT_TAGS) for _, flag in pieces)


def prepare(texts: Sequence[str], settings: VocSettings) -> tuple[list[str], list[list[str]], Tokenizer]:
    """Normalised texts and their jieba tokens, as ingest would make them (nothing stored)."""
    normalizer = Normalizer(to_simplified=settings.to_simplified)
    tokenizer = Tokenizer.from_settings(settings)
    normalised = [normalizer(text) for text in texts]
    return normalised, [tokenizer.tokenize(text) for text in normalised], tokenizer


def score_topics(labels: Sequence[str], predicted: Sequence[int], keywords: Sequence[Sequence[str]],
                 tokenizer: Tokenizer) -> dict[str, Any]:
    """Agreement with reference labels and label quality; outliers (-1) count as one more cluster, as
    BERTopic evaluations count them."""
    label_terms = [term for words in keywords for term in words[:5]]
    quality = (sum(is_label_content_word(term, tokenizer) for term in label_terms) / len(label_terms)
               if label_terms else 0.0)
    return {"n_topics": len(keywords), "outlier_share": round(float(np.mean(np.asarray(predicted) < 0)), 4),
            "nmi": round(float(normalized_mutual_info_score(labels, predicted)), 4),
            "ari": round(float(adjusted_rand_score(labels, predicted)), 4), "label_quality": round(quality, 4)}


def evaluate(path: Path, text_col: str, label_col: str, *, sample: int | None = None, seed: int = 0,
             settings: VocSettings | None = None) -> dict[str, Any]:
    settings = settings or VocSettings()
    texts, labels = read_labelled_texts(path, text_col, label_col)
    if sample and sample < len(texts):
        picked = sorted(random.Random(seed).sample(range(len(texts)), sample))
        texts, labels = [texts[i] for i in picked], [labels[i] for i in picked]
    if not texts:
        raise ValueError(f"{path}: no labelled rows")
    started = time.perf_counter()
    normalised, tokens, tokenizer = prepare(texts, settings)
    tokenized = time.perf_counter()
    fit = build_model(settings, tokenizer.part_of_speech).fit(tokens, normalised)
    seconds = time.perf_counter() - started
    scores = score_topics(labels, fit.labels.tolist(), [topic.keywords for topic in fit.topics], tokenizer)
    return {"n": len(texts), **scores, "seconds": round(seconds, 2),
            "timings": {"tokenize": round(tokenized - started, 3), **fit.timings},
            "topics": [{"label": t.label, "size": t.size, "keywords": t.keywords[:5]} for t in fit.topics]}
