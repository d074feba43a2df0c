"""One batch function for every way documents arrive: rows in, analysed rows out.

`Analyser.documents` is the code path the file ingest (in its worker processes), the API's record
ingest and `analyse_frame` (and through it the Spark runner) all share: validate a row
(`build_document`), then the pipeline (normalise → ids → PII masking → jieba → MinHash → sentiment →
topic assignment). `analyse_frame` is its table face: a pandas DataFrame in, a DataFrame with every
column the store row and the index record need out, one output row per input row (rejected rows
included, with their reason).

Input columns (all optional but ``text``/``turns``; unknown columns are an error, so a typo is not
silently dropped):

==============  ===========================================================================
source          survey, hotline or review (or the ``source=`` argument for the whole frame)
id              the external id (a call id, a review id); without one the id is a content hash
text            the text as written; for hotline, a transcript (``客户：…`` lines)
turns           hotline turns: a list of ``{"role", "text"}`` or its JSON
created_at      a datetime, a date string in any form `parse_time` reads, or epoch (milli)seconds
channel, industry, product, store   strings
score           survey score 0-10;  ``rating``: review stars 1-5;  ``duration_s``: call length
survey, question, respondent, platform, agent   strings kept in ``meta``
meta            a dict (or a JSON object string) of further fields: kept as ``meta.extra``
row             the row's own number, passed through to the output (default: position in the frame)
==============  ===========================================================================

Output columns: `OUTPUT_COLUMNS` (name → Arrow type name); JSON-valued fields are JSON strings and
token lists are space-joined, as the store keeps them, so the frame goes to Parquet and Spark as is.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from voc.documents import SOURCE_KINDS, Document, PiiSpan, Turn
from voc.ingest.fields import FieldProblem, clean_json_value, clean_record
from voc.ingest.records import RowRejected, build_document
from voc.pipeline import Pipeline
from voc.settings import VocSettings

if TYPE_CHECKING:
    import pandas as pd

# Frame column → the canonical field `build_document` knows.
FRAME_MAPPING: dict[str, str] = {
    "id": "id", "text": "text", "turns": "turns", "created_at": "time", "channel": "channel",
    "industry": "industry", "product": "product", "store": "store", "score": "score", "rating": "rating",
    "duration_s": "duration_s", "survey": "survey", "question": "question", "respondent": "respondent",
    "platform": "platform", "agent": "agent",
}
INPUT_COLUMNS: tuple[str, ...] = ("source", *FRAME_MAPPING, "meta")

# Every output column with its Arrow type: the Spark schema and the Parquet files follow this.
OUTPUT_COLUMNS: dict[str, str] = {
    "row": "int64",  # the input's row number (its ``row`` column, else the position in the frame)
    "status": "string",  # "ok" or "rejected"
    "reason": "string",  # why a row was rejected (PII-masked); null for "ok"
    "id": "string",
    "source": "string",
    "external_id": "string",
    "text": "string",
    "text_original": "string",
    "created_at": "timestamp",
    "channel": "string",
    "industry": "string",
    "product": "string",
    "store": "string",
    "meta": "string",  # JSON object
    "turns": "string",  # JSON list of {"role", "text"}
    "tokens": "string",  # space-joined
    "search_terms": "string",  # space-joined
    "pii": "string",  # JSON list of [type, start, end, masked_start, masked_end]
    "minhash": "binary",
    "sentiment_label": "string",
    "sentiment_score": "double",
    "analysis": "string",  # JSON object
    "topic_id": "int64",
    "topic_label": "string",
}


@dataclass(slots=True)
class RowInput:
    """One incoming row: ``values`` by column, ``mapping`` from columns to canonical fields (unmapped
    columns go to ``meta.extra``), and ``extra`` metadata that arrived apart from the row."""

    source: str
    values: dict[str, Any]
    mapping: Mapping[str, str]
    extra: dict[str, Any] | None = None


class Analyser:
    """Validation and the pipeline for a batch of rows; one per process (models load once)."""

    def __init__(self, settings: VocSettings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline or Pipeline.from_settings(settings)
        masker = next((s.masker for s in self.pipeline.stages if getattr(s, "masker", None)), None)
        self.mask: Callable[[str], str] = (lambda text: masker.mask(text)[0]) if masker else (lambda t: t)

    def documents(self, rows: Sequence[RowInput]) -> list[Document | RowRejected]:
        """Each row's analysed document, or why it was rejected (the reason PII-masked), in order."""
        out: list[Document | RowRejected | None] = []
        built: list[tuple[int, Document]] = []
        for row in rows:
            try:
                built.append((len(out), self._document(row)))
                out.append(None)  # the document, once the pipeline has run on the whole batch
            except RowRejected as exc:
                out.append(RowRejected(self.mask(str(exc))))  # reasons may quote a value
        if built:
            for (position, _), doc in zip(built, self.pipeline([doc for _, doc in built]), strict=True):
                out[position] = doc
        return [item for item in out if item is not None]

    def _document(self, row: RowInput) -> Document:
        if row.source not in SOURCE_KINDS:
            raise RowRejected(f"unknown source {row.source!r}; use one of {', '.join(SOURCE_KINDS)}")
        doc = build_document(row.source, row.values, row.mapping, max_chars=self.settings.max_text_chars)
        if row.extra:
            doc.meta["extra"] = row.extra  # masked with the rest of meta by the pipeline
        return doc

    def analyse_frame(self, frame: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
        import pandas as pd

        unknown = [str(c) for c in frame.columns if c not in INPUT_COLUMNS and c != "row"]
        if unknown:
            raise ValueError(f"unknown input columns {unknown}; expected some of {list(INPUT_COLUMNS)}")
        if "source" not in frame.columns and source is None:
            raise ValueError("the frame has no source column: give source= (survey, hotline or review)")
        inputs: list[RowInput | RowRejected] = []
        positions = frame["row"].tolist() if "row" in frame.columns else range(len(frame))
        for record in frame.drop(columns=["row"], errors="ignore").to_dict("records"):
            try:
                inputs.append(frame_row(record, source))
            except RowRejected as exc:
                inputs.append(RowRejected(self.mask(str(exc))))
        valid = [row for row in inputs if isinstance(row, RowInput)]
        results = iter(self.documents(valid))
        rows: list[dict[str, Any]] = []
        for position, item in zip(positions, inputs, strict=True):
            result = next(results) if isinstance(item, RowInput) else item
            # A rejected row's source only when it is a known kind: anything else is unchecked input.
            row_source = item.source if isinstance(item, RowInput) and item.source in SOURCE_KINDS else None
            if isinstance(result, Document):
                rows.append(output_row(position, result))
            else:
                rows.append({"row": position, "status": "rejected", "reason": str(result), "source": row_source})
        return output_frame(rows, pd)


def frame_row(record: dict[str, Any], source: str | None) -> RowInput:
    """A frame's row as a RowInput: missing values (None, NaN, NaT) dropped, numpy and pandas scalars
    made plain Python, every string cleaned like a file's cells."""
    values = {name: plain(value) for name, value in record.items()}
    row_source = values.pop("source", None) or source
    meta = values.pop("meta", None)
    if isinstance(meta, str) and not meta.strip():
        meta = None  # an empty cell
    extra: dict[str, Any] | None = None
    try:
        if isinstance(meta, str):
            try:
                meta = json.loads(meta)
            except json.JSONDecodeError as exc:
                raise RowRejected("meta is not a JSON object") from exc
        if meta is not None and not isinstance(meta, dict):
            raise RowRejected(f"meta must be an object, got a {type(meta).__name__}")
        extra = clean_record({k: v for k, v in meta.items() if v is not None}) if meta else None
        values = {name: clean_json_value(value) for name, value in values.items() if value is not None}
    except FieldProblem as exc:
        raise RowRejected(str(exc)) from None
    return RowInput(str(row_source or ""), values, FRAME_MAPPING, extra or None)


def plain(value: Any) -> Any:
    """A value from pandas/Arrow as plain Python; missing values as None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT included)
        return None if value != value else value.to_pydatetime()
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):  # numpy scalars and arrays (Arrow lists)
        return plain_nested(value.tolist())
    if isinstance(value, dict | list):
        return plain_nested(value)
    return value


def plain_nested(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: plain_nested(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_nested(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return plain_nested(value.tolist())
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def output_row(position: int, doc: Document) -> dict[str, Any]:
    """A document as an output row: the store row's fields, flat and JSON-encoded."""
    return {
        "row": position, "status": "ok", "reason": None,
        "id": doc.id, "source": doc.source, "external_id": doc.external_id, "text": doc.text,
        "text_original": doc.text_original, "created_at": doc.created_at, "channel": doc.channel,
        "industry": doc.industry, "product": doc.product, "store": doc.store, "meta": _json(doc.meta),
        "turns": _json([{"role": t.role, "text": t.text} for t in doc.turns]),
        "tokens": " ".join(doc.tokens), "search_terms": " ".join(doc.search_terms),
        "pii": _json([[s.type, s.start, s.end, s.masked_start, s.masked_end] for s in doc.pii]),
        "minhash": doc.minhash, "sentiment_label": doc.sentiment_label, "sentiment_score": doc.sentiment_score,
        "analysis": _json(doc.analysis), "topic_id": doc.topic_id, "topic_label": doc.topic_label,
    }


def output_frame(rows: list[dict[str, Any]], pd: Any) -> pd.DataFrame:
    """Rows as a frame with OUTPUT_COLUMNS' types (nullable integers, timestamps) whatever is missing."""
    frame = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
    for name, kind in OUTPUT_COLUMNS.items():
        if kind == "int64":
            frame[name] = frame[name].astype("Int64")
        elif kind == "double":
            frame[name] = frame[name].astype("float64")
        elif kind == "timestamp":
            frame[name] = pd.to_datetime(frame[name])
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def document_from_output(row: Mapping[str, Any]) -> Document:
    """An "ok" output row back as the Document it was made from (to store it or index it)."""
    created = plain(row.get("created_at"))
    topic_id = plain(row.get("topic_id"))
    score = plain(row.get("sentiment_score"))
    return Document(
        id=row["id"], source=row["source"], text=row["text"], text_original=row["text_original"],
        external_id=plain(row.get("external_id")), created_at=created,
        channel=plain(row.get("channel")), industry=plain(row.get("industry")),
        product=plain(row.get("product")), store=plain(row.get("store")),
        meta=json.loads(row["meta"]), turns=[Turn(**turn) for turn in json.loads(row["turns"])],
        tokens=row["tokens"].split() if row["tokens"] else [],
        search_terms=row["search_terms"].split() if row["search_terms"] else [],
        pii=[PiiSpan(*span) for span in json.loads(row["pii"])],
        minhash=bytes(row["minhash"]) if plain(row.get("minhash")) is not None else None,
        near_duplicate_of=plain(row.get("near_duplicate_of")),
        sentiment_label=plain(row.get("sentiment_label")),
        sentiment_score=float(score) if score is not None else None,
        analysis=json.loads(row["analysis"]),
        topic_id=int(topic_id) if topic_id is not None else None, topic_label=plain(row.get("topic_label")),
    )


_analysers: dict[str, Analyser] = {}


def analyser_for(settings: VocSettings) -> Analyser:
    """This process's analyser for these settings: the models load once per process (a Spark executor's
    Python worker runs many batches), and a change of settings gets its own."""
    key = hashlib.blake2b(settings.model_dump_json().encode(), digest_size=16).hexdigest()
    analyser = _analysers.get(key)
    if analyser is None:
        analyser = _analysers[key] = Analyser(settings)
    return analyser


def analyse_frame(frame: pd.DataFrame, settings: VocSettings | None = None, *,
                  source: str | None = None) -> pd.DataFrame:
    """Analyse a DataFrame of documents (columns: see the module docstring); returns OUTPUT_COLUMNS,
    one row per input row, rejected rows with ``status`` "rejected" and their reason."""
    return analyser_for(settings or VocSettings()).analyse_frame(frame, source)
