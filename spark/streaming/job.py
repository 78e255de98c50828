"""The streaming job: each Kinesis stream -> the batch cleaning -> its Delta table, exactly once.

Three queries, one per stream, each with its own checkpoint. Every micro-batch is cleaned with
the same functions as the batch job and written into ``<uid>_<table>_table`` by the join key
(``keyed_table``): a later delivery of a key replaces its row (by sequence number: a key is always
on one shard), and a micro-batch replayed after a crash changes nothing; unparseable records go to
``streaming_quarantine`` as an idempotent Delta write keyed by the checkpoint and batch id.

    python -m pinpipe.spark.streaming.job                  # run until stopped (Ctrl-C / SIGTERM)
    python -m pinpipe.spark.streaming.job --available-now  # process what is there, then stop
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pinpipe import lake_files, writer_lock
from pinpipe.aws_access import aws_access
from pinpipe.config import Settings, load_settings
from pinpipe.contract import BY_SHORT, TABLES
from pinpipe.errors import JobError
from pinpipe.spark import lake, merge
from pinpipe.spark.batch import clean
from pinpipe.spark.progress import rows_read
from pinpipe.spark.schemas import QUARANTINE_SCHEMA, SILVER_SCHEMAS
from pinpipe.spark.session import MICRO_BATCH_CONF, get_spark
from pinpipe.spark.streaming import kinesis_source
from pinpipe.spark.streaming.keyed_table import KeyedTable

if TYPE_CHECKING:
    from pyspark.sql.streaming.query import StreamingQuery

TRIGGER_INTERVAL = "2 seconds"
# Delta writes a checkpoint of a table's log every 10 commits by default: a Spark job that held up
# all three queries for 5 to 7 s every tenth micro-batch (2 cores), the slowest 10% of latencies.
# Every 100th commit makes that 1%; a query starting cold reads at most 99 small log files.
TABLE_PROPERTIES = {"delta.checkpointInterval": "100"}
# A failed query is started again after 2, 4, 8 ... up to 60 s; 5 healthy minutes reset that.
MAX_RETRY_PAUSE_S = 60.0
HEALTHY_AFTER_S = 300.0


def kinesis_options(s: Settings, table: str) -> dict[str, str]:
    """The same option names for Databricks' source and the project's own."""
    options = {
        "streamName": s.streams[table],
        "initialPosition": "earliest",
        **aws_access(s, "kinesis").kinesis_source_options(),
    }
    if s.streaming.role_arn:
        options["roleArn"] = s.streaming.role_arn
        if s.endpoints.sts:
            options["stsEndpoint"] = s.endpoints.sts
    return options


@dataclass
class QuarantineLog:
    """Appends a query's unparseable records to ``streaming_quarantine``, once per micro-batch:
    Delta skips an append whose (``txnAppId``, ``txnVersion``) it has already recorded. The app
    id names the query's checkpoint (its id, in the checkpoint's ``metadata``), so a query started
    over from a new checkpoint, its batch ids from 0 again, is not taken for a replay."""

    s: Settings
    table: str
    _app_id: str | None = None

    def app_id(self) -> str:
        if self._app_id is None:
            metadata = lake_files.read_text(
                self.s, f"{lake.checkpoint_path(self.s, self.table)}/metadata"
            )
            if metadata is None:
                raise JobError(f"the {self.table} query's checkpoint has no metadata")
            checkpoint_id = json.loads(metadata.splitlines()[0])["id"]
            self._app_id = f"{self.s.uid}-{self.table}-quarantine-{checkpoint_id}"
        return self._app_id

    def append(self, rejected: DataFrame, batch_id: int) -> None:
        (
            rejected.write.format("delta").mode("append")
            .option("txnAppId", self.app_id())
            .option("txnVersion", batch_id)
            .save(lake.table_path(self.s, lake.STREAMING_QUARANTINE))
        )  # fmt: skip


def write_batch(
    table: str, silver: KeyedTable, quarantine: QuarantineLog, batch: DataFrame, batch_id: int
) -> None:
    """Clean one micro-batch and write it into the table: a key's later delivery wins, and a
    batch replayed after a crash changes nothing."""
    checked = clean.checked(batch, BY_SHORT[table]).persist()  # one pass for both outputs
    try:
        rows, rejected = clean.split(checked, BY_SHORT[table])
        # One small job tells both the batch's keys and whether it has records to quarantine.
        seen = checked.select(merge.KEY, F.col("reason").isNotNull().alias("bad")).collect()
        silver.write(rows, (r[0] for r in seen if not r[1]))
        if any(r[1] for r in seen):
            quarantine.append(rejected, batch_id)
    finally:
        checked.unpersist()


def ensure_tables(spark: SparkSession, s: Settings, tables: list[str]) -> None:
    """Create the tables before the queries start: the three append to one quarantine table,
    and concurrent first writes to an empty table conflict."""
    merge.ensure_table(spark, s, lake.table_path(s, lake.STREAMING_QUARANTINE), QUARANTINE_SCHEMA)
    for table in tables:
        path = lake.table_path(s, lake.streaming_table(s, table))
        merge.ensure_table(spark, s, path, SILVER_SCHEMAS[table], properties=TABLE_PROPERTIES)


def start_query(
    spark: SparkSession, s: Settings, table: str, available_now: bool
) -> StreamingQuery:
    raw = spark.readStream.format("kinesis").options(**kinesis_options(s, table)).load()
    records = raw.select(
        F.concat_ws(":", "stream", "shardId", "sequenceNumber").alias("source"),
        F.unix_micros("approximateArrivalTimestamp").alias("position"),
        F.col("data").cast("string").alias("raw"),
    )
    silver = KeyedTable(lake.table_path(s, lake.streaming_table(s, table)))
    writer = (
        records.writeStream.queryName(lake.streaming_table(s, table))
        .foreachBatch(partial(write_batch, table, silver, QuarantineLog(s, table)))
        .option("checkpointLocation", lake.checkpoint_path(s, table))
    )
    if available_now:
        return writer.trigger(availableNow=True).start()
    return writer.trigger(processingTime=TRIGGER_INTERVAL).start()


def batch_ids(s: Settings, folder: str) -> set[int]:
    """The micro-batch ids with a file in a checkpoint's ``offsets`` or ``commits`` folder."""
    names = lake_files.list_files(s, folder)
    return {int(name) for name in names if name.isdigit()}


