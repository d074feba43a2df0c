"""Teaching the indicators from labelled examples: POST /v1/indicators/examples, DELETE to forget.

Learning and mapping every document again take a while, so an upload always becomes a job (202);
its result lists what was learned and the rejected rows by number and reason, never their text.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import ApiState, State, require
from api.errors import ErrorResponse
from api.jobs import JobFailed, ProgressFn
from api.routes.indicators import indicator_errors
from api.routes.upload import _safe_name, _save
from api.schemas import JobAccepted, job_accepted
from voc.ingest.fields import mask_message

router = APIRouter(tags=["indicators"])
ColumnName = Annotated[str | None, Form(max_length=256)]


class Forgotten(BaseModel):
    forgotten: bool = Field(description="False when there was no learned model.")


def _learn(state: ApiState, path: Path, shown_name: str, text_col: str | None,
           indicator_col: str | None) -> dict[str, Any]:
    from voc.indicators.examples import ExampleFileError
    from voc.indicators.service import IndicatorNotFound
    from voc.ingest.encoding import UnreadableFileError

    try:
        return state.voc.indicators.learn_examples(path, text_col, indicator_col)
    except (ExampleFileError, UnreadableFileError, IndicatorNotFound) as exc:
        message = str(exc).replace(str(path), shown_name).replace(str(path.parent), "")
        raise JobFailed(mask_message(message)) from None


@router.post("/indicators/examples", status_code=202, response_model=JobAccepted,
             summary="Learn the indicators from labelled examples",
             description="A CSV, TSV, JSONL or XLSX file with a text column and an indicator column (ids or names, "
                         "several separated by ; , 、 or |). Each indicator with 5 or more examples gets a model "
                         "joined to keyword evidence by the shipped calibration, then every document is mapped "
                         "again. Always a job: its result has `learned`, `rejected`, `rejected_rows` (row and "
                         "reason) and `too_few`.",
             responses={413: {"model": ErrorResponse, "description": "file too large"}})
def learn_examples(
    state: State, key: Annotated[ApiKey, Depends(require("review"))],
    file: Annotated[UploadFile, File(description="The labelled examples.")],
    text_col: ColumnName = None, indicator_col: ColumnName = None,
) -> Any:
    name = _safe_name(file.filename)
    folder: Path | None = state.settings.home / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    owned = folder
    try:
        _save(file, folder / name, state.settings.api_max_upload_bytes)

        def work(_progress: ProgressFn) -> dict[str, Any]:
            try:
                return _learn(state, owned / name, name, text_col, indicator_col)
            finally:
                shutil.rmtree(owned, ignore_errors=True)

        job_id = state.jobs.submit("learn_examples", key.id, work)
        folder = None  # the job owns it now
        return job_accepted(job_id)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


@router.delete("/indicators/examples", response_model=Forgotten, summary="Forget the learned model",
               description="Mapping goes back to keywords, aspects and rules; every document is mapped again.",
               responses={404: {"model": ErrorResponse, "description": "no indicator tree yet"}})
async def forget_examples(state: State, _key: Annotated[ApiKey, Depends(require("review"))]) -> dict[str, Any]:
    with indicator_errors():
        return {"forgotten": await run_in_threadpool(state.voc.indicators.forget_examples)}
