"""Writes into the pipeline's Delta tables that are safe to repeat, shared by batch and streaming.

A key's row is replaced only by a later delivery that differs from it, so merging the same rows
again (a micro-batch replayed after a crash, a duplicate delivery) rewrites nothing. The merges
are Delta SQL, which runs the same in a local session, behind Spark Connect and on Databricks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from pinpipe import lake_files
from pinpipe.config import Settings

KEY = "ind"


@dataclass(frozen=True)
class Written:
    """Rows a write added and replaced, from the write's own metrics (no pass to count them)."""

    inserted: int = 0
    updated: int = 0


def last_write(spark: SparkSession, path: str) -> Written:
    """What the table's latest commit wrote, from its operation metrics in the Delta log."""
    commit = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()
    metrics = (commit["operationMetrics"] if commit else None) or {}
    return Written(inserted=int(metrics.get("numOutputRows", 0)))


def ensure_table(
    spark: SparkSession,
    s: Settings,
    path: str,
    schema: StructType,
    partition_by: str = "",
    properties: dict[str, str] | None = None,
) -> None:
    """Create the empty Delta table at ``path`` unless it is there, and give it ``properties``
    (a table made before they were chosen gets them too)."""
    if not lake_files.is_delta_table(s, path):
        writer = spark.createDataFrame([], schema).write.format("delta")
        if partition_by:
            writer = writer.partitionBy(partition_by)
        writer.mode("append").save(path)
    if not properties:
        return
    held = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES delta.`{path}`").collect()}
    missing = {k: v for k, v in properties.items() if held.get(k) != v}
    if missing:
        listed = ", ".join(f"'{k}' = '{v}'" for k, v in missing.items())
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({listed})")


def _merge(rows: DataFrame, path: str, statement: str) -> Written:
    """Run ``MERGE INTO <path> t USING <rows> s <statement>``; its result row holds its counts."""
    view = f"pinpipe_rows_{uuid.uuid4().hex}"
    rows.createOrReplaceTempView(view)
    try:
        result = rows.sparkSession.sql(
            f"MERGE INTO delta.`{path}` t USING {view} s {statement}"
        ).first()
    finally:
        rows.sparkSession.catalog.dropTempView(view)
    if result is None:
        return Written()
    return Written(int(result["num_inserted_rows"]), int(result["num_updated_rows"]))


def upsert_latest(rows: DataFrame, path: str) -> Written:
    """Merge ``rows`` (one per key, later than what the table holds) into the table at ``path``:
    new keys are inserted, a key whose row differs gets the new row."""
    differs = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in rows.columns if c != KEY)
    return _merge(
        rows,
        path,
        f"ON t.{KEY} = s.{KEY} WHEN MATCHED AND ({differs}) THEN UPDATE SET * "
        "WHEN NOT MATCHED THEN INSERT *",
    )


def insert_new_quarantine(rejected: DataFrame, path: str, table: str) -> Written:
    """Add quarantined records not in the table yet (by where each came from) to the shared
    quarantine table, partitioned by source table."""
    return _merge(
        rejected,
        path,
        f"ON t.source_table = '{table}' AND t.source = s.source WHEN NOT MATCHED THEN INSERT *",
    )


def replace_quarantine(rejected: DataFrame, path: str, table: str) -> None:
    """The table's part of the shared quarantine table becomes ``rejected`` (a rebuild)."""
    (
        rejected.write.format("delta").mode("overwrite")
        .option("replaceWhere", f"source_table = '{table}'")
        .save(path)
    )  # fmt: skip
