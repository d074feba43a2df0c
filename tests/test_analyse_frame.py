"""The one batch function: `analyse_frame` equals the single-document path field by field, and the file
ingest and the API's record ingest store exactly what it returns."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

pd = pytest.importorskip("pandas", reason="analyse_frame needs pandas (the spark extra installs it)")

from tests.frame_samples import FRAME_TO_CANONICAL, reference_document, sample_rows  # noqa: E402
from voc.documents import Document  # noqa: E402
from voc.ingest.batch import RecordItem  # noqa: E402
from voc.ingest.frame import OUTPUT_COLUMNS, Analyser, analyse_frame, analyser_for, document_from_output  # noqa: E402
from voc.pipeline import Pipeline  # noqa: E402
from voc.service import Voc  # noqa: E402
from voc.settings import VocSettings  # noqa: E402


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> VocSettings:
    return VocSettings(home=tmp_path_factory.mktemp("frame") / "home", workers=1)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return sample_rows()


@pytest.fixture(scope="module")
def output(rows: list[dict[str, Any]], module_settings: VocSettings) -> pd.DataFrame:
    return analyse_frame(pd.DataFrame(rows), module_settings)


def _comparable(doc: Document, *leave_out: str) -> dict[str, Any]:
    data = dataclasses.asdict(doc)
    for name in ("tags", *leave_out):
        data.pop(name)
    return data


def test_each_row_equals_the_single_document_path(rows: list[dict[str, Any]], output: pd.DataFrame,
                                                  module_settings: VocSettings) -> None:
    pipeline = Pipeline.from_settings(module_settings)
    assert list(output.columns) == list(OUTPUT_COLUMNS)
    assert output["row"].tolist() == list(range(len(rows)))
    accepted = 0
    for row, out in zip(rows, output.to_dict("records"), strict=True):
        expected = reference_document(row, module_settings, pipeline)
        if isinstance(expected, str):
            assert out["status"] == "rejected", row
            assert expected in out["reason"]
            assert out["id"] is None
            continue
        accepted += 1
        assert out["status"] == "ok" and out["reason"] is None
        got = document_from_output(out)
        for name, value in _comparable(expected).items():  # field by field, so a failure names the field
            assert _comparable(got)[name] == value, (name, row)
    assert accepted >= 10
    assert (output["status"] == "rejected").sum() == 6


def test_output_is_analysed_and_masked(rows: list[dict[str, Any]], output: pd.DataFrame) -> None:
    ok = output[output["status"] == "ok"]
    first = ok.iloc[0]
    assert first["text"].startswith("快递太慢了") and "[手机号]" in first["text"]  # Traditional → Simplified
    assert first["text_original"].startswith("快遞太慢了") and "[手机号]" in first["text_original"]
    assert json.loads(first["pii"])[0][0] == "phone"
    assert first["sentiment_label"] in {"negative", "neutral", "positive"}
    assert "clauses" in json.loads(first["analysis"])["sentiment"]
    call = ok[ok["external_id"] == "call-1"].iloc[0]
    assert [turn["role"] for turn in json.loads(call["turns"])] == ["customer", "agent", "customer"]
    assert "登记维修" not in call["text"]  # the analysed text is the customer's turns
    assert json.loads(ok[ok["external_id"] == "r-2"].iloc[0]["meta"])["extra"]["订单邮箱"] == "[邮箱]"
    # the same text in two stores is two documents; the same row twice is one id
    good = ok[ok["text"] == "很好"]
    assert len(good) == 3 and good["id"].nunique() == 2
    # no raw PII value anywhere in the output
    raw_values = [row["text"].split("打")[-1] for row in rows[:1]]
    cells = " ".join(str(value) for value in output.drop(columns=["minhash"]).to_numpy().ravel())
    assert all(value not in cells for value in raw_values)


def test_missing_values_from_pandas_are_missing(module_settings: VocSettings) -> None:
    frame = pd.DataFrame({"text": ["还不错的一次购物体验", "物流很快"], "rating": [5, None],
                          "created_at": [pd.Timestamp("2024-01-02"), pd.NaT], "meta": [None, " "]})
    out = analyse_frame(frame, module_settings, source="review")
    assert out["status"].tolist() == ["ok", "ok"]
    assert json.loads(out.loc[1, "meta"]) == {} and json.loads(out.loc[0, "meta"]) == {"rating": 5.0}
    assert pd.isna(out.loc[1, "created_at"]) and out.loc[0, "created_at"] == pd.Timestamp("2024-01-02")


def test_bad_frames_get_a_clear_error(module_settings: VocSettings) -> None:
    with pytest.raises(ValueError, match=r"unknown input columns.*'txet'"):
        analyse_frame(pd.DataFrame({"txet": ["好"]}), module_settings, source="review")
    with pytest.raises(ValueError, match="no source column"):
        analyse_frame(pd.DataFrame({"text": ["好"]}), module_settings)


def test_models_load_once_per_process_and_settings(module_settings: VocSettings) -> None:
    assert analyser_for(module_settings) is analyser_for(module_settings.model_copy())
    other = module_settings.model_copy(update={"to_simplified": False})
    assert analyser_for(other) is not analyser_for(module_settings)
    assert isinstance(analyser_for(other), Analyser)


def _stored(voc: Voc) -> dict[str, dict[str, Any]]:
    docs = [doc for batch in voc.store.iter_documents() for doc in batch]
    return {doc.id: _comparable(doc, "minhash") for doc in docs}


def _expected(output: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """What the store should hold: each accepted id once; the signature lives in its own table."""
    ok = output[output["status"] == "ok"].drop_duplicates("id")
    return {row["id"]: _comparable(document_from_output(row), "minhash") for row in ok.to_dict("records")}


def test_file_ingest_and_api_ingest_store_what_analyse_frame_gives(tmp_path: Path, rows: list[dict[str, Any]],
                                                                    output: pd.DataFrame) -> None:
    columns = ["text", "store", "rating", "industry", "created_at", "channel", "product"]
    reviews = [row for row in rows if row["source"] == "review" and set(row) <= {"source", *columns}]
    path = tmp_path / "reviews.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: v for k, v in row.items() if k != "source"} for row in reviews)
    settings = VocSettings(home=tmp_path / "file", workers=1)
    frame_out = analyse_frame(pd.DataFrame(reviews), settings)
    voc = Voc(settings)
    try:
        voc.ingest(path, "review")
        stored = _stored(voc)
    finally:
        voc.close()
    expected = _expected(frame_out)
    assert set(stored) == set(expected) and len(stored) >= 10
    for doc_id, doc in stored.items():
        assert {k: v for k, v in doc.items() if v != expected[doc_id][k]} == {}

    calls = [row for row in rows if row["source"] == "hotline"][:3]
    api_settings = VocSettings(home=tmp_path / "api", workers=1)
    voc = Voc(api_settings)
    try:
        # the API's fields use the canonical names (time, not created_at)
        voc.ingest_records([RecordItem("hotline", {FRAME_TO_CANONICAL.get(k, k): v for k, v in row.items()
                                                   if k != "source"}) for row in calls])
        stored = _stored(voc)
    finally:
        voc.close()
    assert stored == _expected(analyse_frame(pd.DataFrame(calls), api_settings))
