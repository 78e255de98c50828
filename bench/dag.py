"""Benchmark of the batch DAG in the running stack, from trigger to success, against the
baseline of the same steps run by `pinpipe batch run` in one process, measured in the same run
over the same landed objects: the demo's 11,000 events per table, in objects of 1,000 records
as the S3 sink lands them.

Each is timed twice: rebuilding the tables from every object (the first run of a lake), then
with nothing new landed (a day without traffic: only gold is computed again). A pipeline user of
its own keeps your data apart; its bucket is deleted at the end. The stack must be up.

    python -m bench.dag
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.landed_files import write_landed
from pinpipe import batch, lake_files
from pinpipe.aws_access import aws_client
from pinpipe.config import Settings, load_settings
from pinpipe.spark import lake
from pinpipe.spark.batch import read_objects

UID = "benchdag0001"
EVENTS = 11_000
PER_OBJECT = 1_000
TARGET_S = 40.0


def land(s: Settings) -> None:
    """Generated events -> the pipeline user's bucket, laid out as the S3 sink lands them."""
    s3 = aws_client(s, "s3")
    s3.create_bucket(Bucket=s.bucket)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_landed(s, root, EVENTS, per_object=PER_OBJECT)
        for path in sorted((root / "topics").rglob("*.json")):
            s3.upload_file(str(path), s.bucket, str(path.relative_to(root)))


def forget_reads(s: Settings) -> None:
    for table in lake.SILVER:
        read_objects.forget(s, table)


def timed_dag(s: Settings) -> float:
    t = time.monotonic()
    batch.trigger(s, timeout=1800)
    return time.monotonic() - t


def timed_run(s: Settings, full: bool = False) -> float:
    t = time.monotonic()
    batch.run_here(s, full=full)
    return time.monotonic() - t


def main() -> None:
    s = load_settings(uid=UID)
    land(s)
    try:
        forget_reads(s)
        dag_rebuild = timed_dag(s)
        dag_nothing_new = timed_dag(s)
        run_rebuild = timed_run(s, full=True)
        run_nothing_new = timed_run(s)
    finally:
        lake_files.delete_tree(s, lake.root(s, "s3"))
        aws_client(s, "s3").delete_bucket(Bucket=s.bucket)

    print()
    print(f"batch DAG against `pinpipe batch run`: {EVENTS:,} events per table, objects of "
          f"{PER_OBJECT:,} records, Spark service of the running stack")  # fmt: skip
    print(f"  {'':28} {'DAG s':>7} {'run s':>7} {'DAG/run':>8} {'target':>8}")
    for label, dag_s, run_s in (
        ("rebuild from every object", dag_rebuild, run_rebuild),
        ("nothing new landed", dag_nothing_new, run_nothing_new),
    ):
        verdict = "met" if dag_s <= TARGET_S else "not met"
        print(
            f"  {label:28} {dag_s:>7.1f} {run_s:>7.1f} {dag_s / run_s:>7.1f}x "
            f"{'<=' + str(int(TARGET_S)) + 's':>6} {verdict}"
        )


if __name__ == "__main__":
    main()
