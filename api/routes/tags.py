"""Tags: apply or remove by ids or by query (in bulk), and list them with counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator

from api.auth import ApiKey
from api.deps import State, require
from api.errors import ApiError
from api.routes.search import SearchFilters
from api.schemas import DocId, Strict, TagName

router = APIRouter(tags=["tags"])

MAX_IDS = 10_000


class TagChange(Strict):
    tag: TagName
    ids: list[DocId] | None = Field(None, min_length=1, max_length=MAX_IDS, description="Documents by id.")
    query: SearchFilters | None = Field(None, description="Or every document this search matches.")

    @model_validator(mode="after")
    def _one_target(self) -> TagChange:
        if (self.ids is None) == (self.query is None):
            raise ValueError("give either ids or query, not both and not neither")
        return self


class TagChangeResult(BaseModel):
    tag: str
    changed: int = Field(description="Documents the tag was added to (or removed from).")
    ignored: list[str] | None = Field(None, description="For a key with a data scope: ids given that the scope does "
                                                       "not see (left untouched; to the scope they do not exist).")


class TagCount(BaseModel):
    tag: str
    count: int


class TagList(BaseModel):
    tags: list[TagCount]


def _change(body: TagChange, state: Any, remove: bool) -> dict[str, Any]:
    query = None
    if body.query is not None:
        if body.query.is_empty():
            raise ApiError(422, "body.query: give words or at least one filter",
                           details=[{"field": "body.query", "message": "matches everything", "type": "value_error"}])
        query = state.voc.build_query(body.query.q, filters=body.query.filters())
    changed = state.voc.tag(body.tag, ids=body.ids or (), query=query, remove=remove)
    outside = getattr(state.voc, "outside", None)  # only a scoped facade has ids it does not see
    if outside is None:
        return {"tag": body.tag, "changed": changed}
    return {"tag": body.tag, "changed": changed, "ignored": outside(body.ids)[:1000] if body.ids else []}


@router.post("/tags/apply", response_model=TagChangeResult, response_model_exclude_none=True,
             summary="Tag documents by ids or by query")
def apply_tag(body: TagChange, state: State, _key: Annotated[ApiKey, Depends(require("tag"))]) -> dict[str, Any]:
    return _change(body, state, remove=False)


@router.post("/tags/remove", response_model=TagChangeResult, response_model_exclude_none=True,
             summary="Untag documents by ids or by query")
def remove_tag(body: TagChange, state: State, _key: Annotated[ApiKey, Depends(require("tag"))]) -> dict[str, Any]:
    return _change(body, state, remove=True)


@router.get("/tags", response_model=TagList, summary="Every tag with its document count")
def list_tags(state: State, _key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    return {"tags": [{"tag": tag, "count": count} for tag, count in state.voc.tag_counts().items()]}
