"""Export search hits to CSV (UTF-8 with a BOM, so Excel opens Chinese text) or XLSX.

Hits are read in keyset pages (the search cursor), never all at once, so an export of a million
documents holds one page in memory. Only what the index stores is written: the normalised,
PII-masked text; the original text is never exported. Every text cell is formula-escaped
(:mod:`voc.spreadsheet_safety`): feedback is written by the public, and ``=HYPERLINK(...)`` in a
review must not run in the researcher's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from indexing import Filters, SearchHit
from voc.service import Voc
from voc.spreadsheet_safety import FORMULA_TRIGGERS, escape_row

ExportFormat = Literal["csv", "xlsx"]
EXPORT_FORMATS: tuple[str, ...] = ("csv", "xlsx")
ExportColumn = Literal["id", "created_at", "source", "channel", "industry", "product", "store", "sentiment",
                       "sentiment_score", "rating", "survey_score", "topic_id", "topic_label", "tags",
                       "near_duplicate_of", "score", "text"]
EXPORT_COLUMNS: tuple[str, ...] = ("id", "created_at", "source", "channel", "industry", "product", "store",
                                   "sentiment", "sentiment_score", "rating", "survey_score", "topic_id",
                                   "topic_label", "tags", "near_duplicate_of", "score", "text")
DEFAULT_COLUMNS: tuple[str, ...] = ("id", "created_at", "source", "channel", "industry", "store", "sentiment",
                                    "sentiment_score", "topic_label", "tags", "text")
PAGE_SIZE = 500
BOM = "\ufeff"


def parse_columns(spec: str | Sequence[str] | None) -> list[str]:
    """Columns from ``id,text,…`` (or a list); ValueError naming the allowed ones for an unknown name."""
    if not spec:
        return list(DEFAULT_COLUMNS)
    parts = spec.split(",") if isinstance(spec, str) else [p for value in spec for p in value.split(",")]
    columns = [part.strip() for part in parts if part.strip()]
    unknown = [column for column in columns if column not in EXPORT_COLUMNS]
    if unknown or not columns:
        raise ValueError(f"unknown column {', '.join(map(repr, unknown)) or '(none given)'}; "
                         f"choose from {','.join(EXPORT_COLUMNS)}")
    return list(dict.fromkeys(columns))


def iter_hits(voc: Voc, query: str | None, filters: Filters, sort: str = "relevance",
              page_size: int | None = None) -> Iterator[SearchHit]:
    """Every hit of a search, page by page through the cursor (constant memory, stable under writes)."""
    page_size = page_size or PAGE_SIZE
    cursor: str | None = None
    while True:
        result = voc.search(query, filters=filters, sort=sort, limit=page_size, cursor=cursor, facets=(),
                            highlight=False)
        yield from result.hits
        if not result.next_cursor or not result.hits:
            return
        cursor = result.next_cursor


def cell(hit: SearchHit, column: str) -> Any:
    """One cell: text, a number, a datetime or None (tags joined with "; ")."""
    if column == "tags":
        return "; ".join(hit.tags)
    if column == "score":
        return round(hit.score, 4)
    return getattr(hit, column)


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


def csv_chunks(hits: Iterable[SearchHit], columns: Sequence[str], rows_per_chunk: int = 200) -> Iterator[bytes]:
    """The CSV file as UTF-8 byte chunks (BOM first), for a streaming HTTP response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(columns)
    pending = 0
    for hit in hits:
        writer.writerow(escape_row(_csv_value(cell(hit, column)) for column in columns))
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def write_csv(hits: Iterable[SearchHit], columns: Sequence[str], path: Path) -> int:
    """Write the CSV file; the number of rows written."""
    counter = _Counter(hits)
    with path.open("wb") as out:
        for chunk in csv_chunks(counter, columns):
            out.write(chunk)
    return counter.count


class _Counter:
    """Passes hits through and counts them (the writers stream, so the count is known only at the end)."""

    def __init__(self, hits: Iterable[SearchHit]) -> None:
        self.hits, self.count = hits, 0

    def __iter__(self) -> Iterator[SearchHit]:
        for hit in self.hits:
            self.count += 1
            yield hit


def write_xlsx(hits: Iterable[SearchHit], columns: Sequence[str], target: Path | io.BufferedIOBase) -> int:
    """Write an XLSX workbook with openpyxl's write-only mode (rows go to disk as they come); rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("voc")
    sheet.append(list(columns))
    count = 0
    for hit in hits:
        row: list[Any] = []
        for column in columns:
            value = cell(hit, column)
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters XLSX cannot hold
                if value[:1] in FORMULA_TRIGGERS:
                    # a text cell with Excel's quote prefix: shown and kept as text, value unchanged
                    text_cell = WriteOnlyCell(sheet, value=value)
                    text_cell.data_type = "s"
                    text_cell.quotePrefix = True
                    value = text_cell
            row.append(value)
        sheet.append(row)
        count += 1
    book.save(target)
    return count
