"""GET /v1/org: the organisation tree as the presented key sees it (its own subtrees; all of it unscoped).
PUT /v1/org: an unscoped admin imports a new version (JSON body or a YAML/JSON/XLSX file), as
`voc org import` does: stored whole with its audit entry, or not at all with what is wrong."""

from __future__ import annotations

import json
import shutil
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import ApiKey
from api.deps import ApiState, State, require
from api.errors import ApiError, ErrorResponse
from api.routes.indicators import actor
from api.routes.upload import _safe_name, _save
from voc.scopes import OrgFileError, OrgTree, import_org_tree, parse_tree, read_tree, visible_tree

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


class OrgImportOut(BaseModel):
    version: int = Field(description="The version this import stored.")
    nodes: int
    field: str


ORG_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": {
            "description": "`{\"name\", \"field\", \"root\": {\"name\", \"values\", \"children\": [...]}}` as "
                           "`voc org export` writes it; `field` is store, channel, industry or product.",
            "type": "object"}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "YAML, JSON or XLSX (id/name/parent/values columns)."}}}},
    },
}
MAX_NAME = 256  # org_versions.name


def _storable(tree: OrgTree, origin: str, status: int, code: str) -> OrgTree:
    """What the store could not keep, as bad input: a lone surrogate, a name longer than its column."""
    try:
        json.dumps(tree.to_dict(), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(status, f"{origin}: text that is not valid Unicode (a lone surrogate)", code=code) from None
    if len(tree.name) > MAX_NAME:
        raise ApiError(status, f"{origin}: the tree's name is longer than {MAX_NAME} characters", code=code)
    return tree


def _tree_from_json(data: Any) -> OrgTree:
    try:
        return _storable(parse_tree(data, "body"), "body", 422, "invalid_tree")
    except OrgFileError as exc:
        raise ApiError(422, str(exc), code="invalid_tree") from None
    except RecursionError:
        raise ApiError(422, "body: the tree is nested too deeply", code="invalid_tree") from None


def _tree_from_file(state: ApiState, upload: UploadFile, fmt: str | None) -> OrgTree:
    name = _safe_name(upload.filename)
    folder = state.settings.home / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / name
    try:
        _save(upload, path, state.settings.api_max_body_bytes)
        try:
            return _storable(read_tree(path, fmt), name, 400, "invalid_file")
        except OrgFileError as exc:  # name the file as the client knows it, not our temporary path
            message = str(exc).replace(str(path), name).replace(str(folder), "")
            raise ApiError(400, message.replace("use --format", "give format="), code="invalid_file") from None
        except RecursionError:
            raise ApiError(400, f"{name}: the tree is nested too deeply", code="invalid_file") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.put("/org", response_model=OrgImportOut, summary="Import a new version of the organisation tree",
            description="Admins without a scope only. The body is the tree as JSON, or a multipart `file` (YAML, "
                        "JSON or XLSX). It is stored whole as the next version with an audit entry (nodes added, "
                        "removed, changed; the author is the API key), or, when anything in it is wrong, not at all "
                        "(422 for a JSON body, 400 for a file, naming the node and the problem). Every scoped key "
                        "sees the new version at its next request.",
            openapi_extra={"requestBody": ORG_BODY},
            responses={415: {"model": ErrorResponse, "description": "neither JSON nor multipart"}})
async def put_org(
    request: Request, state: State, key: Annotated[ApiKey, Depends(require("admin"))],
    note: Annotated[str, Query(max_length=1000, description="Why this version (kept in the audit trail).")] = "",
    format: Annotated[Literal["yaml", "json", "xlsx"] | None, Query(
        description="The file's format (default: from its name).")] = None,
) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form()
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ApiError(422, "body.file: a file is required",
                               details=[{"field": "body.file", "message": "required", "type": "missing"}])
            tree = await run_in_threadpool(_tree_from_file, state, upload, format)
        finally:
            await form.close()
    elif media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(await request.body())
        except (ValueError, RecursionError):
            raise ApiError(422, "body: not valid JSON (or nested too deeply)",
                           details=[{"field": "body", "message": "invalid JSON", "type": "json_invalid"}]) from None
        tree = _tree_from_json(data)
    else:
        raise ApiError(415, "send the tree as application/json, or a file as multipart/form-data",
                       code="unsupported_media_type")
    version = await run_in_threadpool(import_org_tree, state.voc, tree, author=actor(key), note=note)
    return {"version": version, "nodes": tree.size(), "field": tree.mapping_field}
