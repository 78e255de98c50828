"""The one place where the Spark session is configured.

Locally: Spark in local mode with Delta Lake and S3A pointed at the lake's S3 endpoint, tuned
to start fast and run small jobs fast on a small machine; the stack's Spark Connect server runs
with the same configuration, and the jobs connect to it when the settings name it. On
Databricks a session already exists and is used as it is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pinpipe.aws_access import aws_access
from pinpipe.config import Settings
from pinpipe.errors import JobError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Small data, two cores: few shuffle partitions, no adaptive re-planning overhead, quick JIT.
LOCAL_CONF = {
    "spark.master": "local[2]",
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # C1 only starts fast; its default 48 MB code cache fills up in a long streaming run, and a
    # full cache turns the JIT off.
    "spark.driver.extraJavaOptions": (
        "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m "
        "-Duser.timezone=UTC"
    ),
    # A cleaned batch is cached once for its two outputs (silver and quarantine). Compressing the
    # cache costs more than the cache saves: filling it for 1M pins took 34 s compressed, 22 s
    # not (measured on 2 cores; the cache is dropped once the batch is written).
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "4",
    "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
    "spark.hadoop.fs.s3a.connection.maximum": "32",
    "spark.hadoop.fs.s3a.fast.upload": "true",
    # Delta's log on S3 needs an atomic put-if-absent; single writer in the sandbox.
    "spark.delta.logStore.s3a.impl": "io.delta.storage.S3SingleDriverLogStore",
}


# For a long-running Spark that serves small tables: Spark generates and compiles Java code for
# every query, and for Delta's own queries over its log, which costs more CPU than running the
# plans interpreted saves at this size (measured on 2 cores: the gold step over the demo's data in
# 2/3 of the time). `factoryMode` is marked internal, but it is the switch for expression code.
INTERPRETED_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


# For a Spark that runs streaming micro-batches of a few rows each, several queries at a time:
# one task per shuffle and per replay of a Delta log, so that the queries' small jobs do not
# queue for the two cores behind each other's near-empty tasks (measured on 2 cores with the
# three queries at 5 events/s: a micro-batch in 3.8 s instead of 4.9 s).
MICRO_BATCH_CONF = {
    **INTERPRETED_CONF,
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.databricks.delta.snapshotPartitions": "1",
}


def spark_jars(s: Settings) -> list[Path]:
    jars = sorted((s.build_dir / "jars" / "spark").glob("*.jar"))
    if not jars:
        raise JobError(f"no jars in {s.build_dir / 'jars' / 'spark'}: run `make setup`")
    return jars


def spark_conf(s: Settings) -> dict[str, str]:
    """Everything a local Spark of the pipeline is configured with: the jobs' own session, and
    the stack's Spark Connect server."""
    conf = {
        **LOCAL_CONF,
        **aws_access(s, "s3").spark_s3a_conf(),
        "spark.jars": ",".join(str(j) for j in spark_jars(s)),
        "spark.sql.warehouse.dir": str(s.state_dir / "spark-warehouse"),
    }
    conf["spark.driver.extraJavaOptions"] += f" -Dderby.system.home={s.state_dir / 'spark-derby'}"
    return conf


# Set on every Databricks cluster, where the runtime owns the session and its configuration.
DATABRICKS_RUNTIME_VARIABLE = "DATABRICKS_RUNTIME_VERSION"


def get_spark(
    s: Settings,
    app_name: str = "pinpipe",
    local: bool = False,
    extra_conf: dict[str, str] | None = None,
) -> SparkSession:
    """The active session if there is one (tests); on a Databricks cluster, the cluster's; else a
    session of the Spark Connect server the settings name (``endpoints.spark_connect``); else,
    or with ``local``, a Spark of this process's own, configured with ``extra_conf`` too."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if os.environ.get(DATABRICKS_RUNTIME_VARIABLE):
        return SparkSession.builder.getOrCreate()
    if s.endpoints.spark_connect and not local:
        return SparkSession.builder.remote(s.endpoints.spark_connect).getOrCreate()
    # Set by PySpark in a process that opened a Spark Connect session, and inherited by the
    # processes it starts (`up` warms the server up, then `demo` starts the streaming job): it
    # would make this local session a Connect one.
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(app_name)
    for key, value in {**spark_conf(s), **(extra_conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
