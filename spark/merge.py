"""Writes into the pipeline's Delta tables that are safe to repeat, shared by batch and streaming.

A key's row is replaced only by a later delivery that differs from it, so merging the same rows
again (a micro-batch replayed after a crash, a duplicate delivery) rewrites nothing.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

KEY = "ind"


def upsert_latest(rows: DataFrame, path: str) -> None:
    """Merge ``rows`` (one per key, later than what the table holds) into the table at ``path``:
    new keys are inserted, a key whose row differs gets the new row."""
    from delta.tables import DeltaTable

    spark = rows.sparkSession
    if not DeltaTable.isDeltaTable(spark, path):
        rows.write.format("delta").mode("append").save(path)
        return
    differs = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in rows.columns if c != KEY)
    (
        DeltaTable.forPath(spark, path).alias("t")
        .merge(rows.alias("s"), f"t.{KEY} = s.{KEY}")
        .whenMatchedUpdateAll(condition=differs)
        .whenNotMatchedInsertAll()
        .execute()
    )  # fmt: skip


def insert_new_quarantine(rejected: DataFrame, path: str, table: str) -> None:
    """Add quarantined records not in the table yet (by where each came from) to the shared
    quarantine table, partitioned by source table."""
    from delta.tables import DeltaTable

    spark = rejected.sparkSession
    if not DeltaTable.isDeltaTable(spark, path):
        rejected.write.format("delta").partitionBy("source_table").mode("append").save(path)
        return
    (
        DeltaTable.forPath(spark, path).alias("t")
        .merge(
            rejected.alias("s"),
            f"t.source_table = '{table}' AND t.source = s.source",
        )
        .whenNotMatchedInsertAll()
        .execute()
    )  # fmt: skip


def replace_quarantine(rejected: DataFrame, path: str, table: str) -> None:
    """The table's part of the shared quarantine table becomes ``rejected`` (a rebuild)."""
    from delta.tables import DeltaTable

    spark = rejected.sparkSession
    if not DeltaTable.isDeltaTable(spark, path):
        rejected.write.format("delta").partitionBy("source_table").save(path)
        return
    (
        rejected.write.format("delta").mode("overwrite")
        .option("replaceWhere", f"source_table = '{table}'")
        .save(path)
    )  # fmt: skip
