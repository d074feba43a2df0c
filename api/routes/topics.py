"""Topics: the last build's topics, one topic with its trend, emerging topics, and a rebuild as a job."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import ApiState, State, require
from api.errors import ApiError
from api.jobs import JobFailed, ProgressFn
from api.schemas import JobAccepted, SourceKind, Strict, Timestamp, job_accepted

router = APIRouter(tags=["topics"])

Interval = Literal["day", "week"]
TopicId = Annotated[int, Path(ge=0, le=2**31 - 1)]


class TopicSummary(BaseModel):
    id: int
    label: str
    keywords: list[str]
    size: int = Field(description="Stored documents in the topic.")
    negative_share: float = Field(description="Share of its documents with negative sentiment.")
    quotes: list[str] = Field(description="Representative texts.")


class TopicList(BaseModel):
    topics: list[TopicSummary] = Field(description="Topics of the last build, largest first.")


class TrendPoint(BaseModel):
    period: date = Field(description="First day of the period (a Monday for weeks).")
    count: int
    negative: int
    negative_share: float | None = Field(description="Null for a period without documents.")


class TopicDetail(TopicSummary):
    status: Literal["active", "retired"]
    trend: list[TrendPoint] = Field(description="Every period from the first to the last document; gaps are 0.")


class Period(BaseModel):
    start: Timestamp
    end: Timestamp


class EmergingTopic(BaseModel):
    topic_id: int
    label: str
    reasons: list[Literal["volume", "negative_share"]]
    count: int = Field(description="Documents in the current period.")
    baseline_mean: float = Field(description="Mean documents per baseline period.")
    p_value: float = Field(description="One-sided Poisson test of the count against the baseline mean.")
    negative_share: float | None
    baseline_negative_share: float | None
    z: float | None = Field(description="Two-proportion z of the negative share against the baseline.")
    period: Period


class EmergingList(BaseModel):
    interval: Interval
    emerging: list[EmergingTopic] = Field(description="Most significant first.")


class BuildRequest(Strict):
    source: SourceKind | None = Field(None, description="Cluster only this source (the rest join the topics found).")
    since: date | None = Field(None, description="Cluster only documents from this day.")


@router.get("/topics", response_model=TopicList, summary="Topics of the last build")
def list_topics(state: State, _key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    return {"topics": [topic.to_dict() for topic in state.voc.topics.list_topics()]}


@router.get("/topics/emerging", response_model=EmergingList, summary="Topics rising beyond chance")
def emerging(
    state: State, _key: Annotated[ApiKey, Depends(require("read"))],
    interval: Annotated[Interval, Query(description="Length of the current period.")] = "week",
    at: Annotated[date | None, Query(description="Judge as of 00:00 on this day (as `voc topics emerging --at`); "
                                                 "default: the newest document.")] = None,
    baseline: Annotated[int, Query(ge=1, le=104, description="Earlier periods forming the baseline.")] = 4,
) -> dict[str, Any]:
    moment = datetime.combine(at, time.min) if at else None
    try:
        found = state.voc.topics.emerging(interval=interval, at=moment, baseline_periods=baseline)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    return {"interval": interval, "emerging": found}


@router.get("/topics/{topic_id}", response_model=TopicDetail, summary="One topic with quotes and trend",
            responses={404: {"description": "no such topic"}})
def get_topic(topic_id: TopicId, state: State, _key: Annotated[ApiKey, Depends(require("read"))],
              interval: Annotated[Interval, Query(description="Trend periods.")] = "week") -> dict[str, Any]:
    topic = state.voc.topics.topic(topic_id, interval)
    if topic is None:
        raise ApiError(404, f"no topic {topic_id}")
    return topic


def _build(state: ApiState, request: BuildRequest, progress: ProgressFn) -> dict[str, Any]:
    voc = state.voc
    since = datetime.combine(request.since, time.min) if request.since else None
    try:
        report = voc.topics.build(source=request.source, since=since, progress=lambda _step: progress(1))
    except ValueError as exc:  # nothing in scope
        raise JobFailed(str(exc)) from None
    synced = voc.sync_index()  # every worker's ingest picks up the new model itself (voc.pipeline.TopicStage)
    return {**report.to_dict(), "indexed": synced.indexed}


@router.post("/topics/build", status_code=202, response_model=JobAccepted, summary="Rebuild topics (a job)",
             description="Clusters the stored documents again, keeping ids of topics that persist, then brings "
                         "the search index up to date. Follow the job at its url.")
def build_topics(state: State, key: Annotated[ApiKey, Depends(require("admin"))],
                 request: Annotated[BuildRequest | None, Body()] = None) -> Any:
    from voc.topics.sampling import BUILD_STEPS  # the topic stack loads with the first build, not with the server

    body = request or BuildRequest()
    job_id = state.jobs.submit("topics.build", key.id, lambda progress: _build(state, body, progress),
                               total=BUILD_STEPS)
    return job_accepted(job_id)
