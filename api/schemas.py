"""Request and response models shared by several routers, so the OpenAPI schema is exact."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SourceKind = Literal["survey", "hotline", "review"]
SentimentLabel = Literal["negative", "neutral", "positive"]


def _valid_unicode(value: str) -> str:
    # JSON may carry lone surrogates ("\ud800"); they cannot be stored, indexed or encoded back.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (lone surrogate)") from None
    return value


def _no_controls(value: str) -> str:
    value = _valid_unicode(value).strip()
    if not value:
        raise ValueError("must not be blank")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise ValueError("must not contain control or unassigned characters")
    return value


Text = Annotated[str, Field(min_length=1), AfterValidator(_valid_unicode)]
OptionalText = Annotated[str | None, AfterValidator(lambda v: v if v is None else _valid_unicode(v))]
Name = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_valid_unicode)]
TagName = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_no_controls)]
DocId = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_valid_unicode)]


# Times are stored as given, without a UTC offset (sources rarely say), so they are not RFC 3339
# date-times; the schema says exactly that instead of promising an offset.
Timestamp = Annotated[str, Field(description="ISO 8601 date and time without offset, e.g. 2026-03-05T08:30:00.",
                                 pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")]


class Strict(BaseModel):
    """Unknown fields are an error (a misspelt filter should not silently match everything)."""

    model_config = ConfigDict(extra="forbid")


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    url: str = Field(description="Where to follow its progress.")


def job_accepted(job_id: str) -> JSONResponse:
    """The 202 answer for work handed to a job."""
    return JSONResponse({"job_id": job_id, "status": "queued", "url": f"/v1/jobs/{job_id}"}, status_code=202)


class PiiOut(BaseModel):
    type: str
    start: int
    end: int
    masked_start: int
    masked_end: int


class TurnOut(BaseModel):
    role: str
    text: str


class ClauseOut(BaseModel):
    text: str
    start: int
    end: int
    label: SentimentLabel
    score: float


class AspectOut(BaseModel):
    """One aspect opinion. Offsets count code points (Unicode characters) of the analysed ``text``."""

    aspect: str = Field(description="Its CX category (e.g. 物流配送); \"\" for a term no category claims.")
    polarity: str = Field(description="negative, neutral or positive.")
    opinion: str = Field(description="The opinion as written (the clause where the opinion is implicit).")
    start: int = Field(description="Where the opinion span starts in the text.")
    end: int = Field(description="Where the opinion span ends (exclusive).")
    score: float = Field(description="Its sentiment, in [-1, 1].")
    # Defaults: documents stored before the span tagger carry none of the four fields below.
    term: str = Field("", description="The aspect term as written; \"\" when the aspect is implicit (太贵了 → 价格).")
    term_start: int = Field(-1, description="Where the term starts in the text; -1 when implicit.")
    term_end: int = Field(-1, description="Where the term ends (exclusive); -1 when implicit.")
    confidence: float = Field(1.0, ge=0, le=1, description="The span tagger's probability (1.0 for lexicon terms).")


class SentimentOut(BaseModel):
    label: SentimentLabel
    score: float = Field(description="p(positive) - p(negative), in [-1, 1].")
    probabilities: dict[str, float]
    clauses: list[ClauseOut] = []
    aspects: list[AspectOut] = []


class DocumentAnalysisOut(BaseModel):
    """What analysis stored with the document; stages may add keys of their own."""

    model_config = ConfigDict(extra="allow")

    sentiment: SentimentOut | None = Field(None, description="Absent when the sentiment stage was off.")


class TopicOut(BaseModel):
    id: int
    label: str | None = None


class DocumentOut(BaseModel):
    id: str
    source: str
    text: str = Field(description="Normalised, PII-masked text that analysis uses (a call's customer turns).")
    text_original: str = Field(description="The text as received, PII-masked.")
    external_id: str | None = None
    created_at: Timestamp | None = None
    channel: str | None = None
    industry: str | None = None
    product: str | None = None
    store: str | None = None
    meta: dict[str, Any] = {}
    turns: list[TurnOut] = []
    tokens: list[str] = []
    pii: list[PiiOut] = []
    near_duplicate_of: str | None = None
    sentiment_label: SentimentLabel | None = None
    sentiment_score: float | None = None
    analysis: DocumentAnalysisOut = Field(default_factory=DocumentAnalysisOut, description="Sentiment with its "
                                          "clauses and aspects (offsets into text).")
    topic_id: int | None = None
    topic_label: str | None = None
    tags: list[str] = []
