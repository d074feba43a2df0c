"""The app factory: `uvicorn.run("api.app:create_app", factory=True)` (what `voc serve` does).

Everything an app needs hangs off ``app.state.voc_api``; there is no module-level state, so each
server worker (and each test) builds its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import access_log
from api.deps import ApiState
from api.docs_pages import install_docs
from api.errors import COMMON_RESPONSES, install_error_handlers
from api.metrics import MetricsMiddleware
from api.routes import ROOT_ROUTERS, V1_ROUTERS
from voc.alerts.schedule import Periodic
from voc.settings import VocSettings

API_PREFIX = "/v1"
UPLOAD_PATH = "/v1/documents/upload"


class BodyLimitMiddleware:
    """Bounds request bodies: by Content-Length up front, and by counting for chunked bodies."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"] == UPLOAD_PATH else self.max_body
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"request body larger than {limit:,} bytes")
            return message

        await self.app(scope, counted, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": {"code": "payload_too_large", "message": f"request body larger than {limit:,} bytes",
                                 "details": None}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def prepare(settings: VocSettings) -> None:
    """Create the store's and the API's tables once, before server workers start (and race to)."""
    ApiState.from_settings(settings).close()


def create_app(settings: VocSettings | None = None) -> FastAPI:
    settings = settings or VocSettings()
    access_log.install()  # before the first request is logged: query strings hold search terms
    state = ApiState.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Load the tokenizer and models before the first request, not during it.
        state.voc.analyze_many(["预热一下模型"])
        schedule = Periodic(settings.alerts_interval_seconds, state.voc.alerts.run).start()
        # Every worker may escalate: a ticket changed by another worker first is skipped (see TicketService).
        # Looked up at each round: bad ticket settings fail the rounds (logged), not the server's start.
        escalation = Periodic(settings.ticket_escalate_every_s, lambda: state.voc.tickets.escalate(),
                              name="voc-tickets-escalate").start()
        try:
            yield
        finally:
            escalation.stop()
            schedule.stop()
            state.close()

    app = FastAPI(
        title="voc",
        version="0.1.0",
        summary="Chinese voice-of-the-customer mining: analyse, ingest, search and tag feedback.",
        description="Routes under /v1 need `Authorization: Bearer <key>` (`voc keys create`). Errors are "
                    '`{"error": {"code", "message", "details"}}`.',
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own pages load Swagger UI and ReDoc from CDNs; install_docs serves them here
        redoc_url=None,
    )
    app.state.voc_api = state
    install_error_handlers(app)
    install_docs(app)
    for router in ROOT_ROUTERS:
        app.include_router(router)
    for router in V1_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=COMMON_RESPONSES)
    app.add_middleware(BodyLimitMiddleware, max_body=settings.api_max_body_bytes,
                       max_upload=settings.api_max_upload_bytes)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)  # outermost: counts every answer
    return app
