"""A Spark session for stage 1: local (``local[N]``) or a cluster (``spark://…``)."""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

ROCKSDB = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"


def java_home() -> str:
    """``JAVA_HOME``, or the machine's Java 17 (Spark 4 runs on 17 and 21); an error
    naming what is missing when there is neither."""
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return home
    for candidate in sorted(glob.glob("/usr/lib/jvm/*17*")):
        if Path(candidate, "bin", "java").exists():
            return candidate
    raise RuntimeError("JAVA_HOME: unset, and no Java 17 under /usr/lib/jvm (Spark needs one)")


def session(master: str, *, partitions: int, app: str = "detector-stage1") -> SparkSession:
    """A session on ``master`` whose Python workers run this interpreter.

    ``partitions`` is the number of shuffle partitions, which is also the number of
    state store partitions a checkpoint is created with: it cannot change for that
    checkpoint afterwards, so it should be the most cores the job will ever use.
    """
    os.environ["JAVA_HOME"] = java_home()
    # Workers import the detector: the same interpreter and environment as the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.streaming.stateStore.providerClass", ROCKSDB)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Small Arrow batches between the JVM and Python would cost a call each.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "20000")
    )
    if master.startswith("local"):
        # Only loopback: a laptop or CI runner may have no resolvable host name.
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
