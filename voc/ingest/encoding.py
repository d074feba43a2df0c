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
