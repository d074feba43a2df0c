"""MinHash signatures and LSH band keys for near-duplicate detection on short texts.

SimHash needs hundreds of features to be stable; a 40-character review changed by one word moves
it 7-14 bits, as far as unrelated texts. MinHash over character 3-grams estimates Jaccard
similarity directly, which is what "copy-paste with a few characters changed" means.
"""

from __future__ import annotations

import re
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


_NOT_CONTENT = re.compile(r"[\W_]+")
# One multiplier per position inside an n-gram (SHINGLE positions).
_GRAM_MIX = (np.uint64(0x100000001B3), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))[:SHINGLE]


def signature(text: str) -> np.ndarray | None:
    """A NUM_PERM-long uint32 MinHash signature, or None for a text without letters or digits."""
    return signatures([text])[0]


_BATCH = 256  # texts per vectorised pass: keeps the (permutations x n-grams) array in cache


def signatures(texts: Sequence[str]) -> list[np.ndarray | None]:
    """MinHash signatures of many texts (see ``_signature_batch``), a few hundred at a time."""
    result: list[np.ndarray | None] = []
    for start in range(0, len(texts), _BATCH):
        result.extend(_signature_batch(texts[start : start + _BATCH]))
    return result


def _signature_batch(texts: Sequence[str]) -> list[np.ndarray | None]:
    """MinHash signatures over character n-grams of letters and digits (punctuation and spacing edits
    do not count), for many texts in one vectorised pass: numpy's per-call overhead would dominate if
    each short review were hashed alone. Repeated n-grams need no de-duplication: a minimum over a
    multiset equals the minimum over its set."""
    compact = [_NOT_CONTENT.sub("", text.lower()) for text in texts]
    padded = [c + "\0" * (SHINGLE - len(c)) if 0 < len(c) < SHINGLE else c for c in compact]
    lengths = np.array([len(c) for c in padded], dtype=np.int64)
    result: list[np.ndarray | None] = [None] * len(texts)
    if not lengths.any():
        return result
    points = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    owner = np.repeat(np.arange(len(padded)), lengths)
    width = len(points) - SHINGLE + 1
    with np.errstate(over="ignore"):
        grams = sum((points[i : i + width] * _GRAM_MIX[i] for i in range(SHINGLE)), np.uint64(0))
        grams ^= grams >> np.uint64(31)
        inside = owner[:width] == owner[SHINGLE - 1 :]  # n-grams that do not straddle two texts
        grams, gram_owner = grams[inside], owner[:width][inside]
        # permutations x n-grams, so each text's n-grams are contiguous for reduceat (7x faster than axis 0)
        mixed = (_A[:, None] * grams[None, :] + _B[:, None]) >> _SHIFT
    present = np.flatnonzero(lengths)
    starts = np.searchsorted(gram_owner, present)
    minima = np.minimum.reduceat(mixed, starts, axis=1).astype(np.uint32).T
    for row, index in enumerate(present):
        result[index] = np.ascontiguousarray(minima[row])
    return result


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.count_nonzero(a == b)) / len(a)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 63-bit key per band; equal keys mean the band's rows are all equal."""
    return band_key_rows(sig[None, :])[0]


def band_key_rows(sigs: np.ndarray) -> list[list[int]]:
    """Band keys for a (texts x NUM_PERM) matrix of signatures, in one vectorised pass."""
    rows = sigs.astype(np.uint64).reshape(len(sigs), BANDS, ROWS)
    with np.errstate(over="ignore"):
        mixed = (rows * _BAND_MIX[None, None, :]).sum(axis=2, dtype=np.uint64) ^ _BAND_SALT[None, :]
        mixed = (mixed ^ (mixed >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9)
    return (mixed >> np.uint64(1)).tolist()


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def estimate_all(sig: np.ndarray, others: Sequence[np.ndarray]) -> list[float]:
    return [jaccard(sig, other) for other in others]
