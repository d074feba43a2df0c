"""GET /v1/jobs/{id}: progress of long work. A key sees its own jobs; an admin sees every job."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import State, require
from api.errors import ApiError
from api.schemas import Timestamp

router = APIRouter(tags=["jobs"])


class JobOut(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: int = Field(description="Items processed so far (rows, for an ingest).")
    total: int | None = Field(None, description="Items in all, when known beforehand.")
    result: dict[str, Any] | None = Field(None, description="The report, once succeeded.")
    error: str | None = Field(None, description="Why it failed.")
    created_at: Timestamp
    updated_at: Timestamp
    finished_at: Timestamp | None = None


@router.get("/jobs/{job_id}", response_model=JobOut, summary="Progress of a job",
            responses={404: {"description": "no such job (or not yours)"}})
def get_job(job_id: Annotated[str, Path(min_length=1, max_length=64)], state: State,
            key: Annotated[ApiKey, Depends(require())]) -> dict[str, Any]:
    job = state.jobs.get(job_id)
    # an admin sees every job, unless scoped: then, like any scoped key, only its own
    if job is None or (job.owner != key.id and not (key.can("admin") and not key.scope)):
        raise ApiError(404, f"no job {job_id!r}")
    data = {name: getattr(job, name) for name in JobOut.model_fields}
    for name in ("created_at", "updated_at", "finished_at"):
        data[name] = data[name].isoformat(timespec="seconds") if data[name] else None
    if data["result"]:
        data["result"] = {k: v for k, v in data["result"].items() if k != "processed"}
    return data
