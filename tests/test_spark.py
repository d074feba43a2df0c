"""The PySpark runner on local[2]: `voc spark analyse` equals the single-node batch function row for row,
`spark load` stores the same documents (idempotently), `spark index` indexes one document per row.

One Spark session for the module (starting one takes seconds); the data is the varied sample of
tests/frame_samples.py plus near-duplicate pairs inside and outside the window.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pg_support
import pytest
from sqlalchemy import func, select

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'voc[spark]')")
pd = pytest.importorskip("pandas")

from typer.testing import CliRunner  # noqa: E402

from indexing.es_testing import node_connection, unique_prefix  # noqa: E402
from tests.frame_samples import sample_rows  # noqa: E402
from voc.cli.main import app  # noqa: E402
from voc.ingest.frame import analyse_frame, document_from_output  # noqa: E402
from voc.service import Voc  # noqa: E402
from voc.settings import VocSettings  # noqa: E402
from voc.spark import AnalyseReport, index, load, spark_session  # noqa: E402
from voc.store import ingest_runs, minhash_signatures  # noqa: E402

LONG = "这家店的外卖送得特别慢，等了一个多小时才到，饭菜都凉透了，客服电话也一直打不通，以后再也不会点了"


def _rows() -> list[dict[str, Any]]:
    rows = sample_rows(data_rows=8)
    rows += [
        {"source": "review", "text": LONG, "created_at": "2024-03-01 09:00", "store": "X"},
        # one character changed, a day later: a copy-paste of the first
        {"source": "review", "text": LONG.replace("特别", "非常"), "created_at": "2024-03-02 09:00", "store": "Y"},
        # the same copy 200 days later: outside the 90-day window
        {"source": "review", "text": LONG.replace("特别", "十分"), "created_at": "2024-09-17 09:00", "store": "Z"},
    ]
    return rows


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()}


@pytest.fixture(scope="module")
def spark() -> Any:
    session = spark_session("local[2]", "voc-tests", progress=False)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="module")
def settings(work: Path) -> VocSettings:
    return VocSettings(home=work / "home", workers=1)


@pytest.fixture(scope="module")
def rows(work: Path) -> list[dict[str, Any]]:
    return [_jsonable(row) for row in _rows()]


@pytest.fixture(scope="module")
def analysed(spark: Any, work: Path, settings: VocSettings, rows: list[dict[str, Any]]) -> tuple[Path, AnalyseReport]:
    """The sample through `voc spark analyse` (the CLI, in this process: it reuses the module's session)."""
    source = work / "input.jsonl"
    source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    output = work / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOC_HOME", str(settings.home))
        result = CliRunner().invoke(app, ["spark", "analyse", "--input", str(source), "--output", str(output),
                                          "--master", "local[2]", "--partitions", "1", "--json"])
    assert result.exit_code == 0, result.output
    return output, AnalyseReport(**json.loads(result.stdout))


def _documents(frame: Any) -> dict[str, dict[str, Any]]:
    docs = (document_from_output(row) for row in frame.to_dict("records"))
    return {doc.id: {k: v for k, v in dataclasses.asdict(doc).items() if k not in ("tags", "near_duplicate_of")}
            for doc in docs}


def test_analyse_equals_the_single_node_batch_function(analysed: tuple[Path, Any], rows: list[dict[str, Any]],
                                                        settings: VocSettings) -> None:
    output, report = analysed
    single = analyse_frame(pd.DataFrame(rows), settings)
    ok = single[single["status"] == "ok"]
    spark_rows = pd.read_parquet(output)
    assert len(spark_rows) == ok["id"].nunique() == report.documents  # one row per document
    assert report.rows == len(rows) and report.duplicates == len(ok) - ok["id"].nunique() == 1
    expected, got = _documents(ok.drop_duplicates("id")), _documents(spark_rows)
    assert set(got) == set(expected)
    for doc_id, fields in expected.items():
        assert {k: v for k, v in got[doc_id].items() if v != fields[k]} == {}, doc_id
    rejected = pd.read_parquet(output / "_rejected")
    assert sorted(rejected["reason"]) == sorted(single.loc[single["status"] == "rejected", "reason"])
    assert report.rejected == len(rejected) == 6
    # partitioned by day and source
    days = {path.name for path in output.iterdir() if path.name.startswith("day=")}
    assert {"day=2024-03-01", "day=undated"} <= days
    assert (output / "day=2024-03-01" / "source=review").is_dir()


def test_near_duplicates_join_within_the_window(analysed: tuple[Path, Any]) -> None:
    output, report = analysed
    frame = pd.read_parquet(output)
    by_store = {row["store"]: row for row in frame.to_dict("records") if row["store"] in ("X", "Y", "Z")}
    assert by_store["Y"]["near_duplicate_of"] == by_store["X"]["id"]
    assert by_store["X"]["near_duplicate_of"] is None  # the earlier one is the original
    assert by_store["Z"]["near_duplicate_of"] is None  # 200 days later: outside the window
    assert report.near_duplicates == frame["near_duplicate_of"].notna().sum() >= 1


def _mass_copies() -> tuple[list[tuple[str, datetime | None, str]], set[str], set[str]]:
    """(id, created_at, text) rows: 2,000 copies of one template and 20 variants x 50 of another within
    60 days (hour ties included), 200 unrelated texts; 300 copies of a third every 15 days over 450 days;
    100 undated copies of a fourth. Ids are shuffled against time. Returns the rows and the ids of the
    windowed and the undated families."""
    import random

    rng = random.Random(7)
    chars = "的一是不了人我在有他这为之大来以个中上们到说时地也子就道要出会可下你对生能而那得于着自己"
    template = LONG
    variant = "收到的快递外包装破损严重，里面的杯子碎了两个，联系卖家说要拍视频才给补发，订单"
    spread = "酒店前台办理入住排队四十多分钟，房间空调不制冷，投诉后经理只是道歉没有任何补偿措施"
    undated = "银行网点只开一个窗口，排队两个小时还没办完业务，工作人员态度冷漠，建议增加人手"
    start = datetime(2024, 1, 1)

    def hour() -> datetime:
        return start + timedelta(hours=rng.randrange(60 * 24))

    items: list[tuple[datetime | None, str, str]] = [(hour(), template, "a") for _ in range(2000)]
    items += [(hour(), f"{variant}{v:03d}号", "b") for v in range(20) for _ in range(50)]
    items += [(hour(), "".join(rng.choice(chars) for _ in range(40)), "u") for _ in range(200)]
    items += [(start + timedelta(days=15 * (k % 31)), spread, "c") for k in range(300)]
    items += [(None, undated, "d") for _ in range(100)]
    numbers = rng.sample(range(100_000), len(items))
    rows = [(f"m{n:05d}", at, text) for n, (at, text, _) in zip(numbers, items, strict=True)]
    windowed = {row[0] for row, item in zip(rows, items, strict=True) if item[2] == "c"}
    dateless = {row[0] for row, item in zip(rows, items, strict=True) if item[2] == "d"}
    return rows, windowed, dateless


def test_mass_copies_join_in_linear_size_with_the_single_node_result(spark: Any, settings: VocSettings) -> None:
    """Thousands of copies cost one row per distinct signature in the band join, and the flags are the
    single-node detector's (all within one window) or, across windows, the earliest copy in the window."""
    from voc.dedupe import NearDuplicateDetector
    from voc.documents import Document
    from voc.spark.dedupe import band_columns, candidate_pairs, near_duplicates, signature_groups, similar_groups
    from voc.text import minhash

    rows, windowed, dateless = _mass_copies()
    frame = pd.DataFrame({"minhash": [minhash.to_bytes(sig) for sig in minhash.signatures([r[2] for r in rows])]})
    frame = band_columns(frame)
    documents = spark.createDataFrame(
        [(doc_id, at, sig, keys) for (doc_id, at, _), sig, keys in zip(rows, frame["signature"], frame["bands"],
                                                                         strict=True)],
        schema="id string, created_at timestamp, signature array<int>, bands array<bigint>")
    threshold, window = settings.near_duplicate_jaccard, settings.near_duplicate_window_days
    _, groups = signature_groups(documents)
    assert groups.count() == 1 + 20 + 200 + 1 + 1  # one row per distinct signature
    assert candidate_pairs(groups).count() <= 20 * 19 // 2 + 50  # the variants' pairs and a few chance ones
    assert similar_groups(groups, threshold).count() <= 223 + 20 * 19
    got = {row["id"]: row["near_duplicate_of"] for row in near_duplicates(documents, threshold, window).collect()}

    in_window = sorted((r for r in rows if r[0] not in windowed | dateless), key=lambda r: (r[1], r[0]))
    docs = [Document(id=doc_id, source="review", text=text, text_original=text, created_at=at,
                     minhash=minhash.to_bytes(minhash.signature(text)))  # type: ignore[arg-type]
            for doc_id, at, text in in_window]
    NearDuplicateDetector(threshold, window).assign(docs, datetime(2024, 3, 1))
    expected = {doc.id: doc.near_duplicate_of for doc in docs if doc.near_duplicate_of}
    assert len(expected) == 1999 + 999
    # across windows: the earliest copy written at most `window` days before (ties by id)
    spread = sorted((r[1], r[0]) for r in rows if r[0] in windowed)
    for at, doc_id in spread:
        first = min(item for item in spread if item[0] >= at - timedelta(days=window))
        if first[1] != doc_id:
            expected[doc_id] = first[1]
    undated = sorted(r[0] for r in rows if r[0] in dateless)
    expected |= {doc_id: undated[0] for doc_id in undated[1:]}
    assert got == expected


def test_load_stores_the_same_documents_once(spark: Any, analysed: tuple[Path, Any], work: Path) -> None:
    output, report = analysed
    settings = VocSettings(home=work / "load", workers=1)
    first = load(spark, str(output), settings)
    again = load(spark, str(output), settings)
    assert (first.loaded, first.duplicates) == (report.documents, 0)
    assert (again.loaded, again.duplicates) == (0, report.documents)
    voc = Voc(settings)
    try:
        stored = {doc.id: doc for batch in voc.store.iter_documents() for doc in batch}
    finally:
        voc.close()
    frame = pd.read_parquet(output)
    assert set(stored) == set(frame["id"])
    for row in frame.to_dict("records"):
        expected = dataclasses.asdict(document_from_output(row))
        got = dataclasses.asdict(stored[row["id"]])
        assert {k: v for k, v in got.items() if k not in ("minhash", "tags") and v != expected[k]} == {}


def test_load_into_postgresql_once(spark: Any, analysed: tuple[Path, Any], work: Path) -> None:
    """`spark load` into a real PostgreSQL store (the executors write it concurrently), twice: the second
    run adds nothing; then `spark index` marks the PostgreSQL rows indexed."""
    node, why_not = pg_support.pg_node()
    if node is None:
        pytest.skip(why_not)
    output, report = analysed
    with pg_support.fresh_database(node) as url:
        settings = VocSettings(home=work / "pg", workers=1, database_url=url)
        first = load(spark, str(output), settings)
        again = load(spark, str(output), settings)
        assert (first.loaded, first.duplicates) == (report.documents, 0)
        assert (again.loaded, again.duplicates) == (0, report.documents)
        frame = pd.read_parquet(output)
        voc = Voc(settings)
        try:
            assert voc.store.engine.dialect.name == "postgresql"
            stored = {doc.id: doc for batch in voc.store.iter_documents() for doc in batch}
            assert set(stored) == set(frame["id"])
            for row in frame.to_dict("records"):
                expected = dataclasses.asdict(document_from_output(row))
                got = dataclasses.asdict(stored[row["id"]])
                assert {k: v for k, v in got.items() if k not in ("minhash", "tags") and v != expected[k]} == {}
            with voc.store.engine.connect() as conn:
                runs = conn.execute(select(ingest_runs.c.status, ingest_runs.c.accepted, ingest_runs.c.duplicates)
                                    .order_by(ingest_runs.c.id)).all()
                originals = conn.scalar(select(func.count()).select_from(minhash_signatures))
            assert [tuple(run) for run in runs] == [("done", report.documents, 0), ("done", 0, report.documents)]
            # one signature per original (a flagged copy joins no later ingest's window)
            assert originals == int((frame["minhash"].notna() & frame["near_duplicate_of"].isna()).sum()) > 0
            marked = index(spark, str(output), settings)
            assert marked.marked == report.documents and voc.store.unindexed_count() == 0
        finally:
            voc.close()


def test_index_count_equals_row_count(spark: Any, analysed: tuple[Path, Any], work: Path) -> None:
    output, report = analysed
    settings = VocSettings(home=work / "index", workers=1)
    result = index(spark, str(output), settings)
    assert (result.indexed, result.failed, result.marked) == (report.documents, 0, 0)  # nothing stored yet
    voc = Voc(settings)
    try:
        assert voc.index.count() == report.documents
    finally:
        voc.close()


def test_index_marks_the_stored_documents_indexed(spark: Any, analysed: tuple[Path, Any], work: Path) -> None:
    """Loaded, then indexed on Spark: `voc index sync` has nothing left to write."""
    output, report = analysed
    settings = VocSettings(home=work / "index-marks", workers=1)
    load(spark, str(output), settings)
    result = index(spark, str(output), settings)
    assert (result.indexed, result.failed, result.marked) == (report.documents, 0, report.documents)
    voc = Voc(settings)
    try:
        assert voc.store.unindexed_count() == 0
        assert voc.sync_index().indexed == 0
    finally:
        voc.close()


def test_index_into_elasticsearch(spark: Any, analysed: tuple[Path, Any], work: Path) -> None:
    connection, why_not = node_connection()
    if connection is None:
        pytest.skip(why_not)
    output, report = analysed
    settings = VocSettings(home=work / "es", workers=1, **_es_values(connection))
    result = index(spark, str(output), settings)
    voc = Voc(settings)
    try:
        assert (result.indexed, result.failed) == (report.documents, 0)
        assert voc.index.count() == report.documents
    finally:
        voc.index.drop()  # type: ignore[attr-defined]
        voc.close()


def test_index_into_elasticsearch_marks_only_what_it_took(spark: Any, analysed: tuple[Path, Any],
                                                          work: Path) -> None:
    """A document Elasticsearch refuses (an immense keyword term) stays unindexed in the store, as does a
    tagged one (the output has no tags); `voc index sync` then writes just those two."""
    from pyspark.sql import functions as F

    connection, why_not = node_connection()
    if connection is None:
        pytest.skip(why_not)
    output, report = analysed
    ids = sorted(pd.read_parquet(output)["id"])
    refused, tagged = ids[0], ids[1]
    changed = str(work / "es-marks-input")
    (spark.read.parquet(str(output))  # the store name past Lucene's 32,766-byte term limit
     .withColumn("store", F.when(F.col("id") == refused, F.lit("店" * 12_000)).otherwise(F.col("store")))
     .write.mode("overwrite").parquet(changed))
    settings = VocSettings(home=work / "es-marks", workers=1, **_es_values(connection))
    load(spark, changed, settings)
    voc = Voc(settings)
    try:
        assert voc.store.add_tag("复核", [tagged]) == [tagged]
        result = index(spark, changed, settings)
        assert (result.indexed, result.failed, result.marked) == (report.documents - 1, 1, report.documents - 2)
        assert "immense term" in result.errors[0] or "max_bytes_length" in result.errors[0], result.errors
        assert voc.store.unindexed_count() == 2
        synced = voc.sync_index()
        assert synced.indexed == 1 and set(synced.errors) == {refused} and synced.pending == 1
        assert voc.index.count() == report.documents - 1
    finally:
        voc.index.drop()  # type: ignore[attr-defined]
        voc.close()


def _es_values(connection: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"index": "elasticsearch", "es_url": connection.url, "es_index_prefix": unique_prefix()}
    if connection.username:
        values |= {"es_username": connection.username, "es_password": connection.password}
    if connection.api_key:
        values["es_api_key"] = connection.api_key
    return values


def test_cli_rejects_bad_input_before_any_work(spark: Any, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_HOME", str(work / "cli"))
    runner = CliRunner()
    bad = work / "bad.csv"
    bad.write_text("txet,rating\n好,5\n", encoding="utf-8")
    result = runner.invoke(app, ["spark", "analyse", "--input", str(bad), "--output", str(work / "bad-out"),
                                 "--source", "review"])
    assert result.exit_code == 2 and "unknown input columns ['txet']" in result.output
    result = runner.invoke(app, ["spark", "analyse", "--input", str(work / "missing.csv"), "--output",
                                 str(work / "bad-out")])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not (work / "bad-out").exists()
    result = runner.invoke(app, ["spark", "load", "--input", str(work / "never-written")])
    assert result.exit_code == 2 and "does not exist" in result.output.lower()


def test_input_format_from_the_name(tmp_path: Path) -> None:
    from voc.spark.analysis import input_format

    (tmp_path / "a.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "parts").mkdir()
    (tmp_path / "export.txt").write_text("x", encoding="utf-8")
    assert input_format(str(tmp_path / "a.jsonl"), None) == "json"
    assert input_format(str(tmp_path / "parts"), None) == "parquet"  # a folder of part files
    assert input_format("ods.customer_reviews", None) == "table"  # no such path: a Hive table
    assert input_format("hdfs:///voc/in.csv", None) == "csv"  # remote: Spark reads it, nothing checked here
    assert input_format(str(tmp_path / "export.txt"), "csv") == "csv"
    with pytest.raises(ValueError, match="does not exist"):
        input_format(str(tmp_path / "missing.parquet"), None)
    with pytest.raises(ValueError, match="cannot tell the format"):
        input_format(str(tmp_path / "export.txt"), None)
    with pytest.raises(ValueError, match="unknown format 'xlsx'"):
        input_format(str(tmp_path / "a.jsonl"), "xlsx")
