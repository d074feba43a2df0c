"""A Spark session set up for voc: the executors' Python is this interpreter, Java 17, UTC, Arrow on.

Everything here is a default a cluster's own configuration may override (``--conf`` / spark-defaults):
voc only sets what its jobs depend on (UTC timestamps, Arrow batches) and small local settings.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JAVA_CANDIDATES = ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-arm64",
                   "/usr/lib/jvm/java-17-openjdk", "/usr/lib/jvm/temurin-17-jdk-amd64")


class SparkUnavailable(RuntimeError):
    """pyspark is not installed or no Java runtime was found; the message says what to install."""


def find_java_home() -> str | None:
    """JAVA_HOME if set, else a Java 17 in the usual Debian/Temurin places (pyspark 3.5 runs on 8/11/17)."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    return next((path for path in JAVA_CANDIDATES if (Path(path) / "bin" / "java").exists()), None)


def spark_session(master: str | None = "local[2]", app_name: str = "voc", *, hive: bool = False,
                  shuffle_partitions: int | None = None, arrow_batch_rows: int = 2000,
                  progress: bool = True) -> SparkSession:
    """Get or create the session. ``master`` None leaves it to spark-submit (``--master yarn`` …)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable("pyspark is not installed: pip install 'voc[spark]'") from exc
    # Workers otherwise start whatever `python3` is first on the PATH, which lacks voc and its models.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    java_home = find_java_home()
    if java_home is None:
        raise SparkUnavailable("no Java runtime found: install Java 17 (openjdk-17-jre-headless) or set JAVA_HOME")
    os.environ.setdefault("JAVA_HOME", java_home)
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    local = bool(master and master.startswith("local"))
    partitions = shuffle_partitions or (2 if local else None)
    if partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    if local:
        scratch = Path(tempfile.gettempdir()) / "voc-spark"
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.local.dir", str(scratch))
                   .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
                   .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch / 'derby'}"))
    builder = (builder.config("spark.sql.session.timeZone", "UTC")  # voc's datetimes are naive UTC
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(arrow_batch_rows))
               .config("spark.ui.showConsoleProgress", str(progress).lower())  # Spark's own progress bar
               .config("spark.python.worker.reuse", "true"))  # a worker keeps its loaded models
    if hive:
        builder = builder.enableHiveSupport()
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
