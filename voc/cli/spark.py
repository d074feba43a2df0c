"""`voc spark analyse|load|index`: the pipeline over data that lives in Parquet, files or Hive, on PySpark."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, open_service

spark_app = typer.Typer(help="Analyse history on Spark (local[N], YARN, Kubernetes); load or index the result.",
                        no_args_is_help=True)

MasterOpt = Annotated[str | None, typer.Option(
    "--master", help="Spark master: local[2] (default), yarn, k8s://…; 'submit' leaves it to spark-submit.")]


def _session(master: str | None, *, hive: bool = False) -> Any:
    from voc.spark.session import SparkUnavailable, spark_session

    try:
        return spark_session(None if master == "submit" else master or "local[2]", "voc", hive=hive)
    except SparkUnavailable as exc:
        raise common.fail(str(exc)) from None


@contextmanager
def _spark_errors() -> Iterator[None]:
    """Bad input as one line and exit code 2: our checks' messages, and Spark's for a table or path it
    cannot find (its first line says which)."""
    from pyspark.errors import AnalysisException

    try:
        yield
    except ValueError as exc:
        raise common.fail(str(exc)) from None
    except AnalysisException as exc:
        raise common.fail(str(exc).splitlines()[0]) from None


def _done(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(report)
        return
    common.console.print("  ".join(f"[bold]{key}[/] {value}" for key, value in report.items()), highlight=False)


@spark_app.command("analyse")
@spark_app.command("analyze", hidden=True)
def analyse_command(
    input_path: Annotated[str, typer.Option("--input", help="A CSV, JSON-lines or Parquet file or folder, "
                                                            "or a Hive table name (db.table).")],
    output: Annotated[str, typer.Option("--output", help="Parquet output folder (replaced): by day and source.")],
    master: MasterOpt = None,
    source: Annotated[str | None, typer.Option("--source", help="survey, hotline or review for rows without "
                                                                 "a source column.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, json, parquet or table (default: from "
                                                               "the name).")] = None,
    partitions: Annotated[int | None, typer.Option("--partitions", min=1, help="Spread the input over this many "
                                                   "tasks (default: at least two per core).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Normalise, mask PII, tokenise, fingerprint, sentiment and topics for every row (the batch function
    `analyse_frame` on the executors), flag near-duplicates, write partitioned Parquet."""
    from voc.spark.analysis import analyse, input_format

    service = open_service()
    try:
        kind = input_format(input_path, fmt)
    except ValueError as exc:
        raise common.fail(str(exc)) from None
    spark = _session(master, hive=kind == "table")
    with _spark_errors():
        report = analyse(spark, input_path, output, service.settings, source=source, fmt=kind,
                         partitions=partitions)
    _done(report.to_dict(), as_json)


@spark_app.command("load")
def load_command(
    output: Annotated[str, typer.Option("--input", help="The Parquet folder `voc spark analyse` wrote.")],
    master: MasterOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy analysed documents into the voc store (VOC_DATABASE_URL); documents already there are skipped."""
    from voc.spark.sinks import load

    service = open_service()
    spark = _session(master)
    with _spark_errors():
        report = load(spark, output, service.settings)
    _done(report.to_dict(), as_json)


@spark_app.command("index")
def index_command(
    output: Annotated[str, typer.Option("--input", help="The Parquet folder `voc spark analyse` wrote.")],
    master: MasterOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Index analysed documents from the executors into the search backend (VOC_INDEX, VOC_ES_URL)."""
    from voc.spark.sinks import index

    service = open_service()
    spark = _session(master)
    with _spark_errors():
        report = index(spark, output, service.settings)
    _done(report.to_dict(), as_json)
    if report.failed:
        raise common.fail(f"{report.failed} documents were not indexed: {'; '.join(report.errors)}", code=1)
