"""Root routes without a key: liveness, readiness (store and index reachable), Prometheus metrics."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import State
from indexing import Filters, SearchQuery

log = logging.getLogger("voc.api")
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, Literal["ok", "unavailable"]]


@router.get("/healthz", response_model=Health, summary="The process answers")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, summary="Store and search index reachable",
            responses={503: {"model": Readiness, "description": "something is unreachable"}})
def readyz(state: State) -> Any:
    checks: dict[str, str] = {}
    try:
        with state.voc.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["store"] = "ok"
    except Exception:
        log.exception("readiness: store unreachable")
        checks["store"] = "unavailable"
    try:
        state.voc.index.count(SearchQuery(filters=Filters(ids=["readyz-probe"]), facets=()))
        checks["index"] = "ok"
    except Exception:
        log.exception("readiness: index unreachable")  # details stay in the log, never in the answer
        checks["index"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return body if ready else JSONResponse(body, status_code=503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text format."}})
def metrics(state: State) -> Response:
    payload, content_type = state.metrics.render()
    return Response(payload, media_type=content_type)
