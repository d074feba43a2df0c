"""Stream records out of CSV, TSV, JSONL and XLSX exports, one dict per row, with row numbers.

Row numbers are what a person sees when opening the file: for CSV/TSV/XLSX the header is row 1 and
the first record row 2; for JSONL, the line number.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from voc.ingest.encoding import UnreadableFileError, detect_encoding

FileFormat = Literal["csv", "tsv", "jsonl", "xlsx"]
FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "xlsx")
_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
             ".json": "jsonl", ".xlsx": "xlsx", ".xlsm": "xlsx"}

# A 20,000-character text limit is enforced per row later; this only stops csv from refusing
# long-but-legal fields before we can report them as rejects.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(slots=True)
class RawRecord:
    row: int
    values: dict[str, Any]
    problem: str | None = None  # set when the row itself could not be parsed


def detect_format(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in FORMATS:
            raise UnreadableFileError(f"unknown format {declared!r}; use one of {', '.join(FORMATS)}")
        return declared
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableFileError(
            f"{path}: cannot tell the format from the extension {path.suffix!r}; pass --format"
        )
    return fmt


def read_records(path: Path, fmt: str | None = None) -> Iterator[RawRecord]:
    """Yield the file's rows. Raises UnreadableFileError when the file as a whole is unreadable."""
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    fmt = detect_format(path, fmt)
    if fmt == "xlsx":
        yield from _read_xlsx(path)
        return
    encoding = detect_encoding(path)
    try:
        with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
            if fmt == "jsonl":
                yield from _read_jsonl(handle)
            else:
                yield from _read_delimited(handle, "\t" if fmt == "tsv" else ",", path)
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"{path}: bytes at offset {exc.start} are not valid {encoding}; the file is damaged "
            "or mixes encodings"
        ) from exc


def _clean_header(names: list[str]) -> list[str]:
    return [(name or "").strip().lstrip("\ufeff") for name in names]


def _read_delimited(handle: io.TextIOBase, delimiter: str, path: Path) -> Iterator[RawRecord]:
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFileError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise UnreadableFileError(f"{path}: cannot parse the header: {exc}") from exc
    columns = _clean_header(header)
    if not any(columns):
        raise UnreadableFileError(f"{path}: the header row is empty")
    row = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row += 1
            yield RawRecord(row, {}, f"malformed row: {exc}")
            continue
        row += 1
        if not any(cell.strip() for cell in cells):
            continue  # blank line, not a record
        if len(cells) > len(columns):
            yield RawRecord(row, dict(zip(columns, cells, strict=False)),
                            f"{len(cells)} fields where the header has {len(columns)}")
            continue
        yield RawRecord(row, {name: cell for name, cell in zip(columns, cells, strict=False) if name})


def _read_jsonl(handle: io.TextIOBase) -> Iterator[RawRecord]:
    for line_no, line in enumerate(handle, start=1):
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield RawRecord(line_no, {}, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(value, dict):
            yield RawRecord(line_no, {}, f"expected a JSON object, got {type(value).__name__}")
            continue
        yield RawRecord(line_no, value)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_xlsx(path: Path) -> Iterator[RawRecord]:
    from openpyxl import load_workbook  # heavy import, only for spreadsheets

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken archive
        raise UnreadableFileError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise UnreadableFileError(f"{path}: the first sheet is empty")
        columns = _clean_header([str(c) if c is not None else "" for c in header])
        for row_no, cells in enumerate(rows, start=2):
            if cells is None or all(c is None or str(c).strip() == "" for c in cells):
                continue
            yield RawRecord(row_no, {n: _cell(c) for n, c in zip(columns, cells, strict=False)
                                     if n and c is not None})
    finally:
        workbook.close()
