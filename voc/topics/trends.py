"""Topics over time and emerging-topic detection.

A topic is *emerging* in the current period when either
- its volume is improbable under its own recent baseline: one-sided Poisson test, P(X ≥ count | λ) < ``alpha``
  with λ the mean count of the ``baseline_periods`` before it (floored at 0.5 so a brand-new topic can be
  flagged), at least ``min_count`` documents and at least 1.5 × λ; or
- its negative share rose: one-sided two-proportion z-test against the pooled baseline, z ≥ ``z_threshold``
  (2.33 ≈ p < 0.01), with at least ``min_count`` negative documents in the period.
Periods end at ``at`` (default: the newest document), so a dated corpus is judged as of its own end.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scipy.stats import poisson

INTERVALS = {"day": 1, "week": 7}


@dataclass(slots=True)
class Mention:
    topic_id: int
    created_at: datetime
    negative: bool


def period_start(moment: datetime, interval: str) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday()) if interval == "week" else day


def trend(mentions: Iterable[Mention], interval: str = "day") -> list[dict[str, Any]]:
    """Calendar periods (days, or ISO weeks starting Monday) with counts and negative share."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    counts: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for mention in mentions:
        bucket = counts[period_start(mention.created_at, interval)]
        bucket[0] += 1
        bucket[1] += mention.negative
    if not counts:
        return []
    step = timedelta(days=INTERVALS[interval])
    start, end = min(counts), max(counts)
    series = []
    while start <= end:  # gaps are real zeros and must show as such in a sparkline
        count, negative = counts.get(start, (0, 0))
        series.append({"period": start.date().isoformat(), "count": count, "negative": negative,
                       "negative_share": round(negative / count, 4) if count else None})
        start += step
    return series


def emerging(mentions: Iterable[Mention], *, interval: str = "week", at: datetime | None = None,
             baseline_periods: int = 4, alpha: float = 0.01, z_threshold: float = 2.33,
             min_count: int = 5) -> list[dict[str, Any]]:
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    rows = list(mentions)
    if not rows:
        return []
    end = at or max(row.created_at for row in rows)
    length = timedelta(days=INTERVALS[interval])
    current_start = end - length
    baseline_start = current_start - baseline_periods * length
    stats: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # current n, neg, baseline n, neg
    for row in rows:
        if current_start < row.created_at <= end:
            offset = 0
        elif baseline_start < row.created_at <= current_start:
            offset = 2
        else:
            continue
        stats[row.topic_id][offset] += 1
        stats[row.topic_id][offset + 1] += row.negative
    found = []
    for topic_id, (count, negative, base_count, base_negative) in stats.items():
        expected = max(base_count / baseline_periods, 0.5)
        p_value = float(poisson.sf(count - 1, expected))
        reasons = []
        if count >= min_count and count >= 1.5 * expected and p_value < alpha:
            reasons.append("volume")
        z = _proportion_z(negative, count, base_negative, base_count)
        if negative >= min_count and z is not None and z >= z_threshold:
            reasons.append("negative_share")
        if reasons:
            found.append({"topic_id": topic_id, "reasons": reasons, "count": count,
                          "baseline_mean": round(base_count / baseline_periods, 2), "p_value": p_value,
                          "negative_share": round(negative / count, 4) if count else None,
                          "baseline_negative_share": round(base_negative / base_count, 4) if base_count else None,
                          "z": None if z is None else round(z, 2),
                          "period": {"start": current_start.isoformat(), "end": end.isoformat()}})
    return sorted(found, key=lambda item: item["p_value"])


def _proportion_z(hits: int, total: int, base_hits: int, base_total: int) -> float | None:
    if not total or not base_total:
        return None
    pooled = (hits + base_hits) / (total + base_total)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / total + 1 / base_total))
    if spread == 0:
        return None
    return (hits / total - base_hits / base_total) / spread
