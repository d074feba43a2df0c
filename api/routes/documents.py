"""Documents: JSON batch ingest, file upload (large files as a job), one document by id."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import State, require
from api.errors import ApiError
from api.schemas import DocumentOut, Name, OptionalText, SourceKind, Strict, Text
from voc.ingest.batch import RecordItem

router = APIRouter(tags=["documents"])

MAX_DOCUMENTS = 1000
Number = Annotated[float, Field(allow_inf_nan=False)]
Scalar = str | int | float | bool | None


class TurnIn(Strict):
    role: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="customer / agent (also 客户, 坐席, 用户, 客服, speaker names).")
    text: Text


class DocumentIn(Strict):
    source: SourceKind | None = Field(None, description="Overrides the batch's source for this document.")
    id: Annotated[str, Field(max_length=256)] | int | None = Field(
        None, description="Your id: with the source it makes the document id, so re-sending adds nothing.")
    text: OptionalText = Field(None, description="The feedback text (for hotline: a transcript, or give turns).")
    turns: list[TurnIn] | None = Field(None, max_length=2000, description="Hotline call turns, in order.")
    time: str | Number | None = Field(None, description="When it was said: ISO date/time, 2026年1月2日, epoch s/ms.")
    channel: Name | None = None
    industry: Name | None = None
    product: Name | None = None
    store: Name | None = None
    survey: Name | None = None
    question: Annotated[str, Field(max_length=2000)] | None = None
    respondent: Name | None = None
    score: Number | None = Field(None, description="Survey score, 0-10.")
    platform: Name | None = None
    rating: Number | None = Field(None, description="Review rating, 1-5.")
    agent: Name | None = None
    duration_s: Number | None = None
    extra: dict[Annotated[str, Field(max_length=128)], Scalar] = Field(
        default_factory=dict, max_length=100, description="Other fields, kept (PII-masked) under meta.extra.")


class IngestRequest(Strict):
    source: SourceKind | None = Field(None, description="Source of every document that does not name its own.")
    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCUMENTS)


class IngestItem(BaseModel):
    index: int = Field(description="Position in the request's documents list.")
    status: Literal["accepted", "duplicate", "rejected"]
    id: str | None = Field(None, description="Document id (accepted or duplicate).")
    reason: str | None = Field(None, description="Why it was rejected.")
    near_duplicate_of: str | None = None


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    items: list[IngestItem]


def _record(doc: DocumentIn, default_source: str | None) -> RecordItem:
    fields = doc.model_dump(exclude={"source", "extra"}, exclude_none=True)
    if "id" in fields:
        fields["id"] = str(fields["id"])
    return RecordItem(source=doc.source or default_source or "", fields=fields, extra=dict(doc.extra))


@router.post("/documents", response_model=IngestResponse, summary="Ingest a batch of JSON documents")
def ingest_documents(body: IngestRequest, state: State,
                     _key: Annotated[ApiKey, Depends(require("ingest"))]) -> dict[str, Any]:
    """Up to 1,000 documents per call, with a result per document. Idempotent: a document id comes from
    (source, your id) or, without one, from the content and its context, so re-sending stores nothing new.
    PII is masked before anything is stored."""
    missing = [i for i, doc in enumerate(body.documents) if not (doc.source or body.source)]
    if missing:
        details = [{"field": f"body.documents.{i}.source", "message": "no source here or for the batch",
                    "type": "missing"} for i in missing]
        raise ApiError(422, f"{details[0]['field']}: {details[0]['message']}", details=details)
    results = state.voc.ingest_records([_record(doc, body.source) for doc in body.documents], origin="api")
    counts = {status: sum(1 for r in results if r.status == status) for status in ("accepted", "duplicate", "rejected")}
    for status, count in counts.items():
        state.metrics.ingested.labels(status).inc(count)
    return {"accepted": counts["accepted"], "duplicates": counts["duplicate"], "rejected": counts["rejected"],
            "items": [{"index": r.index, "status": r.status, "id": r.id, "reason": r.reason,
                       "near_duplicate_of": r.near_duplicate_of} for r in results]}


@router.get("/documents/{doc_id}", response_model=DocumentOut, summary="One document in full",
            responses={404: {"description": "no such document"}})
def get_document(doc_id: Annotated[str, Path(min_length=1, max_length=64)], state: State,
                 _key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    doc = state.voc.store.get(doc_id)
    if doc is None:
        raise ApiError(404, f"no document {doc_id!r}")
    data = doc.to_dict()
    data.pop("minhash", None)
    data.pop("search_terms", None)
    return data
