"""GET /v1/search: full text with filters, facets, sort, page or cursor, highlights.
GET /v1/export: every hit of the same query and filters as a streamed CSV or an XLSX file."""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.auth import ApiKey
from api.deps import State, require
from api.errors import ApiError
from api.schemas import AspectOut, DocId, Name, SentimentLabel, SourceKind, Strict, TagName, Timestamp
from indexing import FACET_FIELDS, Filters, SearchQuery
from indexing.base import InvalidCursor, decode_cursor
from indexing.health import check_index_cached
from voc.dated import any_dated
from voc.export import DEFAULT_COLUMNS, ExportColumn, ExportFormat, csv_chunks, iter_hits, write_xlsx
from voc.service import Voc
from voc.store import documents

router = APIRouter(tags=["search"])

FacetName = Literal["source", "channel", "industry", "product", "store", "sentiment", "topic", "tags", "rating", "nps",
                    "none"]
NpsGroup = Literal["detractor", "passive", "promoter"]
SortName = Literal["relevance", "newest", "oldest", "most_negative", "most_positive"]
TopicId = Annotated[int, Field(ge=-1, le=2**31 - 1)]
MAX_WINDOW = 10_000  # page × limit; deeper pages use the cursor (as Elasticsearch's result window)


class SearchFilters(Strict):
    """What to match. Every filter repeats (any of its values); every tag listed must be present."""

    q: Annotated[str, Field(max_length=500)] | None = Field(None, description="Words (segmented with jieba; all "
                                                                              "must match). Omit for everything.")
    source: list[SourceKind] = Field(default_factory=list)
    channel: list[Name] = Field(default_factory=list)
    industry: list[Name] = Field(default_factory=list)
    product: list[Name] = Field(default_factory=list)
    store: list[Name] = Field(default_factory=list)
    sentiment: list[SentimentLabel] = Field(default_factory=list)
    topic: list[TopicId] = Field(default_factory=list)
    tag: list[TagName] = Field(default_factory=list)
    since: date | None = Field(None, description="From this day (inclusive).")
    until: date | None = Field(None, description="Up to this day (inclusive).")
    no_duplicates: bool = Field(False, description="Hide near-duplicate copies.")
    rating_min: float | None = Field(None, ge=0, le=5, description="Star rating at least (1-5).")
    rating_max: float | None = Field(None, ge=0, le=5, description="Star rating at most (1-star reviews: 1).")
    score_min: float | None = Field(None, ge=0, le=10, description="Survey score at least (0-10).")
    score_max: float | None = Field(None, ge=0, le=10, description="Survey score at most.")
    nps: list[NpsGroup] = Field(default_factory=list, description="NPS group of the survey score: detractor 0-6, "
                                                                  "passive 7-8, promoter 9-10.")

    def filters(self) -> Filters:
        return Filters(source=list(self.source), channel=self.channel, industry=self.industry, product=self.product,
                       store=self.store, sentiment=list(self.sentiment), topic=self.topic, tags=self.tag,
                       since=datetime.combine(self.since, time.min) if self.since else None,
                       until=datetime.combine(self.until, time.max.replace(microsecond=0)) if self.until else None,
                       exclude_near_duplicates=self.no_duplicates, rating_min=self.rating_min,
                       rating_max=self.rating_max, score_min=self.score_min, score_max=self.score_max,
                       nps=list(self.nps))

    def is_empty(self) -> bool:
        return not (self.q and self.q.strip()) and self.filters() == Filters()


class SearchParams(SearchFilters):
    sort: SortName = "relevance"
    limit: int = Field(20, ge=1, le=200, description="Hits per page.")
    page: int | None = Field(None, ge=1, le=MAX_WINDOW, description="1-based page (page × limit ≤ 10,000).")
    cursor: Annotated[str, Field(max_length=2000)] | None = Field(
        None, description="next_cursor of the previous page (any depth).")
    highlight: bool = True
    facets: list[FacetName] = Field(default_factory=lambda: list(FACET_FIELDS),
                                    description="Facets to count; `none` for none.")
    facet_size: int = Field(20, ge=1, le=200)


class Hit(BaseModel):
    id: str
    text: str
    source: str
    score: float
    created_at: Timestamp | None = None
    channel: str | None = None
    industry: str | None = None
    product: str | None = None
    store: str | None = None
    sentiment: SentimentLabel | None = None
    sentiment_score: float | None = None
    topic_id: int | None = None
    topic_label: str | None = None
    tags: list[str] = Field(default_factory=list)
    near_duplicate_of: str | None = None
    rating: float | None = Field(None, description="Star rating (reviews, 1-5).")
    survey_score: float | None = Field(None, description="Survey score (0-10).")
    highlight: str | None = Field(None, description="Snippet with matches in <em>…</em>.")
    aspects: list[AspectOut] = Field(default_factory=list, description="Its aspect opinions (offsets into text), "
                                                                       "from the document store.")


class SearchResponse(BaseModel):
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = Field(description="Per facet: value → count, largest first.")
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page; null on the last.")
    page: int | None = None
    dated: bool = Field(True, description="Whether any stored document has a time; when none has, date filters "
                                          "and trends have nothing to work on (the UI hides its date filter).")


