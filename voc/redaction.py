"""Hide credentials in connection URLs before they are printed, logged or returned.

``postgresql://voc:pw@db/voc`` becomes ``postgresql://voc:***@db/voc``: the user, host and database
stay readable (they are what one checks in ``voc config``), the password and any secret-looking
query parameter (``?password=``, ``sslpassword=``, ``api_key=``, ``token=``) do not.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|api_?key|credential|auth", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with its password and secret query parameters replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL urllib can split: show only its scheme
        scheme, sep, _ = url.partition("://")
        return f"{scheme}{sep}{MASK}" if sep else MASK
    netloc = parts.netloc
    userinfo, at, hostinfo = netloc.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hostinfo}" if colon else f"{user}@{hostinfo}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAM.search(name) for name, _ in pairs):
            query = urlencode([(name, MASK if _SECRET_PARAM.search(name) else value) for name, value in pairs],
                              safe="*")
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret: keep the exact spelling
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
