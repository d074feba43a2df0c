"""Access log lines without query values: a search URL carries what people searched for, phone
numbers and names included (`/v1/search?q=13812345678`), and a log is no place for it.

uvicorn logs each request on the ``uvicorn.access`` logger with the path and query string as one
argument; the filter keeps the path and the parameter names and replaces every value with ``*``.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

ACCESS_LOGGER = "uvicorn.access"
HIDDEN = "*"


def redact_query(path_with_query: str) -> str:
    """``/v1/search?q=...&limit=20`` -> ``/v1/search?q=*&limit=*``."""
    path, sep, query = path_with_query.partition("?")
    if not sep:
        return path_with_query
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{'&'.join(f'{name}={HIDDEN}' for name in names)}" if names else path


class RedactQueryFilter(logging.Filter):
    """Rewrites uvicorn's access records; records of any other shape pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def install() -> None:
    """Add the filter to the access logger once per process (each server worker builds its app)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactQueryFilter) for existing in logger.filters):
        logger.addFilter(RedactQueryFilter())
