"""GET /v1/me: who the presented key is (role and permissions), so a client can hide what it may not do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth import PERMISSIONS, ApiKey
from api.deps import require

router = APIRouter(tags=["keys"])


class Me(BaseModel):
    id: str = Field(description="The key's short id.")
    name: str | None = None
    role: str
    permissions: list[str] = Field(description="What the role may do: read, search, tag, analyze, ingest, review, "
                                               "admin.")
    scope: list[str] = Field(default_factory=list, description="Organisation nodes whose documents the key sees "
                                                               "(`voc org show`); empty: every document.")


@router.get("/me", response_model=Me, summary="The presented key's role and permissions")
def me(key: Annotated[ApiKey, Depends(require())]) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "role": key.role,
            "permissions": [p for p in PERMISSIONS if key.can(p)], "scope": list(key.scope)}
