"""/docs (Swagger UI) and /redoc served from this server's own files, never from a CDN.

FastAPI's default pages load their JavaScript, CSS, favicon and fonts from public CDNs: on an
intranet without internet they stay blank, and each visit tells a third party who reads the API
docs. The files come from the ``fastapi-offline`` package (MIT; Swagger UI 5 and ReDoc 2). Without
it the two pages say where the OpenAPI schema is and load nothing at all.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
STATIC_URL = "/docs-static"
# The browser enforces "nothing from elsewhere" too (ReDoc's footer logo points at a CDN). The pages
# are FastAPI's, with an inline start-up script; ReDoc styles itself inline and parses in a worker.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def bundled_assets() -> Path | None:
    """The folder holding swagger-ui-bundle.js, swagger-ui.css and redoc.standalone.js, if installed."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "static"
    needed = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
    return folder if all((folder / name).is_file() for name in needed) else None


def install_docs(app: FastAPI) -> None:
    """Add /docs and /redoc to an app created with ``docs_url=None, redoc_url=None``."""
    openapi_url = app.openapi_url or "/openapi.json"
    assets = bundled_assets()
    if assets is None:
        page = _schema_only_page(app.title, openapi_url)
        app.add_api_route(DOCS_URL, lambda: page, include_in_schema=False, response_class=HTMLResponse)
        app.add_api_route(REDOC_URL, lambda: page, include_in_schema=False, response_class=HTMLResponse)
        return
    app.mount(STATIC_URL, StaticFiles(directory=assets), name="docs-static")
    favicon = f"{STATIC_URL}/favicon.png"

    def swagger_ui() -> HTMLResponse:
        # validatorUrl None: Swagger UI would otherwise send the schema's address to validator.swagger.io
        return _confined(get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js", swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=favicon, swagger_ui_parameters={"validatorUrl": None}))

    def redoc() -> HTMLResponse:
        return _confined(get_redoc_html(openapi_url=openapi_url, title=f"{app.title} - ReDoc",
                                        redoc_js_url=f"{STATIC_URL}/redoc.standalone.js", redoc_favicon_url=favicon,
                                        with_google_fonts=False))

    app.add_api_route(DOCS_URL, swagger_ui, include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route(REDOC_URL, redoc, include_in_schema=False, response_class=HTMLResponse)


def _confined(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


def _schema_only_page(title: str, openapi_url: str) -> HTMLResponse:
    body = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title} API</title>"
            "<link rel=\"icon\" href=\"data:,\"></head><body>"
            f"<h1>{title} API</h1><p>The OpenAPI schema is at <a href=\"{openapi_url}\">{openapi_url}</a>. "
            "The interactive pages need the <code>fastapi-offline</code> package, which serves Swagger UI and "
            "ReDoc from this server instead of a CDN.</p></body></html>")
    return _confined(HTMLResponse(body))
