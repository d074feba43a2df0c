"""The indicator system (指标体系): the tree, import of a new version, coverage, versions and diffs."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import ApiKey
from api.deps import ApiState, State, require
from api.errors import ApiError, ErrorResponse
from api.indicator_schemas import (
    AuditLog,
    CoverageOut,
    DiffOut,
    ImportResult,
    IndicatorTreeOut,
    RulePreviewIn,
    RulePreviewOut,
    VersionList,
)
from api.routes.upload import _safe_name, _save

if TYPE_CHECKING:
    from voc.indicators.model import IndicatorTree

router = APIRouter(tags=["indicators"])

Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
NOT_FOUND = {404: {"description": "no indicator system yet, or no such version"}}
TREE_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": {
            "description": "A tree in any shape `voc indicators import` reads: nested `children` lists, `groups` "
                           "holding `indicators`, or a bare list of nodes; field names in English or Chinese.",
            "anyOf": [{"type": "object"}, {"type": "array", "items": {}}]}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "YAML, JSON or XLSX (id/parent_id or level columns)."}}}},
    },
}


def actor(key: ApiKey) -> str:
    """Who a change is recorded as: the key's name and id (names need not be unique)."""
    return f"{key.name} ({key.id})" if key.name else key.id


@contextmanager
def indicator_errors() -> Iterator[None]:
    """The indicator service's exceptions as the error envelope."""
    from voc.indicators.service import IndicatorFileError, IndicatorNotFound, ReviewError

    try:
        yield
    except IndicatorNotFound as exc:
        raise ApiError(404, str(exc).strip("'\"")) from None
    except ReviewError as exc:
        raise ApiError(422, str(exc), code="invalid_review") from None
    except IndicatorFileError as exc:
        raise ApiError(422, str(exc), code="invalid_tree") from None


