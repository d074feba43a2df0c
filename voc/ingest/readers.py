"""Stream records out of CSV, TSV, JSONL and XLSX exports, one dict per row, with row numbers.

Row numbers are what a person sees when opening the file: for CSV/TSV/XLSX the header is row 1 and
the first record row 2; for JSONL, the line number.

Every value is cleaned and every column name masked here (see `voc.ingest.fields`); a row that cannot
be stored (an oversized cell, a JSON line that is not an object, holds a lone surrogate or nests too
deep) comes back with a ``problem`` rather than failing the file. An XLSX archive is measured before
it is opened (see `voc.ingest.limits`), then read in openpyxl's streaming mode.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any, Literal

from voc.ingest.encoding import UnreadableFileError, detect_encoding, locate_decode_error
from voc.ingest.fields import (
    MAX_JSON_DEPTH,
    FieldProblem,
    clean_record,
    clean_text,
    column_name,
    record_needs_cleaning,
)
from voc.ingest.limits import ReadLimits, check_xlsx_archive

FileFormat = Literal["csv", "tsv", "jsonl", "xlsx"]
FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "xlsx")
_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
             ".json": "jsonl", ".xlsx": "xlsx", ".xlsm": "xlsx"}

# Cells are bounded per row below (ReadLimits.max_cell_chars); this only stops csv from refusing
# long fields before we can report them as rejects.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
# An oversized cell is replaced by its start in the rejected row: the rejects file keeps no more.
KEPT_OF_OVERSIZED_CELL = 500


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


def read_records(path: Path, fmt: str | None = None, limits: ReadLimits | None = None) -> Iterator[RawRecord]:
    """Yield the file's rows. Raises UnreadableFileError when the file as a whole is unreadable."""
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    fmt = detect_format(path, fmt)
    limits = limits or ReadLimits()
    if fmt == "xlsx":
        yield from _read_xlsx(path, limits)
        return
    encoding = detect_encoding(path)
    try:
        with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
            if fmt == "jsonl":
                yield from _read_jsonl(handle, limits)
            else:
                yield from _read_delimited(handle, "\t" if fmt == "tsv" else ",", path, limits)
    except UnicodeDecodeError as exc:
        where = locate_decode_error(path, encoding)
        at = f"offset {where[0]} (line {where[1]})" if where else f"offset {exc.start} of a chunk"
        raise UnreadableFileError(
            f"{path}: bytes at {at} are not valid {encoding}; the file is damaged or mixes encodings"
        ) from None


def _clean_header(names: list[str]) -> list[str]:
    return [column_name(name or "") for name in names]


def _bounded(row: int, values: dict[str, Any], limits: ReadLimits) -> RawRecord:
    """The row, or the row with a problem when one of its cells is over the cell limit (the cell is
    cut, so a rejected giant does not stay in memory on its way to the rejects file)."""
    for name, value in values.items():
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            problem = f"{name or 'a cell'} has {len(value):,} characters, over the {limits.max_cell_chars:,} limit"
            cut = {key: item[:KEPT_OF_OVERSIZED_CELL] if isinstance(item, str) else item
                   for key, item in values.items()}
            return RawRecord(row, cut, problem)
    return RawRecord(row, values)


def _read_delimited(handle: io.TextIOBase, delimiter: str, path: Path, limits: ReadLimits) -> Iterator[RawRecord]:
    # Cleaned per physical line (one regex call per line, not per cell); csv still sees the line breaks.
    reader = csv.reader((clean_text(line) for line in handle), delimiter=delimiter)
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
            record = _bounded(row, dict(zip(columns, cells, strict=False)), limits)
            yield RawRecord(row, record.values, f"{len(cells)} fields where the header has {len(columns)}")
            continue
        # A short row still has every column (empty): its keys are what the column check looks at, so a
        # first row missing its last cells must not make the file look as if it had no text column.
        yield _bounded(row, {name: cell for name, cell in zip_longest(columns, cells, fillvalue="") if name}, limits)


def _read_jsonl(handle: io.TextIOBase, limits: ReadLimits) -> Iterator[RawRecord]:
    for line_no, line in enumerate(handle, start=1):
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield RawRecord(line_no, {}, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:  # json recurses per level: a line of 100,000 '[' would end the file
            yield RawRecord(line_no, {}, f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
            continue
        if not isinstance(value, dict):
            yield RawRecord(line_no, {}, f"expected a JSON object, got {type(value).__name__}")
            continue
        try:
            value = clean_record(value) if record_needs_cleaning(stripped) else \
                {column_name(key): item for key, item in value.items()}
        except FieldProblem as exc:
            yield RawRecord(line_no, {}, f"invalid JSON: {exc}")
            continue
        yield _bounded(line_no, value, limits)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return clean_text(value)
    return value


def _read_xlsx(path: Path, limits: ReadLimits) -> Iterator[RawRecord]:
    from openpyxl import load_workbook  # heavy import, only for spreadsheets

    check_xlsx_archive(path, limits)
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
            yield _bounded(row_no, {n: "" if c is None else _cell(c)
                                    for n, c in zip_longest(columns, cells[: len(columns)]) if n}, limits)
    finally:
        workbook.close()
