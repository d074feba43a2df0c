"""What every field of every row goes through before anything else sees it.

- Control characters (NUL and the other C0 controls but tab and line breaks, and DEL) are removed:
  PostgreSQL refuses NUL in text, SQLite and C tools cut strings at it, and none of them is
  something a customer wrote.
- Column names are PII-masked here, once, at the source: a header-less export makes a customer's row
  its header, and column names travel into the rejects file, ``meta.extra`` keys and every error
  that lists the columns. Masking them where they are read covers every one of those at once.
- A JSON value that no text encoding can store (a lone surrogate from a ``\\ud800`` escape) or that
  is nested past any sensible depth is a row problem, so the line is rejected with a reason rather
  than failing the file later (at the store, or in a recursion).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from voc.text.pii import PiiMasker

# Metadata is flat in practice (a dict of a dict at most); 32 leaves room for hand-made exports
# while keeping every later recursive walk (masking, rendering) far from Python's recursion limit.
MAX_JSON_DEPTH = 32

# The API takes column names (text_col…) up to this length; a longer "name" is a data row taken for
# a header, and cutting it here bounds every message and key that repeats the columns.
MAX_COLUMN_NAME_CHARS = 256

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_masker = PiiMasker()  # every PII kind: a column name is never meant to hold any


class FieldProblem(ValueError):
    """A value that cannot be stored; the message is the reject reason and quotes no input."""


def clean_text(value: str) -> str:
    """``value`` without the control characters that break storage."""
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


@lru_cache(maxsize=4096)
def column_name(raw: str) -> str:
    """A column name as voc keeps and shows it: trimmed, BOM and control characters removed, PII masked,
    at most MAX_COLUMN_NAME_CHARS long."""
    name = clean_text(raw).strip().lstrip("\ufeff").strip()
    return _masker.mask(name)[0][:MAX_COLUMN_NAME_CHARS] if name else name


def clean_record(record: dict[str, Any]) -> dict[str, Any]:
    """A decoded JSON object as a row: keys turned into column names, every string cleaned.

    Raises FieldProblem for a lone surrogate or nesting deeper than MAX_JSON_DEPTH."""
    cleaned: dict[str, Any] = {}
    for key, item in record.items():
        _check_encodable(key)
        cleaned[column_name(key)] = clean_json_value(item, 1)
    return cleaned


def record_needs_cleaning(line: str) -> bool:
    """False when the JSON ``line`` can hold no control character, no surrogate and no deep nesting, so
    only its keys need attention: strict JSON admits those characters only as \\u escapes (DEL aside,
    looked for too), and a line with few brackets cannot nest deeply. Saves walking every value of
    every ordinary line."""
    return "\\u" in line or "\x7f" in line or line.count("[") + line.count("{") > MAX_JSON_DEPTH


def clean_json_value(value: Any, depth: int = 0) -> Any:
    """A decoded JSON value with its strings and keys cleaned (see `clean_record`)."""
    if depth > MAX_JSON_DEPTH:
        raise FieldProblem(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        _check_encodable(value)
        return clean_text(value)
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            _check_encodable(key)
            cleaned[clean_text(key)] = clean_json_value(item, depth + 1)
        return cleaned
    if isinstance(value, list):
        return [clean_json_value(item, depth + 1) for item in value]
    return value


def _check_encodable(text: str) -> None:
    found = _SURROGATE.search(text)
    if found:
        raise FieldProblem(f"a string holds a lone surrogate (\\u{ord(found.group()):04x}), "
                           "which no text encoding can store")


def mask_message(text: str) -> str:
    """An error message with any PII it quotes masked (a file name, a value, a header-less row)."""
    return _masker.mask(text)[0]
