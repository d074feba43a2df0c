"""Per-key rate limiting: a token bucket per API key, in process memory; and a bucket per client
address for failed key checks, so keys cannot be guessed at speed.

Each server worker keeps its own buckets, so with N workers a key may get up to N times the rate;
that keeps the check free of any shared store. A request over the limit is told when to retry.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
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


class FailedAuthLimiter:
    """Failed API key checks per client address: a token bucket each, refilled at ``per_minute``.

    A client that has used up its bucket is refused before its next key is even looked at, so keys
    cannot be guessed faster than the refill rate. Memory is bounded: past ``max_clients`` addresses
    the one seen least recently is forgotten (a flood of new addresses cannot reset a blocked one,
    which is seen again each time it retries).
    """

    def __init__(self, per_minute: int, burst: int, max_clients: int = 10_000) -> None:
        self.per_second = per_minute / 60.0
        self.capacity = float(max(1, burst))
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def _refilled(self, client: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(client)
        if bucket is not None:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
            self._buckets.move_to_end(client)
        return bucket

    def wait(self, client: str) -> float:
        """Seconds until ``client`` may present a key again; 0 when it may now (or limiting is off)."""
        if self.per_second <= 0:
            return 0.0
        with self._lock:
            bucket = self._refilled(client, time.monotonic())
            if bucket is None or bucket.tokens >= 1.0:
                return 0.0
            return (1.0 - bucket.tokens) / self.per_second

    def record_failure(self, client: str) -> None:
        if self.per_second <= 0:
            return
        now = time.monotonic()
        with self._lock:
            bucket = self._refilled(client, now)
            if bucket is None:
                while len(self._buckets) >= self.max_clients:
                    self._buckets.popitem(last=False)
                bucket = self._buckets[client] = _Bucket(self.capacity, now)
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
