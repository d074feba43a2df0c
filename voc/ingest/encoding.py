"""Detect the text encoding of an export: UTF-8 (with or without BOM), GB18030/GBK, Big5, UTF-16."""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

SAMPLE_BYTES = 256 * 1024
# GB18030 is a superset of GBK and GB2312; Big5-HKSCS of Big5. Decoding with the superset never loses text.
CJK_CANDIDATES = ("gb18030", "big5hkscs")


class UnreadableFileError(Exception):
    """The file cannot be read at all: nothing from it is stored."""


def _decodes(sample: bytes, encoding: str, *, final: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        decoder.decode(sample, final=final)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """Return a Python codec name that decodes ``path``.

    Checks BOMs first, then strict UTF-8, then lets charset-normalizer choose between the
    Chinese legacy encodings by language coherence (GBK and Big5 byte ranges overlap, so a
    byte-validity check alone cannot tell them apart).
    """
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
        at_end = not handle.read(1)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(sample, "utf-8", final=at_end):
        return "utf-8"
    candidates = [enc for enc in CJK_CANDIDATES if _decodes(sample, enc, final=at_end)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        best = from_bytes(sample).best()
        if best is None:
            raise UnreadableFileError(f"{path}: cannot detect the text encoding (not UTF-8, GBK or Big5)")
        return best.encoding
    best = from_bytes(sample, cp_isolation=list(candidates)).best()
    return best.encoding if best is not None else candidates[0]


def locate_decode_error(path: Path, encoding: str, chunk_bytes: int = 1 << 20) -> tuple[int, int] | None:
    """Byte offset (from the start of the file) and line of the first byte ``encoding`` cannot decode.

    A text stream's UnicodeDecodeError counts from the start of the chunk it was decoding, not of the
    file, so the reported offset was wrong past the first few kilobytes; this decodes the file again
    in chunks and keeps count. Returns None when the whole file decodes."""
    skip = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
    decoder = codecs.getincrementaldecoder("utf-8" if skip else encoding)(errors="strict")
    fed = skip  # bytes handed to the decoder so far
    newlines = 0
    with path.open("rb") as handle:
        handle.seek(skip)
        while True:
            chunk = handle.read(chunk_bytes)
            state = decoder.getstate()
            try:
                newlines += decoder.decode(chunk, final=not chunk).count("\n")
            except UnicodeDecodeError as exc:
                # exc.start counts from the decoder's pending bytes, then this chunk.
                offset = fed - len(state[0]) + exc.start
                decoder.setstate(state)
                good = decoder.decode(chunk[: max(offset - fed, 0)], final=False)
                return offset, newlines + good.count("\n") + 1
            if not chunk:
                return None
            fed += len(chunk)
