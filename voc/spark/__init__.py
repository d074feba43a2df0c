"""voc on PySpark (the ``spark`` extra): the batch function `voc.ingest.frame.analyse_frame` on executors.

    spark = spark_session("local[2]")
    analyse(spark, "reviews.parquet", "out/", settings)   # Parquet by day and source, near-duplicates flagged
    load(spark, "out/", settings)                         # into the voc store, idempotently
    index(spark, "out/", settings)                        # into Elasticsearch (or the embedded index)
"""

from voc.spark.analysis import AnalyseReport, analyse
from voc.spark.session import SparkUnavailable, spark_session
from voc.spark.sinks import IndexReport, LoadReport, index, load

__all__ = ["AnalyseReport", "IndexReport", "LoadReport", "SparkUnavailable", "analyse", "index", "load",
           "spark_session"]
