"""GET /v1/drivers: which topics or indicators move NPS, the survey score, the rating or sentiment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import State, require
from api.errors import ApiError
from api.routes.search import SearchFilters
from indexing.health import check_index_cached
from voc.drivers import MIN_MENTIONS, MIN_RESPONSES, DriverError
from voc.drivers.service import drivers, matching
from voc.scopes import restrict

router = APIRouter(tags=["drivers"])

MetricName = Literal["nps", "score", "rating", "sentiment"]
GroupingName = Literal["topic", "indicator"]


class DriversParams(SearchFilters):
    """The population: the same filters as search (near-duplicate copies always count once)."""

    metric: MetricName = Field("nps", description="nps (promoters 9-10 minus detractors 0-6, surveys), score (mean "
                                                  "survey score 0-10), rating (mean star rating 1-5, reviews) or "
                                                  "sentiment (% positive minus % negative, every source).")
    by: GroupingName = Field("topic", description="topic (the last `voc topics build`) or indicator (the current "
                                                  "indicator system).")
    min_responses: int = Field(MIN_RESPONSES, ge=1, le=1_000_000,
                               description="Documents carrying the metric below which no figure is given.")
    min_mentions: int = Field(MIN_MENTIONS, ge=1, le=1_000_000,
                              description="Mentions below which a theme gets no impact of its own.")
    resamples: int = Field(1000, ge=50, le=5000, description="Bootstrap resamples of the impacts.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Bootstrap seed: same seed, same intervals.")


class Overall(BaseModel):
    value: float | None
    low: float | None = Field(description="95% bootstrap interval.")
    high: float | None
    n: int = Field(description="Documents carrying the metric.")
    title: str
    unit: str


class SourceCount(BaseModel):
    documents: int
    with_metric: int


class Population(BaseModel):
    documents: int = Field(description="Documents the filters select (near-duplicate copies left out).")
    with_metric: int
    by_source: dict[str, SourceCount]
    near_duplicates_left_out: int


class Driver(BaseModel):
    key: str = Field(description="Topic id or indicator id.")
    label: str
    volume: int = Field(description="Documents carrying the metric that mention it.")
    share: float | None
    negative_volume: int = Field(description="Of them, mentioning it negatively.")
    metric_with: float | None = Field(description="The metric among the documents that mention it.")
    impact: float | None = Field(description="Overall metric minus the metric without the documents that mention "
                                             "it (negative: it costs points); null below the minimum volume.")
    low: float | None
    high: float | None
    status: Literal["ok", "not_enough_data"]
    message: str | None


class KeyDriverTheme(BaseModel):
    key: str
    label: str
    importance: float | None = Field(description="Relative weight: its part of R².")
    low: float | None
    high: float | None
    share_of_r2: float | None
    effect: float | None = Field(None, description="Ridge effect of mentioning it, in metric points.")
    effect_low: float | None = None
    effect_high: float | None = None
    negative_effect: float | None = Field(None, description="Added effect of mentioning it negatively.")
    negative_effect_low: float | None = None
    negative_effect_high: float | None = None


class KeyDrivers(BaseModel):
    status: Literal["ok", "not_applicable", "no_themes"]
    message: str | None = None
    n: int | None = None
    r2: float | None = None
    r2_low: float | None = None
    r2_high: float | None = None
    method: str | None = None
    themes: list[KeyDriverTheme] = Field(default_factory=list)


class DriversResponse(BaseModel):
    metric: MetricName
    by: GroupingName
    status: Literal["ok", "not_enough_data", "no_metric"] = Field(
        description="not_enough_data / no_metric: no figure, the message says why in words.")
    message: str | None
    overall: Overall | None
    population: Population
    notes: list[str] = Field(description="Plain-language caveats: sources without the score, unmapped documents…")
    drivers: list[Driver] = Field(description="Largest impact first (either sign); themes below the minimum last.")
    key_drivers: KeyDrivers | None
    settings: dict[str, int | float]
    filters: dict[str, Any]


@router.get("/drivers", response_model=DriversResponse, summary="What drives the score",
            responses={404: {"description": "grouping by indicator without an indicator system"},
                       503: {"description": "a text query (q) needs the search index, which is damaged, behind "
                                            "the store, or unreachable"}})
def get_drivers(params: Annotated[DriversParams, Query()], state: State,
                _key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    """Impact of each topic or indicator on the metric with 95% bootstrap intervals and the volume behind
    it, and key-driver importance (ridge regression, relative weights) for metrics customers give."""
    voc = state.voc
    filters = restrict(voc, params.filters())  # a scoped key's population: its scope ANDed in (voc.scopes)
    if params.q and params.q.strip():  # words: the index says which documents hold them
        health = check_index_cached(voc)
        if not health.ok:
            raise ApiError(503, health.problem or "the search index is unavailable", headers={"Retry-After": "30"})
        filters = matching(voc, filters, params.q)
    try:
        result = drivers(voc, filters, metric=params.metric, by=params.by, indicators=voc.indicators,
                         min_responses=params.min_responses, min_mentions=params.min_mentions,
                         resamples=params.resamples, seed=params.seed)
    except DriverError as exc:
        raise ApiError(404, str(exc)) from None
    return result.to_dict()
