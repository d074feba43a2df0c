"""POST /v1/analyze: analyse texts without storing them (what other services call most)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import State, require
from api.errors import ApiError
from api.schemas import PiiOut, SentimentOut, SourceKind, Strict, Text, TopicOut, TurnOut

router = APIRouter(tags=["analysis"])

MAX_TEXTS = 256
# Analysis is linear in text length, but 256 texts at max_text_chars are ~5 million characters: about a
# minute of one worker's CPU for a pathological text. 500,000 in all keeps one call to seconds.
MAX_TOTAL_CHARS = 500_000


class AnalyzeRequest(Strict):
    texts: list[Text] = Field(min_length=1, max_length=MAX_TEXTS, description=f"1-{MAX_TEXTS} texts.")
    source: SourceKind = Field("review", description="How to read the texts: hotline texts are parsed into turns.")


class Analysis(BaseModel):
    text: str = Field(description="Normalised text with PII masked.")
    tokens: list[str]
    sentiment: SentimentOut | None = Field(None, description="Absent when the sentiment stage is turned off.")
    topic: TopicOut | None = Field(None, description="Its topic in the last build, once a topic model exists.")
    pii: list[PiiOut] = Field(description="PII found: where in the input, and where its placeholder is.")
    turns: list[TurnOut] = []


class AnalyzeResponse(BaseModel):
    results: list[Analysis] = Field(description="One per input text, in order.")


@router.post("/analyze", response_model=AnalyzeResponse, summary="Analyse texts (not stored)")
def analyze(body: AnalyzeRequest, state: State,
            _key: Annotated[ApiKey, Depends(require("analyze"))]) -> dict[str, Any]:
    limit = state.settings.max_text_chars
    too_long = [{"field": f"body.texts.{i}", "message": f"longer than {limit:,} characters", "type": "too_long"}
                for i, text in enumerate(body.texts) if len(text) > limit]
    if too_long:
        raise ApiError(422, f"{too_long[0]['field']}: {too_long[0]['message']}", details=too_long)
    total = sum(map(len, body.texts))
    if total > MAX_TOTAL_CHARS:
        message = f"{total:,} characters in all; at most {MAX_TOTAL_CHARS:,} per call: split the texts over calls"
        raise ApiError(422, f"body.texts: {message}",
                       details=[{"field": "body.texts", "message": message, "type": "too_long"}])
    results = state.voc.analyze_many(body.texts, source=body.source)
    state.metrics.analyzed.inc(len(results))
    return {"results": results}  # validated once, by the response model
