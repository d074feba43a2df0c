"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Validation errors name the field (``body.texts.3``); unexpected exceptions are logged here and answered
with a generic 500, so no stack trace, file path or credential reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexing import BackendUnavailable
from voc.scopes.scope import ScopeDenied

log = logging.getLogger("voc.api")

_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "rate_limited", 500: "internal_error", 503: "unavailable",
}


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. validation_error, forbidden.")
    message: str
    details: Any = Field(None, description="Per-field problems for validation errors; otherwise extra context.")


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """Raised by routes for an expected failure; becomes the error envelope with this status."""

    def __init__(self, status: int, message: str, *, code: str | None = None, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _STATUS_CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors as {field, message, type}; the rejected input is not echoed back."""
    return [{"field": ".".join(str(part) for part in error.get("loc", ())), "message": str(error.get("msg", "")),
             "type": str(error.get("type", ""))} for error in errors]


# Every route may answer these; declared so the OpenAPI schema (and schemathesis) knows their shape.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": code.replace("_", " ")}
    for status, code in _STATUS_CODES.items() if status not in (405, 406, 409, 415)
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = field_errors(list(exc.errors()))
        first = problems[0] if problems else {"field": "request", "message": "invalid"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return error_response(422, "validation_error", message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(BackendUnavailable)
    async def _unavailable(_: Request, exc: BackendUnavailable) -> JSONResponse:
        log.warning("search backend unavailable: %s", exc)
        return error_response(503, "unavailable", "the search index is unavailable; try again later")

    @app.exception_handler(ScopeDenied)
    async def _scope_denied(_: Request, exc: ScopeDenied) -> JSONResponse:
        return error_response(403, "forbidden", str(exc), {"reason": "scope"})

    @app.exception_handler(OperationalError)
    async def _store_busy(request: Request, exc: OperationalError) -> JSONResponse:
        # SQLite answers "database is locked" while a long file ingest holds its write lock.
        log.warning("store unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(503, "unavailable", "the document store is busy or unreachable; try again shortly",
                              headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; it has been logged")
