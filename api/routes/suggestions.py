"""Suggested new indicators: list, refresh (a job), and review (accept, merge or reject)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api.auth import ApiKey
from api.deps import ApiState, State, require
from api.errors import ApiError, ErrorResponse
from api.indicator_schemas import ReviewIn, ReviewOut, SuggestionList, SuggestionOut, SuggestionStatus
from api.jobs import JobFailed, ProgressFn
from api.routes.indicators import actor, indicator_errors
from api.schemas import JobAccepted, job_accepted

router = APIRouter(tags=["suggestions"])

SuggestionId = Annotated[str, Path(min_length=1, max_length=64, description="s-…")]
NOT_FOUND = {404: {"description": "no such suggestion (or no indicator system yet)"}}


@router.get("/suggestions", response_model=SuggestionList, summary="Suggested indicators with their review state")
def list_suggestions(state: State, _key: Annotated[ApiKey, Depends(require("read"))],
                     status: Annotated[list[SuggestionStatus], Query(
                         description="Only these states (repeatable); default: all.")] = []  # noqa: B006
                     ) -> dict[str, Any]:
    return {"suggestions": state.voc.indicators.suggestions(tuple(dict.fromkeys(status)))}


def _refresh(state: ApiState, progress: ProgressFn) -> dict[str, Any]:
    from voc.indicators.service import IndicatorNotFound

    try:
        pending = state.voc.indicators.suggest()
    except IndicatorNotFound as exc:  # the tree went away meanwhile
        raise JobFailed(str(exc)) from None
    progress(1)
    return {"pending": len(pending), "top": [item["id"] for item in pending[:10]]}


@router.post("/suggestions/refresh", status_code=202, response_model=JobAccepted, responses=NOT_FOUND,
             summary="Recompute pending suggestions (a job)",
             description="Maps the whole corpus to the latest tree and proposes new indicators from unmapped topics "
                         "and recurring aspect terms. Reviewed suggestions stay; a rejected one comes back only on "
                         "fresh evidence. The job's result counts the pending suggestions.")
def refresh(state: State, key: Annotated[ApiKey, Depends(require("review"))]) -> Any:
    with indicator_errors():
        state.voc.indicators.tree()  # 404 now, rather than a failed job, when there is no tree
    job_id = state.jobs.submit("suggestions.refresh", key.id, lambda progress: _refresh(state, progress), total=1)
    return job_accepted(job_id)


@router.get("/suggestions/{suggestion_id}", response_model=SuggestionOut, summary="One suggestion",
            responses=NOT_FOUND)
def get_suggestion(suggestion_id: SuggestionId, state: State,
                   _key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    with indicator_errors():
        return state.voc.indicators.suggestion(suggestion_id)


@router.post("/suggestions/{suggestion_id}/review", response_model=ReviewOut, summary="Accept, merge or reject",
             description="accept: a new tree version with the suggestion as an indicator (under `parent`, default "
                         "the proposed one, named `name`); merge: its keywords into indicator `target` (a new "
                         "version); reject: needs a `reason`. The reviewer is the API key; every decision is in "
                         "the audit trail.",
             responses={**NOT_FOUND, 409: {"model": ErrorResponse, "description": "already reviewed"}})
def review(suggestion_id: SuggestionId, body: ReviewIn, state: State,
           key: Annotated[ApiKey, Depends(require("review"))]) -> dict[str, Any]:
    service = state.voc.indicators
    with indicator_errors():
        current = service.suggestion(suggestion_id)
        if current["status"] != "pending":
            raise ApiError(409, f"suggestion {suggestion_id} is already {current['status']}",
                           details={"status": current["status"], "reviewer": current["reviewer"]})
        return service.review(suggestion_id, body.action, reviewer=actor(key), reason=body.reason,
                              target=body.target, parent=body.parent, name=body.name)
