"""The batch pipeline: landed JSON -> silver Delta tables (+ quarantine) -> gold Delta tables.

Each step reads everything landed so far and overwrites its outputs, so a re-run over the same
input gives the same tables and a run over new input includes it. Steps:

    python -m pinpipe.spark.batch.job clean --table pin     # one silver table
    python -m pinpipe.spark.batch.job analytics             # the nine gold tables
    python -m pinpipe.spark.batch.job all                   # everything, in one session

The same file runs on Databricks (as a Python task with these parameters) under the aws profile.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from pinpipe.config import Settings, load_settings
from pinpipe.contract import (
    BY_SHORT,
    JOIN_YEARS,
    POST_YEARS,
    parse_year_range,
    year_range_text,
)
from pinpipe.spark import lake
from pinpipe.spark.batch import analytics, clean, landed
from pinpipe.spark.session import get_spark


def write_table(df: DataFrame, path: str, replace_where: str | None = None) -> None:
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if replace_where:
        writer = writer.option("replaceWhere", replace_where).option("overwriteSchema", "false")
    writer.save(path)


def read_table(spark: SparkSession, s: Settings, name: str) -> DataFrame:
    return spark.read.format("delta").load(lake.table_path(s, name))


def clean_table(spark: SparkSession, s: Settings, table: str) -> dict[str, Any]:
    """Landed records of one topic -> its silver table; unparseable ones -> quarantine."""
    raw = landed.read_landed(spark, lake.landed_topic(s, table)).cache()
    silver, rejected = clean.clean(raw, BY_SHORT[table])
    write_table(silver, lake.table_path(s, table))
    quarantine_path = lake.table_path(s, lake.QUARANTINE)
    if landed.path_exists(spark, quarantine_path):
        write_table(rejected, quarantine_path, replace_where=f"source_table = '{table}'")
    else:
        rejected.write.format("delta").partitionBy("source_table").save(quarantine_path)
    summary = {
        "landed": raw.count(),
        "silver": read_table(spark, s, table).count(),
        "quarantined": read_table(spark, s, lake.QUARANTINE)
        .where(f"source_table = '{table}'")
        .count(),
    }
    raw.unpersist()
    return summary


def run_analytics(spark: SparkSession, s: Settings, years: analytics.YearRanges) -> dict[str, int]:
    pin, geo, user = (read_table(spark, s, t).cache() for t in lake.SILVER)
    rows = {}
    for name, df in analytics.gold_tables(pin, geo, user, years).items():
        write_table(df, lake.table_path(s, name))
        rows[name] = read_table(spark, s, name).count()
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="pinpipe.spark.batch.job",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("step", choices=["clean", "analytics", "all"])
    parser.add_argument(
        "--table", choices=list(lake.SILVER), help="for clean: one table (default all)"
    )
    parser.add_argument(
        "--post-years", default=year_range_text(POST_YEARS), help="year range of posts (gold)"
    )
    parser.add_argument(
        "--join-years", default=year_range_text(JOIN_YEARS), help="year range of joins (gold)"
    )
    parser.add_argument("--summary-file", help="also write the step's summary as JSON here")
    parser.add_argument("--uid", default="", help="pipeline user id (default: the configured one)")
    args = parser.parse_args(argv)

    s = load_settings(**({"uid": args.uid} if args.uid else {}))
    spark = get_spark(s, f"pinpipe-batch-{args.step}")
    summary: dict[str, Any] = {"step": args.step}
    t0 = time.monotonic()
    if args.step in ("clean", "all"):
        tables = [args.table] if args.table else list(lake.SILVER)
        summary["clean"] = {t: clean_table(spark, s, t) for t in tables}
    if args.step in ("analytics", "all"):
        ranges = analytics.YearRanges(
            posts=parse_year_range(args.post_years), joins=parse_year_range(args.join_years)
        )
        summary["gold"] = run_analytics(spark, s, ranges)
    summary["seconds"] = round(time.monotonic() - t0, 1)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.summary_file:
        with open(args.summary_file, "w") as f:
            f.write(text)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
