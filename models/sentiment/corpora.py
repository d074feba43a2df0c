"""Every public sentiment set voc trains on, with its domain and how its labels were mapped.

``load_domain(name)`` returns polarity-labelled texts (negative / neutral / positive), plus an
emotion label where the set has one. The mapping, per set:

- waimai_10k (food delivery), chnsenticorp_htl_all (hotel), online_shopping_10_cats (e-commerce):
  0/1 → negative/positive; no neutral class.
- smp2020_ewect (Weibo posts): happy → positive; angry, sad, fear → negative; neutral → neutral;
  surprise dropped (good news and shock alike).
- ccf2021_bank_product_reviews (bank customers): its own negative / neutral(中立) / positive.
- nlpcc2013_weibo_emotion_sentences: like, happiness → positive; sadness, anger, disgust, fear →
  negative; none (no emotion) → neutral; surprise dropped.
- cfleb_finfe_stock_forum_sentiment (stock forum, noisy): exact duplicates merged; a text whose copies
  disagree is dropped; train and eval files pooled. Auxiliary only (never a test domain), weak weight.
- customer-service enquiries (atec_afqmc_cs_queries, Alipay customer questions, weak labels): every
  distinct question (吗/么/怎么/如何/什么/为什么/多少/能不能/可以…/？) with no opinion word of voc's
  lexicon → neutral. It teaches the hotline rule "an enquiry is neutral unless the customer judges".
  Auxiliary, weak weight.
- aspect clauses (zhijiang2019 cosmetics): the clause around each opinion span, labelled with the
  span's polarity (正面/负面/中性); a clause with opinions of both signs is dropped. Auxiliary.

Emotion (for the optional second head): anger, disappointment (sad, sadness, disgust), anxiety
(fear), satisfaction (happy, happiness, like), none (neutral / none); only smp2020 and nlpcc2013
carry it.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from models.sentiment.data import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    LabelledData,
    data_root,
    load_public,
    normalise_labels,
)

EMOTIONS = ("none", "anger", "disappointment", "anxiety", "satisfaction")
_EMOTION_OF = {
    "angry": "anger",
    "anger": "anger",
    "sad": "disappointment",
    "sadness": "disappointment",
    "disgust": "disappointment",
    "fear": "anxiety",
    "happy": "satisfaction",
    "happiness": "satisfaction",
    "like": "satisfaction",
    "neutral": "none",
    "none": "none",
}
_NLPCC_POLARITY = {
    "like": POSITIVE,
    "happiness": POSITIVE,
    "sadness": NEGATIVE,
    "anger": NEGATIVE,
    "disgust": NEGATIVE,
    "fear": NEGATIVE,
    "none": NEUTRAL,
}
_ASPECT_POLARITY = {"正面": POSITIVE, "负面": NEGATIVE, "中性": NEUTRAL}
_CLAUSE_END = re.compile(r"[，。！？!?,;；~\n]+")

# The six held-out domains of the leave-one-domain-out benchmark, and the auxiliary sets that only
# ever train.
TEST_DOMAINS = ("waimai_10k", "chnsenticorp_htl_all", "online_shopping_10_cats", "smp2020_ewect",
                "ccf2021_bank_product_reviews", "nlpcc2013_weibo_emotion_sentences")
AUXILIARY = ("cfleb_finfe_stock_forum_sentiment", "cosmetics_aspect_clauses", "cs_enquiries")
DOMAIN_LABELS = {
    "waimai_10k": "food delivery",
    "chnsenticorp_htl_all": "hotel",
    "online_shopping_10_cats": "e-commerce",
    "smp2020_ewect": "Weibo posts",
    "ccf2021_bank_product_reviews": "bank",
    "nlpcc2013_weibo_emotion_sentences": "Weibo sentences",
    "cfleb_finfe_stock_forum_sentiment": "stock forum (auxiliary)",
    "cosmetics_aspect_clauses": "cosmetics clauses (auxiliary)",
    "cs_enquiries": "customer-service enquiries (auxiliary)",
}
_QUESTION = re.compile(r"吗|么|怎么|如何|什么|为什么|为何|多少|能不能|可不可以|可以|是否|哪|几|？|\?")


@dataclass(slots=True)
class DomainData(LabelledData):
    emotions: list[str] = field(default_factory=list)  # "" where the set has no emotion label
    categories: list[str] = field(default_factory=list)  # e-commerce product category, else ""


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _from_labelled(data: LabelledData) -> DomainData:
    out = DomainData(dropped=dict(data.dropped))
    out.texts, out.labels = list(data.texts), list(data.labels)
    out.emotions = [""] * len(out.texts)
    out.categories = [""] * len(out.texts)
    return out


def _add(out: DomainData, text: str, label: str, emotion: str = "", category: str = "") -> None:
    out.texts.append(text)
    out.labels.append(label)
    out.emotions.append(emotion)
    out.categories.append(category)


def _drop(out: DomainData, reason: str) -> None:
    out.dropped[reason] = out.dropped.get(reason, 0) + 1


def _smp2020(root: Path) -> DomainData:
    out = DomainData()
    for row in _csv(root / "smp2020_ewect/usual_train_modified.csv"):
        text, raw = (row.get("content") or "").strip(), (row.get("label") or "").strip()
        if not text or raw == "surprise":
            _drop(out, raw or "empty")
            continue
        _add(out, text, normalise_labels([raw])[0], _EMOTION_OF[raw])
    return out


def _online_shopping(root: Path) -> DomainData:
    out = DomainData()
    for row in _csv(root / "online_shopping_10_cats/online_shopping_10_cats.csv"):
        text = (row.get("review") or "").strip()
        if not text:
            _drop(out, "empty")
            continue
        _add(out, text, normalise_labels([row["label"]])[0], category=row.get("cat", ""))
    return out


def _bank(root: Path) -> DomainData:
    out = DomainData()
    for row in _csv(root / "ccf2021_bank_product_reviews/train.csv"):
        text = (row.get("text") or "").strip()
        if not text:
            _drop(out, "empty")
            continue
        _add(out, text, normalise_labels([row["sentiment"]])[0])
    return out


def _nlpcc(root: Path) -> DomainData:
    out = DomainData()
    for row in _csv(root / "nlpcc2013_weibo_emotion_sentences/nlpcc2013_sentences.csv"):
        text, emotion = (row.get("text") or "").strip(), row.get("emotion", "")
        if not text or emotion not in _NLPCC_POLARITY:
            _drop(out, emotion or "empty")
            continue
        _add(out, text, _NLPCC_POLARITY[emotion], _EMOTION_OF[emotion])
    return out


def _stock_forum(root: Path) -> DomainData:
    by_text: dict[str, set[str]] = defaultdict(set)
    folder = root / "cfleb_finfe_stock_forum_sentiment"
    for name in ("train.csv", "eval.csv"):
        for row in _csv(folder / name):
            text = (row.get("text") or "").strip()
            if text:
                by_text[text].add({"0": NEGATIVE, "1": NEUTRAL, "2": POSITIVE}[row["label"].strip()])
    out = DomainData()
    for text, labels in by_text.items():
        if len(labels) == 1:
            _add(out, text, next(iter(labels)))
        else:
            _drop(out, "conflicting_labels")
    return out


def _aspect_clauses(root: Path) -> DomainData:
    folder = root / "zhijiang2019_cosmetics_opinion_quads"
    reviews = {row["id"]: row["review"] for row in _csv(folder / "train_reviews.csv")}
    polarities: dict[tuple[str, int, int], set[str]] = defaultdict(set)
    for row in _csv(folder / "train_labels.csv"):
        review = reviews.get(row["id"], "")
        try:
            start = int(row["opinion_start"])
        except ValueError:
            continue
        begin = max((m.end() for m in _CLAUSE_END.finditer(review, 0, start)), default=0)
        end_match = _CLAUSE_END.search(review, start)
        end = end_match.start() if end_match else len(review)
        polarities[(row["id"], begin, end)].add(_ASPECT_POLARITY[row["polarity"]])
    out = DomainData()
    for (review_id, begin, end), labels in polarities.items():
        clause = reviews[review_id][begin:end].strip()
        if not clause:
            continue
        if len(labels - {NEUTRAL}) > 1:
            _drop(out, "mixed_polarity_clause")
            continue
        _add(out, clause, next(iter(labels - {NEUTRAL})) if labels - {NEUTRAL} else NEUTRAL)
    return out


def _cs_enquiries(root: Path) -> DomainData:
    from voc.sentiment.lexicon import lexicon_hits

    folder = root / "atec_afqmc_cs_queries"
    seen: set[str] = set()
    out = DomainData()
    for name in ("atec_nlp_sim_train.tsv", "atec_nlp_sim_train_add.tsv"):
        with (folder / name).open(encoding="utf-8") as handle:
            for line in handle:
                for text in line.rstrip("\n").split("\t")[1:3]:
                    text = text.strip()
                    if not text or text in seen or text == "query0":
                        continue
                    seen.add(text)
                    if not _QUESTION.search(text):
                        _drop(out, "not_a_question")
                    elif lexicon_hits(text):
                        _drop(out, "has_opinion_word")
                    else:
                        _add(out, text, NEUTRAL)
    return out


def load_domain(name: str, root: Path | None = None) -> DomainData:
    """One set, read once per process (the leave-one-domain-out plan and bench ask for every
    auxiliary set once per held-out domain; the enquiry set alone is 180k lines through the
    lexicon). The result is shared: callers copy (``mixture`` subsets) and never modify it."""
    return _load_domain(name, root or data_root())


@cache
def _load_domain(name: str, root: Path) -> DomainData:
    loaders = {
        "smp2020_ewect": _smp2020,
        "online_shopping_10_cats": _online_shopping,
        "ccf2021_bank_product_reviews": _bank,
        "nlpcc2013_weibo_emotion_sentences": _nlpcc,
        "cfleb_finfe_stock_forum_sentiment": _stock_forum,
        "cosmetics_aspect_clauses": _aspect_clauses,
        "cs_enquiries": _cs_enquiries,
    }
    if name in loaders:
        return loaders[name](root)
    return _from_labelled(load_public(name, root))
