"""Row-level helpers shared by the file builders: scores, noise, duplicates, spam bursts, bad rows."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from voc.demo._util import html_noise, mutate, pii_sentence, punct_run, random_time, to_fullwidth

Row = dict[str, Any]

SENTIMENT_WEIGHTS = {"negative": 45, "neutral": 20, "positive": 35}
# Characters swapped into copy-paste spam: common function words and digits, so variants still read.
MUTATION_POOL = "的了是在有我你他们这那个啊吧呢和也就都还又再很太真"


def sentiment(rng: random.Random, weights: dict[str, float] | None = None) -> str:
    w = weights or SENTIMENT_WEIGHTS
    return rng.choices(list(w), weights=list(w.values()))[0]


def nps_score(rng: random.Random, label: str) -> int:
    if label == "negative":
        return rng.choices(range(7), weights=[8, 3, 4, 6, 4, 8, 6])[0]
    if label == "neutral":
        return rng.choices([5, 6, 7, 8, 9], weights=[1, 3, 5, 5, 1])[0]
    return rng.choices([7, 8, 9, 10], weights=[1, 3, 5, 8])[0]


def star_rating(rng: random.Random, label: str) -> int:
    # A few angry texts carry 5 stars: platforms default to 5 when a customer skips the stars.
    if label == "negative":
        return rng.choices([1, 2, 3, 5], weights=[10, 5, 2, 0.6])[0]
    if label == "neutral":
        return rng.choices([2, 3, 4, 5], weights=[1, 5, 4, 1])[0]
    return rng.choices([3, 4, 5], weights=[1, 3, 10])[0]


def add_noise(rng: random.Random, text: str, *, pii_p: float, html_p: float = 0.0, fw_p: float = 0.03,
              punct_p: float = 0.05, pii: Callable[[random.Random], str] = pii_sentence) -> tuple[str, bool]:
    """Return the text with the kinds of dirt real exports carry, and whether PII was added."""
    has_pii = rng.random() < pii_p
    if has_pii:
        sentence = pii(rng)
        if rng.random() < 0.7:
            text = text.rstrip("~") + ("" if text[-1:] in "。！？!?…" else "。") + sentence + "。"
        else:
            text = sentence + "，" + text
    if rng.random() < punct_p:
        text = punct_run(rng, text)
    if rng.random() < fw_p and any(ch.isascii() and ch.isalnum() for ch in text):
        text = to_fullwidth(text)
    if rng.random() < html_p:
        text = html_noise(rng, text)
    return text, has_pii


def spam_texts(rng: random.Random, base: str, n: int) -> list[str]:
    """``n`` distinct copies of ``base`` with one or two characters changed each."""
    out: list[str] = []
    while len(out) < n:
        variant = mutate(rng, base, MUTATION_POOL, rng.choice([1, 1, 2]))
        if variant != base and variant not in out:
            out.append(variant)
    return out


def burst_times(rng: random.Random, n: int, start: datetime, days: int) -> list[datetime]:
    """Spam arrives in a burst: ``n`` timestamps within ``days`` of ``start``."""
    return sorted(random_time(rng, start, start + timedelta(days=days)) for _ in range(n))


def assign_ids(rows: list[Row], key: str, fmt: str, start: int = 1) -> int:
    """Number rows in time order, as exports do; returns the next free number."""
    rows.sort(key=lambda r: r["_ts"])
    for i, row in enumerate(rows, start):
        row[key] = fmt.format(i)
    return start + len(rows)


def insert_duplicates(rng: random.Random, rows: list[Row], n: int) -> list[Row]:
    """Copy ``n`` rows (same id, same content) to later positions: an overlapping re-export."""
    originals = rng.sample(rows, n)
    for original in originals:
        position = rows.index(original)
        rows.insert(rng.randint(position + 1, len(rows)), dict(original))
    return originals


def blank_id_pairs(rng: random.Random, rows: list[Row], key: str, n: int) -> None:
    """Scraped rows without an id whose text repeats exactly: dedupe must go by content."""
    for original in rng.sample([r for r in rows if len(r["_text"]) >= 8], n):
        original[key] = ""
        position = rows.index(original)
        rows.insert(rng.randint(position + 1, len(rows)), dict(original))


def insert_bad(rng: random.Random, rows: list[Row], bad: list[Row]) -> None:
    """Scatter rows the ingester must reject through the file, never at the very top."""
    for row in bad:
        rows.insert(rng.randint(5, len(rows)), row)


def long_text(rng: random.Random, min_chars: int = 20_500) -> str:
    """A complaint diary pasted in full: one text over the ingester's 20,000-character limit."""
    parts: list[str] = []
    day = 1
    while sum(len(p) for p in parts) < min_chars:
        parts.append(f"第{day}天：快递还是没有到，物流信息一直停在转运中心，打客服电话排队{rng.randint(8, 40)}分钟，"
                     f"转人工后客服说已经催促网点，让我耐心等待，可是我已经等了{day}天了。")
        day += 1
    return "".join(parts)
