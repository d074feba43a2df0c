"""Spark schemas of the batch function's output (voc.ingest.frame.OUTPUT_COLUMNS) and the job's additions."""

from __future__ import annotations

from typing import Any

from voc.ingest.frame import OUTPUT_COLUMNS


def spark_type(kind: str) -> Any:
    from pyspark.sql import types as T

    return {"int64": T.LongType(), "string": T.StringType(), "timestamp": T.TimestampType(),
            "double": T.DoubleType(), "binary": T.BinaryType()}[kind]


def analysed_schema() -> Any:
    """OUTPUT_COLUMNS plus the MinHash signature as integers and its band keys (for the band join)."""
    from pyspark.sql import types as T

    fields = [T.StructField(name, spark_type(kind), True) for name, kind in OUTPUT_COLUMNS.items()]
    fields.append(T.StructField("signature", T.ArrayType(T.IntegerType()), True))
    fields.append(T.StructField("bands", T.ArrayType(T.LongType()), True))
    return T.StructType(fields)
