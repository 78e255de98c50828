"""A first round trip through the stack's Spark Connect server, run by ``up`` in a thread while
the last services start: a record cleaned, written to a Delta table in a scratch bucket of the
lake, merged into it and read back, then the bucket deleted.

A fresh server loads and compiles what Spark, Delta and S3A need on first use; done here, the
first batch run does not pay for it (measured on 2 cores: the batch DAG over the demo's data in
33 s instead of 44 s). It also shows that the server can write the lake.
"""

from __future__ import annotations

import json
import threading
import time

from pinpipe import lake_files
from pinpipe.aws import provision
from pinpipe.aws_access import aws_client
from pinpipe.config import Settings
from pinpipe.contract import GEO

TIMEOUT_S = 120.0
RECORD = {
    "ind": 1,
    "timestamp": "2020-01-01 00:00:00",
    "latitude": 1.0,
    "longitude": 2.0,
    "country": "Nowhere",
}


def scratch_bucket(s: Settings) -> str:
    """Not the pipeline's bucket, which may not be there yet when the server is."""
    return f"{s.bucket}-spark-warm-up"


def warm_up(s: Settings) -> None:
    from pinpipe.spark import merge
    from pinpipe.spark.batch import clean, landed
    from pinpipe.spark.session import get_spark

    bucket = scratch_bucket(s)
    provision.ensure_bucket(s, bucket)
    spark = get_spark(s, "pinpipe-warm-up")
    path = f"s3a://{bucket}/geo"
    try:
        raw = spark.createDataFrame([("warm-up:1", 1, json.dumps(RECORD))], landed.RAW_SCHEMA)
        silver, _ = clean.clean(raw, GEO)
        silver.write.format("delta").mode("overwrite").save(path)
        merge.upsert_latest(silver, path)
        spark.read.format("delta").load(path).collect()
    finally:
        spark.stop()
        lake_files.delete_tree(s, f"s3://{bucket}/")
        aws_client(s, "s3").delete_bucket(Bucket=bucket)


class SparkWarmUp:
    """``warm_up`` in a thread, when the settings name a Spark Connect server."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.error: Exception | None = None
        self.thread: threading.Thread | None = None
        self.started = 0.0

    def start(self) -> None:
        if not self.s.endpoints.spark_connect:
            return
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            warm_up(self.s)
        except Exception as e:  # reported by join; the stack is up without it
            self.error = e

    def join(self, timings: dict[str, float]) -> list[str]:
        """Wait for it; returns what went wrong, if anything."""
        if self.thread is None:
            return []
        self.thread.join(TIMEOUT_S)
        timings["spark warm-up"] = round(time.monotonic() - self.started, 1)
        if self.error is None and not self.thread.is_alive():
            return []
        cause = str(self.error).splitlines()[0][:300] if self.error else "it did not finish"
        return [
            f"the Spark service could not run a first Delta write to the lake ({cause}); "
            "batch runs may fail the same way: see its log (`pinpipe logs`)"
        ]
