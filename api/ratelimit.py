"""Per-key rate limiting: a token bucket per API key, in process memory.

Each server worker keeps its own buckets, so with N workers a key may get up to N times the rate;
that keeps the check free of any shared store. A request over the limit is told when to retry.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, per_minute: int | None = None) -> float:
        """Take one token for ``key``. Returns 0 when allowed, else the seconds until a token is free.

        ``per_minute`` overrides the default rate for this key; 0 (or a 0 default) means unlimited.
        """
        rate = self.per_minute if per_minute is None else per_minute
        if rate <= 0:
            return 0.0
        per_second = rate / 60.0
        capacity = float(min(self.burst, rate))
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._buckets.clear()  # bounded memory; a reset only ever lets requests through
                bucket = self._buckets[key] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * per_second)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / per_second


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
