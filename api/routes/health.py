"""Root routes without a key: liveness, readiness (store and index reachable), Prometheus metrics."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.deps import State
from indexing.health import IndexHealth, check_index

log = logging.getLogger("voc.api")
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, Literal["ok", "unavailable"]]
    reasons: dict[str, str] | None = Field(None, description="Why a check is unavailable, per check; "
                                                          "absent when ready.")


@router.get("/healthz", response_model=Health, summary="The process answers")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, response_model_exclude_none=True,
            summary="Store reachable, search index sound and in step with it",
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
    reasons: dict[str, str] = {}
    if checks["store"] == "ok":
        # opens, is not damaged, and holds what the store says it does (a deleted or emptied index
        # file is recreated empty and would otherwise answer every search with nothing)
        try:
            health = check_index(state.voc)
        except Exception:
            log.exception("readiness: index unreachable")  # details stay in the log, never in the answer
            health = IndexHealth("the search index is unreachable")
        checks["index"] = "ok" if health.ok else "unavailable"
        if health.problem:
            reasons["index"] = health.problem  # counts and what to run; unreachable hosts stay in the log
    else:
        checks["index"] = "unavailable"
        reasons["index"] = "not checked: the store is unreachable"
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable", "checks": checks}
    if reasons:
        body["reasons"] = reasons
    return body if ready else JSONResponse(body, status_code=503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text format."}})
def metrics(state: State) -> Response:
    payload, content_type = state.metrics.render()
    return Response(payload, media_type=content_type)
