"""The web UI: a single page (api/ui/index.html) and its static files, same origin as the API.

Not in the OpenAPI schema. The page calls /v1 with the user's API key; it loads nothing from elsewhere
(the Content-Security-Policy says so).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from api.errors import ApiError

router = APIRouter(include_in_schema=False)

UI_DIR = Path(__file__).resolve().parents[1] / "ui"
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
}
NAME = re.compile(r"^[a-z][a-z0-9_-]*\.(html|js|css|svg)$")


def _file(name: str) -> FileResponse:
    path = UI_DIR / name
    if not NAME.match(name) or not path.is_file():
        raise ApiError(404, f"no UI file {name!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=HEADERS)


@router.get("/")
def index() -> FileResponse:
    return _file("index.html")


@router.get("/ui/{name}")
def static(name: Annotated[str, PathParam(max_length=64)]) -> FileResponse:
    return _file(name)
