"""Reading a user's JSON or YAML file (indicator trees, organisation trees) with errors that name the place:
not UTF-8, invalid syntax with line and column, empty, or nested too deeply for the parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


def read_structured(path: Path, fmt: str, error: type[Exception], what: str) -> Any:
    """The parsed content of ``path`` (``fmt`` "json" or "yaml"); anything unreadable raises ``error`` with
    a message naming the file. ``what`` names the expected content ("an indicator tree")."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise error(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise error(f"{path}: nested too deeply to be {what}") from None
    if data is None:
        raise error(f"{path}: the file is empty")
    return data
