"""`voc spark analyse`: read CSV / JSON lines / Parquet or a Hive table, run the batch function on the
executors (`mapInPandas`), flag near-duplicates with a MinHash band join, write Parquet by day and source.

The output holds one row per document (an id seen twice is written once, as the store would keep it),
with every column of `voc.ingest.frame.OUTPUT_COLUMNS` but ``status`` and ``reason``, plus
``near_duplicate_of``; partition columns ``day`` (``yyyy-MM-dd`` of ``created_at`` in UTC, ``undated``
without one) and ``source``. Rejected rows go to ``<output>/_rejected`` (row, source, reason), which Spark
and pyarrow skip when they read the output folder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voc.ingest.frame import INPUT_COLUMNS, OUTPUT_COLUMNS, analyse_frame
from voc.settings import VocSettings
from voc.spark.dedupe import band_columns, near_duplicates
from voc.spark.schema import analysed_schema

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

FORMATS = ("csv", "json", "parquet", "table")
_SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json", ".parquet": "parquet",
             ".pq": "parquet"}
REJECTED_DIR = "_rejected"
DOCUMENT_COLUMNS = [name for name in OUTPUT_COLUMNS if name not in ("status", "reason")]


@dataclass(slots=True)
class AnalyseReport:
    rows: int = 0
    documents: int = 0
    duplicates: int = 0  # rows whose id another row already has (the same document twice)
    rejected: int = 0
    near_duplicates: int = 0
    seconds: float = 0.0
    output: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def input_format(source: str, fmt: str | None) -> str:
    """The reader for ``source``: given, else from the file suffix; a folder is Parquet; a name that is
    no path is a table."""
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    path = Path(source)
    remote = "://" in source  # hdfs://, s3a://, abfss://: Spark reads it; nothing to check here
    if not remote and not path.exists() and (path.suffix.lower() in _SUFFIXES or "/" in source or "\\" in source):
        raise ValueError(f"{source} does not exist")
    if path.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[path.suffix.lower()]
    if remote or path.is_dir():
        return "parquet"
    if path.exists():
        raise ValueError(f"cannot tell the format of {source}; give --format ({', '.join(FORMATS)})")
    return "table"


def read_input(spark: SparkSession, source: str, fmt: str | None = None) -> DataFrame:
    kind = input_format(source, fmt)
    if kind == "csv":
        # every cell a string, as `voc ingest` reads a CSV; quoted cells may span lines
        return (spark.read.option("header", True).option("multiLine", True).option("escape", '"')
                .option("encoding", "UTF-8").csv(source))
    if kind == "json":
        return spark.read.json(source)  # JSON lines
    if kind == "parquet":
        return spark.read.parquet(source)
    return spark.table(source)


def prepare_input(frame: DataFrame, source: str | None, partitions: int | None = None) -> DataFrame:
    """Check the columns before any work, fill a missing source, number the rows, spread the rows over
    ``partitions`` tasks (default: at least two per core)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    unknown = [name for name in frame.columns if name not in INPUT_COLUMNS and name != "row"]
    if unknown:
        raise ValueError(f"unknown input columns {unknown}; expected some of {list(INPUT_COLUMNS)}")
    if not {"text", "turns"} & set(frame.columns):
        raise ValueError(f"no text column: the input has {frame.columns}; name it text (or turns for calls)")
    if "source" in frame.columns:
        if source:
            frame = frame.withColumn("source", F.coalesce(F.col("source"), F.lit(source)))
    elif source:
        frame = frame.withColumn("source", F.lit(source))
    else:
        raise ValueError("the input has no source column: give --source (survey, hotline or review)")
    # Nested values (hotline turns, meta objects read from JSON or Parquet) travel as JSON text, which
    # analyse_frame reads like a CSV cell; Arrow's nested types need no support on the executors then.
    for column in frame.schema.fields:
        if isinstance(column.dataType, T.ArrayType | T.MapType | T.StructType):
            frame = frame.withColumn(column.name, F.to_json(F.col(column.name)))
    if "row" not in frame.columns:
        # Spark's row id: partition-major and stable for the same input; names a rejected row
        frame = frame.withColumn("row", F.monotonically_increasing_id())
    if partitions:
        return frame.repartition(partitions) if frame.rdd.getNumPartitions() != partitions else frame
    # A file of a few MB is one partition, which one core would analyse alone: spread it over every core.
    parallelism = frame.sparkSession.sparkContext.defaultParallelism * 2
    if frame.rdd.getNumPartitions() < parallelism:
        frame = frame.repartition(parallelism)
    return frame


def analyse_batches(settings: VocSettings) -> Any:
    """The function `mapInPandas` runs on the executors: the batch function, plus the signature as
    integers and its band keys for the near-duplicate join."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            out = analyse_frame(batch, settings)
            yield band_columns(out)

    return run


def analyse(spark: SparkSession, source_path: str, output: str, settings: VocSettings, *,
            source: str | None = None, fmt: str | None = None, partitions: int | None = None) -> AnalyseReport:
    """Analyse ``source_path`` (a file, a folder or a table name) into ``output``, replacing what is there."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    started = time.perf_counter()
    frame = prepare_input(read_input(spark, source_path, fmt), source, partitions)
    analysed = frame.mapInPandas(analyse_batches(settings), schema=analysed_schema()).persist(
        StorageLevel.MEMORY_AND_DISK)
    try:
        counts = {row["status"]: row["count"] for row in analysed.groupBy("status").count().collect()}
        ok = analysed.where(F.col("status") == "ok").dropDuplicates(["id"])
        flagged = near_duplicates(ok, settings.near_duplicate_jaccard, settings.near_duplicate_window_days)
        documents = (ok.join(flagged, on="id", how="left")
                     .withColumn("day", F.coalesce(F.date_format("created_at", "yyyy-MM-dd"), F.lit("undated")))
                     .select(*DOCUMENT_COLUMNS, "near_duplicate_of", "day"))
        documents.write.partitionBy("day", "source").mode("overwrite").parquet(output)
        (analysed.where(F.col("status") == "rejected").select("row", "source", "reason")
         .write.mode("overwrite").parquet(str(Path(output) / REJECTED_DIR)))
        written = spark.read.parquet(output).select(F.col("near_duplicate_of").isNotNull().alias("flagged"))
        flags = {row["flagged"]: row["count"] for row in written.groupBy("flagged").count().collect()}
        document_count = sum(flags.values())
        report = AnalyseReport(
            rows=sum(counts.values()), documents=document_count, duplicates=counts.get("ok", 0) - document_count,
            rejected=counts.get("rejected", 0), near_duplicates=flags.get(True, 0), output=output)
    finally:
        analysed.unpersist()
    report.seconds = round(time.perf_counter() - started, 2)
    return report
