"""Near-duplicate (copy-paste) detection with MinHash LSH.

Documents are flagged with ``near_duplicate_of`` (the earliest similar document), never deleted.
Candidates come from LSH buckets held in memory for one ingest run, seeded with the signatures of
documents registered within ``window_days`` before it: copy-paste campaigns arrive close together,
and a bounded window keeps memory flat however large the store grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from voc.documents import Document
from voc.store import minhash_signatures
from voc.text import minhash


class NearDuplicateDetector:
    """In-memory LSH over at most ``capacity`` representatives (about 0.5 KB each); past that the
    oldest half is forgotten, so a run of millions of documents still fits the memory budget."""

    def __init__(self, threshold: float, window_days: int, capacity: int = 400_000) -> None:
        self.threshold = threshold
        self.window_days = window_days
        self.capacity = capacity
        self._buckets: dict[int, list[str]] = {}
        self._signatures: dict[str, np.ndarray] = {}  # insertion-ordered: oldest first

    def load(self, conn: Connection, now: datetime) -> int:
        """Seed the buckets with recently registered signatures; returns how many."""
        since = now - timedelta(days=self.window_days)
        rows = conn.execute(
            select(minhash_signatures.c.document_id, minhash_signatures.c.signature)
            .where(minhash_signatures.c.registered_at >= since)
            .order_by(minhash_signatures.c.registered_at, minhash_signatures.c.document_id)
        )
        loaded = [(doc_id, minhash.from_bytes(data)) for doc_id, data in rows]
        self._register_many(loaded)
        return len(loaded)

    def _register_many(self, items: list[tuple[str, np.ndarray]]) -> None:
        """Register known signatures, computing their band keys in one vectorised pass."""
        if not items:
            return
        keys = minhash.band_key_rows(np.stack([sig for _, sig in items]))
        for (doc_id, sig), doc_keys in zip(items, keys, strict=True):
            self._register(doc_id, sig, doc_keys)

    def _register(self, doc_id: str, sig: np.ndarray, keys: list[int]) -> None:
        if len(self._signatures) >= self.capacity:
            self._forget_oldest_half()
        self._signatures[doc_id] = sig
        for key in keys:
            self._buckets.setdefault(key, []).append(doc_id)

    def _forget_oldest_half(self) -> None:
        kept = list(self._signatures.items())[len(self._signatures) // 2 :]
        self._signatures, self._buckets = {}, {}
        self._register_many(kept)

    def assign(self, docs: Sequence[Document], now: datetime) -> tuple[int, list[dict[str, Any]]]:
        """Flag the batch's near-duplicates; returns the count and the signature rows to store."""
        flagged = 0
        rows: list[dict[str, Any]] = []
        signed = [doc for doc in docs if doc.minhash]
        if not signed:
            return flagged, rows
        sigs = np.stack([minhash.from_bytes(doc.minhash) for doc in signed])  # type: ignore[arg-type]
        for doc, sig, keys in zip(signed, sigs, minhash.band_key_rows(sigs), strict=True):
            candidates = dict.fromkeys(other for key in keys for other in self._buckets.get(key, ()))
            doc.near_duplicate_of = next(
                (other for other in candidates if minhash.jaccard(sig, self._signatures[other]) >= self.threshold),
                None)
            if doc.near_duplicate_of:
                flagged += 1
                continue
            self._register(doc.id, sig, keys)
            rows.append({"document_id": doc.id, "signature": doc.minhash, "registered_at": now})
        return flagged, rows
