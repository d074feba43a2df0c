"""64-bit SimHash over tokens, for near-duplicate detection.

* ``simhash`` returns an *unsigned* 64-bit int in ``[0, 2**64)``. SQL ``BIGINT`` is signed, so store
  ``to_signed64(h)`` (two's-complement reinterpretation, the same bits) and read back with
  ``from_signed64``. ``hamming`` and ``bands`` accept either form, since both carry the same bits.
* Token hashes are BLAKE2b-64 of the UTF-8 token: stable across processes and Python versions,
  unlike ``hash()``. Each token counts once per occurrence (term-frequency weighting).
* Speed: each token's 64 bits are spread into 64 counters packed in one big int (32 bits per lane),
  so summing a document is one big-int addition per token instead of 64 Python operations; spread
  values are memoised per process (bounded).
* ``bands(h, 4)`` cuts the hash into four 16-bit bands: two hashes within Hamming distance 3
  differ in at most 3 bands, so they share at least one (pigeonhole) — look up candidates by band.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable

MASK64 = (1 << 64) - 1
_LANE_BITS = 32  # per-bit counters: up to 2**32 - 1 tokens per document
_CACHE_LIMIT = 200_000
_spread_cache: dict[str, int] = {}

# _SPREAD_BYTE[b] puts bit i of byte b at bit i * _LANE_BITS.
_SPREAD_BYTE = [
    sum(1 << (bit * _LANE_BITS) for bit in range(8) if byte >> bit & 1) for byte in range(256)
]


def token_hash(token: str) -> int:
    """Stable unsigned 64-bit hash of one token."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


def _spread(token: str) -> int:
    spread = _spread_cache.get(token)
    if spread is None:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        spread = 0
        for index, byte in enumerate(digest):
            spread |= _SPREAD_BYTE[byte] << (index * 8 * _LANE_BITS)
        if len(_spread_cache) >= _CACHE_LIMIT:
            _spread_cache.clear()
        _spread_cache[token] = spread
    return spread


def simhash(tokens: Iterable[str]) -> int:
    """Unsigned 64-bit SimHash; 0 for no tokens."""
    total = 0
    count = 0
    for token in tokens:
        total += _spread(token)
        count += 1
    if not count:
        return 0
    lanes = array("I", total.to_bytes(64 * _LANE_BITS // 8, "little"))
    if lanes.itemsize != 4:  # pragma: no cover - "I" is 4 bytes on every platform we run on
        raise RuntimeError("array('I') must be 32-bit")
    # Bit i is set when more than half of the tokens have it set (sum of +1/-1 votes > 0).
    half = count / 2
    result = 0
    for bit, ones in enumerate(lanes):
        if ones > half:
            result |= 1 << bit
    return result


def hamming(a: int, b: int) -> int:
    """Number of differing bits; works on signed or unsigned 64-bit values alike."""
    return ((a ^ b) & MASK64).bit_count()


def bands(h: int, n: int = 4) -> list[int]:
    """``n`` equal bands of the 64 bits, lowest first; each fits a signed SQL integer."""
    if n <= 0 or 64 % n:
        raise ValueError("n must divide 64")
    width = 64 // n
    h &= MASK64
    mask = (1 << width) - 1
    return [(h >> (index * width)) & mask for index in range(n)]


def to_signed64(h: int) -> int:
    """Unsigned 64-bit → signed int64 with the same bits (for SQL BIGINT)."""
    h &= MASK64
    return h - (1 << 64) if h >= 1 << 63 else h


def from_signed64(s: int) -> int:
    """Signed int64 from SQL → the unsigned value ``simhash`` returned."""
    return s & MASK64