def unfinished_batch(s: Settings, table: str) -> bool:
    """True if the table's query planned a micro-batch it did not commit (it was stopped or
    crashed in it): started again, it replays that batch first."""
    checkpoint = lake.checkpoint_path(s, table)
    planned = batch_ids(s, f"{checkpoint}/offsets")
    return bool(planned) and max(planned) > max(batch_ids(s, f"{checkpoint}/commits"), default=-1)


def run_available_now(spark: SparkSession, s: Settings, tables: list[str]) -> int:
    """Process everything available, then stop; returns the number of records processed.

    A query restarted after a crash first replays its unfinished micro-batch and may stop there,
    so then a second pass follows, which reads what came after it.
    """
    passes = 2 if any(unfinished_batch(s, t) for t in tables) else 1
    total = 0
    for _ in range(passes):
        queries = [start_query(spark, s, t, available_now=True) for t in tables]
        for q in queries:
            q.awaitTermination()
            if q.exception() is not None:
                raise JobError(f"query {q.name} failed: {q.exception()}")
        total += sum(rows_read(q) for q in queries)
    return total


def run_continuously(spark: SparkSession, s: Settings, tables: list[str]) -> None:
    """Micro-batches every few seconds until SIGTERM or Ctrl-C. A query that fails (Kinesis or
    the lake away for a moment: a restart, a crash) is started again from its checkpoint after a
    pause that grows while failures repeat, as a job scheduler with retries would; a failure that
    no restart can get past (``cannot_heal``) ends the job with its message."""
    stop = threading.Event()

    def request_stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    failures = 0
    while not stop.is_set():
        queries = [start_query(spark, s, t, available_now=False) for t in tables]
        print(f"streaming {', '.join(q.name for q in queries)}", flush=True)
        started = time.monotonic()
        try:
            while not stop.is_set() and all(q.isActive for q in queries):
                stop.wait(1)
        finally:
            for q in queries:
                stop_between_batches(q)
        failed = [f"{q.name}: {q.exception()}" for q in queries if q.exception() is not None]
        if not failed:
            break
        if lasting := [f for f in failed if cannot_heal(f)]:
            raise JobError(lasting[0])
        failures = 1 if time.monotonic() - started > HEALTHY_AFTER_S else failures + 1
        pause = min(MAX_RETRY_PAUSE_S, 2.0**failures)
        print(f"a query failed ({failed[0][:500]}); starting again in {pause:.0f}s", flush=True)
        stop.wait(pause)
    print("streaming stopped", flush=True)


def cannot_heal(failure: str) -> bool:
    """Whether a query's failure is one that starting it again cannot get past."""
    return kinesis_source.CREATED_AGAIN in failure


def stop_between_batches(query: StreamingQuery, timeout_s: float = 120) -> None:
    """Let a running micro-batch finish, then stop: stopping mid-batch interrupts its writes
    (still exactly once, as the batch is replayed, but noisy and slower to restart)."""
    deadline = time.monotonic() + timeout_s
    while query.isActive and query.status["isTriggerActive"] and time.monotonic() < deadline:
        time.sleep(0.1)
    query.stop()


def streaming_session(s: Settings, app_name: str = "pinpipe-streaming") -> SparkSession:
    """The job's Spark, with ``format("kinesis")`` available.

    A Spark of its own, not the stack's server: there, the Python workers of the Kinesis source
    and of foreachBatch timed out connecting back to the server while batch work kept both cores
    busy. Micro-batches are small: their plans run interpreted, with one task per shuffle.
    """
    spark = get_spark(s, app_name, local=True, extra_conf=MICRO_BATCH_CONF)
    if s.streaming.kinesis_source == "pinpipe":
        kinesis_source.register(spark)  # else the platform's own (Databricks)
    return spark


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="pinpipe.spark.streaming.job",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--available-now", action="store_true", help="process every record available now, then stop"
    )
    parser.add_argument("--tables", default=",".join(TABLES), help="streams to process")
    parser.add_argument("--uid", default="", help="pipeline user id (default: the configured one)")
    args = parser.parse_args(argv)

    s = load_settings(**({"uid": args.uid} if args.uid else {}))
    with writer_lock.streaming_tables(s):
        spark = streaming_session(s)
        tables = args.tables.split(",")
        ensure_tables(spark, s, tables)
        if args.available_now:
            print(f"processed {run_available_now(spark, s, tables)} records", flush=True)
        else:
            run_continuously(spark, s, tables)


def entry_point() -> None:
    """The wheel's ``pinpipe_stream`` command, which a Databricks ``python_wheel_task`` calls."""
    main(sys.argv[1:])


if __name__ == "__main__":
    # Run from the module imported under its own name: functions Spark sends to its Python
    # workers (foreachBatch) are then found there by name, not copied with copies of what they use.
    from pinpipe.spark.streaming.job import main as module_main

    module_main(sys.argv[1:])
