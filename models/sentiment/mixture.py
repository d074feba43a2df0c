"""Which texts train which model: the benchmark splits and the capped, leak-free training mixtures.

Every test domain is split 80/20, stratified by polarity, seed 0 (the existing benchmark split).
The shipped model trains on the 80% parts of every domain; the leave-one-domain-out model for a
domain trains on the 80% parts of the others. Texts of any test part leave every training part,
compared after normalising width, case, spaces and punctuation (``data.text_key``). When the hotel
domain is held out, online_shopping's 酒店 category leaves training too: the two sets share 5,575
hotel reviews, so keeping it would not hold the domain out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sklearn.model_selection import train_test_split

from models.sentiment.corpora import AUXILIARY, TEST_DOMAINS, DomainData, load_domain
from models.sentiment.data import text_key

AUXILIARY_WEIGHT = {"cfleb_finfe_stock_forum_sentiment": 0.5, "cosmetics_aspect_clauses": 1.0, "cs_enquiries": 0.5}
HOTEL_CATEGORY = "酒店"


@dataclass(slots=True)
class DomainSplit:
    train: DomainData
    test: DomainData


def _subset(data: DomainData, rows: list[int]) -> DomainData:
    out = DomainData()
    out.texts = [data.texts[i] for i in rows]
    out.labels = [data.labels[i] for i in rows]
    out.emotions = [data.emotions[i] for i in rows]
    out.categories = [data.categories[i] for i in rows]
    return out


def split_domain(data: DomainData, test_size: float = 0.2, seed: int = 0) -> DomainSplit:
    rows = list(range(len(data.texts)))
    train, test = train_test_split(rows, test_size=test_size, stratify=data.labels, random_state=seed)
    return DomainSplit(_subset(data, list(train)), _subset(data, list(test)))


def benchmark_splits() -> dict[str, DomainSplit]:
    return {name: split_domain(load_domain(name)) for name in TEST_DOMAINS}


def sample(data: DomainData, cap: int, seed: int = 0) -> DomainData:
    """At most ``cap`` rows, stratified by polarity in proportion (seeded)."""
    if len(data.texts) <= cap:
        return data
    rows, _ = train_test_split(
        list(range(len(data.texts))), train_size=cap, stratify=data.labels, random_state=seed
    )
    return _subset(data, sorted(rows))


def training_mixture(
    splits: dict[str, DomainSplit],
    held_out: str | None = None,
    per_domain: int = 3500,
    per_auxiliary: int = 1000,
    seed: int = 0,
) -> tuple[DomainData, list[float], dict[str, int]]:
    """Training rows, their loss weights and the row count per source."""
    banned = {text_key(t) for s in splits.values() for t in s.test.texts}
    if held_out:
        banned |= {text_key(t) for t in splits[held_out].train.texts}
    parts: list[tuple[str, DomainData]] = []
    for name, s in splits.items():
        if name != held_out:
            parts.append((name, s.train))
    for name in AUXILIARY:
        parts.append((name, load_domain(name)))
    mixture, weights, counts = DomainData(), [], {}
    for name, data in parts:
        cap = per_auxiliary if name in AUXILIARY else per_domain
        keep = [
            i
            for i, text in enumerate(data.texts)
            if text_key(text) not in banned
            and not (held_out == "chnsenticorp_htl_all" and data.categories[i] == HOTEL_CATEGORY)
        ]
        chosen = sample(_subset(data, keep), cap, seed)
        mixture.texts += chosen.texts
        mixture.labels += chosen.labels
        mixture.emotions += chosen.emotions
        mixture.categories += chosen.categories
        weights += [AUXILIARY_WEIGHT.get(name, 1.0)] * len(chosen.texts)
        counts[name] = len(chosen.texts)
    rng = random.Random(seed)
    order = list(range(len(mixture.texts)))
    rng.shuffle(order)
    return _subset(mixture, order), [weights[i] for i in order], counts
