"""Prometheus metrics: requests and latency by route template (not raw path, which would explode the
label set with document ids) and status.

Under several server workers (`voc serve --workers N` sets ``PROMETHEUS_MULTIPROC_DIR``) each worker
writes its samples to shared files and ``/metrics`` sums them, whichever worker answers.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        # A registry per app, so tests (and embedders) can create several apps in one process.
        self.registry = CollectorRegistry()
        self.requests = Counter("voc_http_requests", "HTTP requests answered.", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("voc_http_request_seconds", "Time to answer an HTTP request.",
                                 ["method", "route"], buckets=_BUCKETS, registry=self.registry)
        self.analyzed = Counter("voc_analyzed_texts", "Texts analysed by POST /v1/analyze.", registry=self.registry)
        self.ingested = Counter("voc_ingested_documents", "Documents ingested through the API, by result.",
                                ["result"], registry=self.registry)

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): counts every answer, errors included, at little cost."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status["code"])).inc()
            self.metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - started)


def _route_template(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return "unmatched"
    # Depending on the FastAPI version, a route of an included router carries its template with or
    # without the router's prefix; the prefix is whatever the request path has before the template.
    path = str(scope["path"])
    prefix = "/".join(path.split("/")[: path.count("/") - str(template).count("/") + 1])
    return str(template) if str(template).startswith(prefix + "/") else prefix + str(template)