def attach_aspects(voc: Voc, hits: list[dict[str, Any]]) -> None:
    """Each hit's aspects, read from the store (the source of truth) in one query: indices hold flat fields."""
    if not hits:
        return
    with voc.store.engine.connect() as conn:
        rows = conn.execute(select(documents.c.id, documents.c.analysis)
                            .where(documents.c.id.in_([hit["id"] for hit in hits])))
        found = {doc_id: ((analysis or {}).get("sentiment") or {}).get("aspects") or [] for doc_id, analysis in rows}
    for hit in hits:
        hit["aspects"] = found.get(hit["id"], [])


def check_cursor(cursor: str) -> None:
    """Reject anything but a cursor we could have issued, before it reaches a backend."""
    try:
        values = decode_cursor(cursor)
    except ValueError:
        values = None
    if not values or len(values) > 4 or not all(v is None or isinstance(v, str | int | float) for v in values):
        raise ApiError(422, "query.cursor: not a cursor this server issued",
                       details=[{"field": "query.cursor", "message": "invalid cursor", "type": "value_error"}])


def build_query(voc: Voc, params: SearchParams) -> SearchQuery:
    if params.page is not None and params.cursor:
        raise ApiError(422, "give page or cursor, not both",
                       details=[{"field": "query.page", "message": "not with cursor", "type": "value_error"}])
    offset = (params.page - 1) * params.limit if params.page else 0
    if offset + params.limit > MAX_WINDOW:
        raise ApiError(422, f"page × limit may not pass {MAX_WINDOW:,}; use cursor to go deeper",
                       details=[{"field": "query.page", "message": "too deep", "type": "value_error"}])
    if params.cursor:
        check_cursor(params.cursor)
    facets = tuple(dict.fromkeys(f for f in params.facets if f != "none"))
    return voc.build_query(params.q, filters=params.filters(), sort=params.sort, limit=params.limit, offset=offset,
                           cursor=params.cursor, highlight=params.highlight, facets=facets,
                           facet_size=params.facet_size)


@router.get("/search", response_model=SearchResponse, summary="Search documents",
            responses={503: {"description": "the search index is damaged, behind the store, or unreachable "
                                            "(the reason says which; `voc index rebuild` repairs the first two)"}})
def search(params: Annotated[SearchParams, Query()], state: State,
           _key: Annotated[ApiKey, Depends(require("search"))]) -> dict[str, Any]:
    query = build_query(state.voc, params)
    health = check_index_cached(state.voc)
    if not health.ok:  # damaged, or missing documents the store has: an answer would quietly be wrong
        raise ApiError(503, health.problem or "the search index is unavailable", headers={"Retry-After": "30"})
    try:
        result = state.voc.index.search(query)
    except ValueError as exc:  # e.g. a cursor from another sort order, or one that was forged
        field = "query.cursor" if isinstance(exc, InvalidCursor) else "query"
        details = [{"field": field, "message": str(exc), "type": "value_error"}]
        raise ApiError(422, str(exc), details=details) from None
    data = result.to_dict()
    attach_aspects(state.voc, data["hits"])
    data["page"] = params.page
    data["dated"] = any_dated(state.voc.store)
    return data


class ExportParams(SearchFilters):
    format: ExportFormat = Field("csv", description="csv (UTF-8 with a BOM, for Excel) or xlsx.")
    columns: list[ExportColumn] = Field(default_factory=lambda: list(DEFAULT_COLUMNS),
                                        description="Columns, in order (repeat the parameter).")
    sort: SortName = "relevance"
    id: list[DocId] = Field(default_factory=list, description="Only these documents (the UI's selection).")

    def filters(self) -> Filters:
        chosen = super().filters()
        chosen.ids = list(self.id)
        return chosen


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/export", summary="Export search hits as CSV or XLSX",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}},
                             "description": "Every hit, PII-masked text, formula-escaped cells."},
                       503: {"description": "the search index is damaged, behind the store, or unreachable"}})
def export(params: Annotated[ExportParams, Query()], state: State, background: BackgroundTasks,
           _key: Annotated[ApiKey, Depends(require("search"))]) -> Any:
    """CSV streams page by page as it is read (any size); XLSX is written to a temporary file first
    (the format is a zip whose directory comes last) and removed once sent."""
    health = check_index_cached(state.voc)
    if not health.ok:
        raise ApiError(503, health.problem or "the search index is unavailable", headers={"Retry-After": "30"})
    columns = list(dict.fromkeys(params.columns))
    hits = iter_hits(state.voc, params.q, params.filters(), sort=params.sort)
    if params.format == "csv":
        return StreamingResponse(csv_chunks(hits, columns), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="voc-export.csv"'})
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(hits, columns, Path(name))
    except BaseException:
        os.unlink(name)
        raise
    background.add_task(os.unlink, name)
    return FileResponse(name, media_type=XLSX_TYPE, filename="voc-export.xlsx", background=background)
