"""The batch pipeline: landed JSON -> silver Delta tables (+ quarantine) -> gold Delta tables.

Cleaning reads only the objects landed since the last run and merges them into the silver
tables; gold is derived from counts of silver's rows, updated by the rows that changed
(``--full`` reads everything again and rebuilds the tables and the counts).
One run at a time writes a pipeline user's tables: a second one waits for the first. Steps:

    python -m pinpipe.spark.batch.job clean --table pin     # one silver table
    python -m pinpipe.spark.batch.job analytics             # the nine gold tables
    python -m pinpipe.spark.batch.job all                   # everything, in one session
    python -m pinpipe.spark.batch.job all --full            # rebuild from every landed object

The same file runs on Databricks (as a Python task with these parameters) under the aws profile.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from pinpipe import lake_files, writer_lock
from pinpipe.config import Settings, load_settings
from pinpipe.contract import (
    BY_SHORT,
    JOIN_YEARS,
    POST_YEARS,
    parse_year_range,
    year_range_text,
)
from pinpipe.spark import lake, merge
from pinpipe.spark.batch import analytics, clean, gold_counts, landed, read_objects
from pinpipe.spark.batch.analytics import USERS_JOINED
from pinpipe.spark.schemas import QUARANTINE_SCHEMA, SILVER_SCHEMAS
from pinpipe.spark.session import get_spark

DEFAULT_LOCK_WAIT_S = 1800.0
GOLD_WRITERS = 3
QUARANTINE_WAIT_S = 600.0


def write_table(df: DataFrame, path: str) -> None:
    df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)


def read_table(spark: SparkSession, s: Settings, name: str) -> DataFrame:
    return spark.read.format("delta").load(lake.table_path(s, name))


def clean_table(
    spark: SparkSession,
    s: Settings,
    table: str,
    full: bool = False,
    landed_before: datetime | None = None,
) -> dict[str, Any]:
    """Objects landed for one topic since the last run -> merged into its silver table (the
    later delivery of a key wins); unparseable records -> quarantine.

    A record per table remembers which objects were read. ``full`` forgets it, so every landed
    object is read again and the tables are rebuilt from them. ``landed_before`` leaves objects
    landed from then on to a later run. The summary's row counts are the writes' own (no pass
    over the tables to count them).
    """
    if full:
        read_objects.forget(s, table)
    merge.ensure_table(spark, s, lake.table_path(s, table), SILVER_SCHEMAS[table])
    new = read_objects.new_objects(s, table, landed_before)
    silver, quarantined = merge.Written(), merge.Written()
    if new.uris:
        records = landed.read_objects(spark, new.uris)
        silver, quarantined = write_batch(spark, s, table, records, rebuild=new.first)
        read_objects.record(s, table, new.names)
    return {
        "objects_read": len(new.uris),
        "objects_left_for_later": new.later,
        "rows_inserted": silver.inserted,
        "rows_updated": silver.updated,
        "quarantined": quarantined.inserted,
    }


def clean_tables(
    spark: SparkSession,
    s: Settings,
    tables: list[str],
    full: bool = False,
    landed_before: datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """``clean_table`` for each table. A run of a few new objects is a few small Spark jobs and
    Delta commits per table, which overlap well even on two cores: the tables are cleaned side
    by side (sharing only the quarantine's lock). A rebuild from every object is big jobs that
    compete for the cores and memory: the tables are then cleaned one after another."""
    rebuilds = full or any(read_objects.read_record(s, t) is None for t in tables)
    with ThreadPoolExecutor(max_workers=1 if rebuilds else len(tables)) as pool:
        done = {
            t: pool.submit(timed, clean_table, spark, s, t, full, landed_before) for t in tables
        }
        return {t: future.result() for t, future in done.items()}


def write_batch(
    spark: SparkSession, s: Settings, table: str, records: DataFrame, rebuild: bool
) -> tuple[merge.Written, merge.Written]:
    """Newly landed records -> silver and quarantine: ``rebuild`` replaces the tables (the
    table's part of quarantine), else the records are merged into them. Returns what was
    written to each."""
    checked = clean.checked(records, BY_SHORT[table]).persist()  # one pass for both outputs
    try:
        silver, rejected = clean.split(checked, BY_SHORT[table])
        silver_path = lake.table_path(s, table)
        if rebuild:
            write_table(silver, silver_path)
            silver_written = merge.last_write(spark, silver_path)
        else:
            silver_written = merge.upsert_latest(silver, silver_path)
        if not rebuild and rejected.isEmpty():
            return silver_written, merge.Written()  # no commit, no wait for the shared table
        # The three tables' cleans share the quarantine table: one writes it at a time.
        shared = writer_lock.holder_description(f"quarantine of {table}")
        with writer_lock.batch_tables(s, shared, QUARANTINE_WAIT_S, [writer_lock.QUARANTINE]):
            quarantine_path = lake.table_path(s, lake.QUARANTINE)
            merge.ensure_table(spark, s, quarantine_path, QUARANTINE_SCHEMA, "source_table")
            if rebuild:
                merge.replace_quarantine(rejected, quarantine_path, table)
                return silver_written, merge.last_write(spark, quarantine_path)
            return silver_written, merge.insert_new_quarantine(rejected, quarantine_path, table)
    finally:
        checked.unpersist()


def run_analytics(
    spark: SparkSession, s: Settings, years: analytics.YearRanges, full: bool = False
) -> dict[str, Any]:
    """The counts gold is derived from, brought up to date with silver (``full``: counted again
    from every row), then the nine gold tables derived from them, written a few at a time: each
    write is a small job whose time is mostly Delta's commit, so they overlap well. The one
    table counted from silver user itself is written meanwhile, while the counts are updated."""
    counts_path = lake.gold_counts_path(s)
    silver_paths = {t: lake.table_path(s, t) for t in lake.SILVER}
    exists = not full and lake_files.is_delta_table(s, counts_path)

    def write(name: str, df: DataFrame) -> None:
        write_table(df, lake.table_path(s, name))

    with ThreadPoolExecutor(max_workers=GOLD_WRITERS) as pool:
        user = read_table(spark, s, "user")
        written = [pool.submit(write, USERS_JOINED, analytics.users_joined_by_year(user, years))]
        counts = gold_counts.update(spark, counts_path, silver_paths, exists)
        # Added up once for the eight tables, which each use a few kinds of counts.
        current = gold_counts.current(spark.read.format("delta").load(counts_path)).persist()
        try:
            gold = analytics.counted_gold_tables(current, years)
            written += [pool.submit(write, name, df) for name, df in gold.items()]
            for done in written:
                done.result()  # raises the first failure
        finally:
            current.unpersist()
    return {"tables": len(gold) + 1, "counts": counts}


def locked_tables(step: str, table: str | None) -> list[str]:
    """The tables a step writes, and for gold also the silver tables it reads."""
    if step == "clean":
        return [table] if table else list(lake.SILVER)
    return [*lake.SILVER, writer_lock.GOLD]


def moment(text: str) -> datetime | None:
    """``--landed-before``'s value: an ISO 8601 time with its UTC offset; empty means none."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-01-31T00:00:00+00:00)"
        ) from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (e.g. add +00:00)")
    return when


def timed(step: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    started = time.monotonic()
    out = step(*args)
    return {**out, "seconds": round(time.monotonic() - started, 1)}


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
    parser.add_argument(
        "--full",
        action="store_true",
        help="read every landed object again and rebuild the tables, and count every silver row "
        "again for gold (default: only objects landed since the last run, and the rows they "
        "changed)",
    )
    parser.add_argument(
        "--landed-before",
        type=moment,
        metavar="TIME",
        help="for clean: read only objects landed before this ISO 8601 time, leaving later ones "
        "to the next run (the batch DAG passes the time its run was due; default: everything "
        "landed so far)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_LOCK_WAIT_S,
        help="seconds to wait while another run writes the same tables (default %(default)s)",
    )
    parser.add_argument(
        "--local-spark",
        action="store_true",
        help="run Spark in this process even when the stack's Spark Connect server is configured "
        "(to debug a step on its own)",
    )
    parser.add_argument("--summary-file", help="also write the step's summary as JSON here")
    parser.add_argument("--uid", default="", help="pipeline user id (default: the configured one)")
    args = parser.parse_args(argv)

    s = load_settings(**({"uid": args.uid} if args.uid else {}))
    step = args.step + (f" --table {args.table}" if args.table else "")
    holder = writer_lock.holder_description(step)
    with writer_lock.batch_tables(s, holder, args.wait, locked_tables(args.step, args.table)):
        spark = get_spark(s, f"pinpipe-batch-{args.step}", local=args.local_spark)
        summary: dict[str, Any] = {"step": args.step, "full": args.full}
        t0 = time.monotonic()
        if args.step in ("clean", "all"):
            tables = [args.table] if args.table else list(lake.SILVER)
            summary["clean"] = clean_tables(spark, s, tables, args.full, args.landed_before)
        if args.step in ("analytics", "all"):
            ranges = analytics.YearRanges(
                posts=parse_year_range(args.post_years), joins=parse_year_range(args.join_years)
            )
            summary["gold"] = timed(run_analytics, spark, s, ranges, args.full)
        summary["seconds"] = round(time.monotonic() - t0, 1)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.summary_file:
        with open(args.summary_file, "w") as f:
            f.write(text)
    return summary


def entry_point() -> None:
    """The wheel's ``pinpipe_batch`` command, which a Databricks ``python_wheel_task`` calls."""
    main(sys.argv[1:])


if __name__ == "__main__":
    # Run from the module imported under its own name: functions Spark sends to its Python
    # workers (foreachBatch) are then found there by name, not copied with copies of what they use.
    from pinpipe.spark.batch.job import main as module_main

    module_main(sys.argv[1:])
