"""Bounds on what reading one file may cost, checked before the cost is paid.

An XLSX file is a zip archive: a 1 MB upload can hold a cell that inflates to 1 GB, and openpyxl
builds each cell's text (and the whole shared-strings table) in memory. The archive's directory says
how large every member unpacks to, so a workbook is measured there, before any XML is parsed:
total unpacked size, the largest member, and the compression ratio (text spreadsheets compress
5-20:1; a run of one repeated character, the usual bomb, 1000:1).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voc.ingest.encoding import UnreadableFileError

if TYPE_CHECKING:
    from voc.settings import VocSettings

# Members smaller than this are not judged by their ratio: tiny XML parts of real workbooks
# (styles, an empty sheet) compress far beyond 100:1 and cost nothing to read.
RATIO_MIN_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class ReadLimits:
    max_cell_chars: int = 20_000
    xlsx_max_unpacked_bytes: int = 1_000_000_000
    xlsx_max_member_bytes: int = 100_000_000
    xlsx_max_ratio: float = 100.0

    @classmethod
    def from_settings(cls, settings: VocSettings) -> ReadLimits:
        return cls(max_cell_chars=settings.max_text_chars,
                   xlsx_max_unpacked_bytes=settings.xlsx_max_unpacked_bytes,
                   xlsx_max_member_bytes=settings.xlsx_max_member_bytes,
                   xlsx_max_ratio=settings.xlsx_max_ratio)


def check_xlsx_archive(path: Path, limits: ReadLimits) -> None:
    """Refuse a workbook whose members would unpack past the limits; reads only the zip directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from exc
    total = 0
    for member in members:
        size = member.file_size
        total += size
        if size > limits.xlsx_max_member_bytes:
            raise _refused(path, f"{member.filename} unpacks to {size:,} bytes, over the "
                           f"{limits.xlsx_max_member_bytes:,} limit", "VOC_XLSX_MAX_MEMBER_BYTES")
        ratio = size / max(member.compress_size, 1)
        if size >= RATIO_MIN_BYTES and ratio > limits.xlsx_max_ratio:
            raise _refused(path, f"{member.filename} has a compression ratio of {ratio:,.0f}:1 "
                           f"({member.compress_size:,} bytes unpack to {size:,}), over the "
                           f"{limits.xlsx_max_ratio:,.0f}:1 limit", "VOC_XLSX_MAX_RATIO")
    if total > limits.xlsx_max_unpacked_bytes:
        raise _refused(path, f"the workbook unpacks to {total:,} bytes, over the "
                       f"{limits.xlsx_max_unpacked_bytes:,} limit", "VOC_XLSX_MAX_UNPACKED_BYTES")


def _refused(path: Path, why: str, setting: str) -> UnreadableFileError:
    return UnreadableFileError(f"{path}: refused before reading: {why} (a decompression bomb, or a "
                               f"workbook larger than this server takes; {setting} raises the limit; "
                               "or export it as CSV)")
