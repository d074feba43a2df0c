"""POST /v1/documents/upload: a CSV/TSV/XLSX/JSONL export, ingested as by `voc ingest`.

Small files are ingested before the answer (200 with the report); larger ones become a job (202 with
its id). Either way a file that cannot be read stores nothing, and bad rows are reported with reasons.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import ApiState, State, require
from api.errors import ApiError, ErrorResponse
from api.jobs import JobFailed, ProgressFn
from api.schemas import JobAccepted, SourceKind, job_accepted
from voc.ingest.encoding import UnreadableFileError
from voc.ingest.fields import mask_message
from voc.ingest.readers import detect_format
from voc.ingest.records import ColumnOptions
from voc.ingest.runner import IndexBehind

router = APIRouter(tags=["documents"])

MAX_REJECTS_SHOWN = 100
_UNSAFE = re.compile(r"[^\w.\-]+")
ColumnName = Annotated[str | None, Form(max_length=256)]


class RejectedRow(BaseModel):
    row: int = Field(description="Row number as a spreadsheet shows it (header = 1), or the JSONL line.")
    reason: str


class UploadReport(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    near_duplicates: int
    rejects: list[RejectedRow] = Field(description=f"The first {MAX_REJECTS_SHOWN} rejected rows.")
    rejects_truncated: bool
    index_behind: str | None = Field(None, description="Set when the documents were stored but the search index "
                                     "could not take them yet: why. They become searchable when it catches up.")


def _safe_name(filename: str | None) -> str:
    """The upload's base name with only safe characters (it names the rejects file on the server)."""
    name = Path((filename or "upload").replace("\\", "/")).name
    name = _UNSAFE.sub("_", name).strip("._") or "upload"
    return name[-100:]


def _save(upload: UploadFile, target: Path, limit: int) -> int:
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"the file is larger than {limit:,} bytes")
            out.write(chunk)
    return size


def _ingest(state: ApiState, path: Path, shown_name: str, source: str, fmt: str | None, options: ColumnOptions,
            progress: ProgressFn | None = None) -> dict[str, Any]:
    index_behind: str | None = None
    try:
        report = state.voc.ingest(path, source, fmt=fmt, options=options, progress=progress)
    except IndexBehind as exc:  # stored: answer with the report, not as if nothing was stored
        report, index_behind = exc.report, str(exc)
    except UnreadableFileError as exc:
        # The message names the file; the client knows it by its own name, not our temporary path.
        message = str(exc).replace(str(path), shown_name).replace(str(path.parent), "")
        raise JobFailed(mask_message(message)) from None  # the answer and the job keep no PII
    rejects: list[dict[str, Any]] = []
    if report.rejects_file:
        with open(report.rejects_file, encoding="utf-8") as handle:
            for line in handle:
                if len(rejects) > MAX_REJECTS_SHOWN:
                    break
                entry = json.loads(line)
                rejects.append({"row": entry["row"], "reason": entry["reason"]})
    return {"accepted": report.accepted, "duplicates": report.duplicates, "rejected": report.rejected,
            "near_duplicates": report.near_duplicates, "rejects": rejects[:MAX_REJECTS_SHOWN],
            "rejects_truncated": report.rejected > MAX_REJECTS_SHOWN, "index_behind": index_behind,
            "processed": report.accepted + report.duplicates + report.rejected}


@router.post("/documents/upload", response_model=UploadReport, summary="Ingest a file",
             responses={202: {"model": JobAccepted, "description": "A large file: ingested as a job."},
                        413: {"model": ErrorResponse, "description": "file too large"}})
def upload(
    state: State, key: Annotated[ApiKey, Depends(require("ingest"))],
    file: Annotated[UploadFile, File(description="CSV, TSV, JSONL or XLSX; any common Chinese encoding.")],
    source: Annotated[SourceKind, Form()],
    format: Annotated[Literal["csv", "tsv", "jsonl", "xlsx"] | None, Form(
        description="Default: from the file name's extension.")] = None,
    text_col: ColumnName = None, id_col: ColumnName = None, time_col: ColumnName = None,
) -> Any:
    name = _safe_name(file.filename)
    try:
        fmt = detect_format(Path(name), format)
    except UnreadableFileError:
        raise ApiError(422, "cannot tell the file's format from its name; give format (csv, tsv, jsonl, xlsx)",
                       details=[{"field": "body.format", "message": "required for this file name",
                                 "type": "missing"}]) from None
    folder: Path | None = state.settings.home / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / name
    owned = folder
    options = ColumnOptions(text_col=text_col, id_col=id_col, time_col=time_col)
    try:
        size = _save(file, path, state.settings.api_max_upload_bytes)
        if size > state.settings.api_job_threshold_bytes:
            def work(progress: ProgressFn) -> dict[str, Any]:
                try:
                    return _ingest(state, path, name, source, fmt, options, progress)
                finally:
                    shutil.rmtree(owned, ignore_errors=True)

            job_id = state.jobs.submit("ingest", key.id, work)
            folder = None  # the job owns it now
            return job_accepted(job_id)
        try:
            result = _ingest(state, path, name, source, fmt, options)
        except JobFailed as exc:
            raise ApiError(400, str(exc), code="invalid_file") from None
        result.pop("processed")
        return result
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
