"""GET /v1/org: the organisation tree as the presented key sees it (its own subtrees; all of it unscoped)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import State, require
from api.errors import ApiError
from voc.scopes import visible_tree

router = APIRouter(tags=["keys"])


class OrgNodeOut(BaseModel):
    id: str
    name: str
    kind: str = ""
    values: list[str] = Field(default_factory=list, description="Values of the mapping field this node owns.")
    children: list[OrgNodeOut] = Field(default_factory=list)


class OrgTreeOut(BaseModel):
    name: str
    field: str = Field(description="The document field that places a document under a node.")
    version: int
    scope: list[str] = Field(description="The key's scope (node ids); empty: every document.")
    nodes: list[OrgNodeOut] = Field(description="The root for an unscoped key; else the key's subtrees.")


@router.get("/org", response_model=OrgTreeOut, summary="The organisation tree within the key's scope",
            responses={404: {"description": "no organisation tree imported yet (`voc org import`)"}})
def get_org(state: State, key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    found = visible_tree(state.voc)
    if found is None:
        raise ApiError(404, "no organisation tree yet; an admin imports one with `voc org import FILE`")
    return {**found, "scope": list(key.scope)}