def _storable(tree: IndicatorTree, origin: str, status: int = 422, code: str = "invalid_tree") -> IndicatorTree:
    try:
        json.dumps(tree.to_dict(), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(status, f"{origin}: text that is not valid Unicode (a lone surrogate)", code=code) from None
    return tree


def _tree_from_file(state: ApiState, upload: UploadFile, fmt: str | None) -> IndicatorTree:
    from voc.indicators.io import IndicatorFileError, read_tree

    name = _safe_name(upload.filename)
    folder = state.settings.home / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / name
    try:
        _save(upload, path, state.settings.api_max_body_bytes)
        try:
            return _storable(read_tree(path, fmt), name, 400, "invalid_file")
        except IndicatorFileError as exc:  # name the file as the client knows it, not our temporary path
            message = str(exc).replace(str(path), name).replace(str(folder), "")
            raise ApiError(400, message.replace("use --format", "give format="), code="invalid_file") from None
        except RecursionError:
            raise ApiError(400, f"{name}: the tree is nested too deeply", code="invalid_file") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _tree_from_json(data: Any) -> IndicatorTree:
    from voc.indicators.io import parse_tree

    try:
        with indicator_errors():
            return _storable(parse_tree(data, "body"), "body")
    except RecursionError:
        raise ApiError(422, "body: the tree is nested too deeply", code="invalid_tree") from None


@router.get("/indicators", response_model=IndicatorTreeOut, summary="The indicator tree", responses=NOT_FOUND)
def get_tree(state: State, _key: Annotated[ApiKey, Depends(require("read"))],
             version: Annotated[Version | None, Query(description="A stored version (default: the latest).")] = None,
             ) -> dict[str, Any]:
    with indicator_errors():
        return state.voc.indicators.show(version)


@router.put("/indicators", response_model=ImportResult, summary="Import a new version of the tree",
            description="The body is the tree as JSON, or a multipart `file` (YAML, JSON or XLSX). The tree is "
                        "stored whole as the next version, or, when anything in it is wrong, not at all (422 for a "
                        "JSON body, 400 for a file, naming the place and the problem). The author is the API key.",
            openapi_extra={"requestBody": TREE_BODY},
            responses={415: {"model": ErrorResponse, "description": "neither JSON nor multipart"}})
async def import_tree(
    request: Request, state: State, key: Annotated[ApiKey, Depends(require("review"))],
    note: Annotated[str, Query(max_length=1000, description="Why this version.")] = "",
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
    with indicator_errors():
        return await run_in_threadpool(state.voc.indicators.import_tree, tree, author=actor(key), note=note)


@router.get("/indicators/coverage", response_model=CoverageOut, summary="Evidence per indicator",
            description="Maps documents not yet mapped to the latest version, then per node: mentions, share, net "
                        "sentiment, trend, growth and top quotes; nodes without evidence are listed.",
            responses=NOT_FOUND)
def coverage(state: State, _key: Annotated[ApiKey, Depends(require("read"))],
             source: Annotated[list[Literal["survey", "hotline", "review"]] | None,
                               Query(description="Only these sources (repeatable).")] = None,
             industry: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
                                 Query(description="Only these industries (repeatable).", max_length=50)] = None,
             ) -> dict[str, Any]:
    with indicator_errors():
        return state.voc.indicators.coverage(sources=source or (), industries=industry or ())


@router.get("/indicators/versions", response_model=VersionList, summary="Every stored version")
def versions(state: State, _key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    return {"versions": state.voc.indicators.versions()}


@router.get("/indicators/diff", response_model=DiffOut, summary="What changed between two versions",
            responses=NOT_FOUND)
def diff(state: State, _key: Annotated[ApiKey, Depends(require("read"))],
         old: Annotated[Version, Query(description="The older version.")],
         new: Annotated[Version | None, Query(description="The newer version (default: the latest).")] = None,
         ) -> dict[str, Any]:
    with indicator_errors():
        return state.voc.indicators.diff(old, new)


EXPORT_TYPES = {"yaml": "application/yaml", "json": "application/json",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/indicators/export", summary="The tree as a file", response_class=Response,
            description="YAML, JSON or XLSX, in the shapes `PUT /v1/indicators` and `voc indicators import` read "
                        "back: an export imported again is a version without changes.",
            responses={**NOT_FOUND, 200: {"description": "The file.", "content": {
                EXPORT_TYPES["yaml"]: {"schema": {"type": "object"}},
                EXPORT_TYPES["json"]: {"schema": {"type": "object"}},
                EXPORT_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}})
def export_tree(state: State, _key: Annotated[ApiKey, Depends(require("read"))],
                format: Annotated[Literal["yaml", "json", "xlsx"], Query(description="The file format.")] = "yaml",
                version: Annotated[Version | None, Query(description="A stored version (default: the latest).")] = None,
                ) -> Response:
    from voc.indicators.io import dump_tree

    with indicator_errors():
        tree = state.voc.indicators.tree(version)
    return Response(dump_tree(tree, format), media_type=EXPORT_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="indicators-v{tree.version}.{format}"'})


@router.get("/indicators/audit", response_model=AuditLog, summary="The audit trail",
            description="Imports, suggestion runs and review decisions, newest first.")
def audit(state: State, _key: Annotated[ApiKey, Depends(require("read"))],
          limit: Annotated[int, Query(ge=1, le=1000)] = 200,
          target: Annotated[str | None, Query(max_length=200, description="Only entries about this id.")] = None,
          ) -> dict[str, Any]:
    return {"entries": state.voc.indicators.audit(limit, target)}


PREVIEW_MAX_DOCUMENTS = 20_000  # a preview is interactive: past this it reports `truncated` instead of waiting


@router.post("/indicators/preview-rule", response_model=RulePreviewOut, summary="Try a rule on stored documents",
             description="Runs a boolean rule over the stored documents' clauses (no tree needed): documents that "
                         "match, and a sample with the matched words' span. Syntax: `AND`, `OR`, `NOT`, "
                         "`\"phrase\"`, `a NEAR/5 b`, `NEG(满意)`, parentheses. A bad rule is a 422 whose details "
                         "give the character position. Texts are the stored, PII-masked ones.",
             responses={422: {"model": ErrorResponse, "description": "the rule cannot be parsed"}})
def preview_rule(body: RulePreviewIn, state: State, _key: Annotated[ApiKey, Depends(require("read"))],
                 ) -> dict[str, Any]:
    from voc.indicators.rules import RuleSyntaxError

    try:
        return state.voc.indicators.preview_rule(body.rule, limit=body.limit, sources=body.source,
                                                 industries=body.industry, max_documents=PREVIEW_MAX_DOCUMENTS)
    except RuleSyntaxError as exc:
        raise ApiError(422, str(exc), code="invalid_rule", details=[
            {"field": "body.rule", "message": exc.message, "type": "rule_syntax", "position": exc.position,
             "chinese": exc.chinese}]) from None
