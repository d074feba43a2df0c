"""MinHash signatures and LSH band keys for near-duplicate detection on short texts.

SimHash needs hundreds of features to be stable; a 40-character review changed by one word moves
it 7-14 bits, as far as unrelated texts. MinHash over character 3-grams estimates Jaccard
similarity directly, which is what "copy-paste with a few characters changed" means.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

NUM_PERM = 64
BANDS = 16  # 16 bands x 4 rows: pairs at Jaccard 0.8 collide in some band with p > 0.999, at 0.3 with p ~ 0.12
ROWS = NUM_PERM // BANDS
SHINGLE = 3
# Fixed coefficients so signatures agree across processes and runs. Multiply-shift hashing
# ((a*x + b) mod 2^64) >> 32 with odd a is a universal family and needs no modulo.
_rng = np.random.default_rng(20261123)
_A = _rng.integers(1, 1 << 63, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 1 << 63, size=NUM_PERM, dtype=np.uint64)
_SHIFT = np.uint64(32)
_BAND_MIX = np.array([0x9E3779B97F4A7C15 >> (7 * i) | 1 for i in range(ROWS)], dtype=np.uint64)
_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)


def shingles(text: str, size: int = SHINGLE) -> list[str]:
    """Character n-grams over letters and digits only, so punctuation and spacing edits do not count."""
    compact = "".join(ch for ch in text.lower() if ch.isalnum())
    if len(compact) <= size:
        return [compact] if compact else []
    return [compact[i : i + size] for i in range(len(compact) - size + 1)]


def signature(text: str) -> np.ndarray | None:
    """A NUM_PERM-long uint32 MinHash signature, or None for a text without letters or digits."""
    grams = shingles(text)
    if not grams:
        return None
    hashes = np.fromiter((zlib.crc32(g.encode("utf-8")) for g in set(grams)), dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = (hashes[:, None] * _A[None, :] + _B[None, :]) >> _SHIFT
    return mixed.min(axis=0).astype(np.uint32)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.count_nonzero(a == b)) / len(a)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 63-bit key per band; equal keys mean the band's rows are all equal."""
    rows = sig.astype(np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        mixed = (rows * _BAND_MIX[None, :]).sum(axis=1, dtype=np.uint64) ^ _BAND_SALT
        mixed = (mixed ^ (mixed >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9)
    return [int(key) >> 1 for key in mixed]


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def estimate_all(sig: np.ndarray, others: Sequence[np.ndarray]) -> list[float]:
    return [jaccard(sig, other) for other in others]
