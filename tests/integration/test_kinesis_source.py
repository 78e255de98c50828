"""The Kinesis source for Spark against LocalStack's Kinesis: several shards, offsets in the
checkpoint, resume after a restart, initial positions, availableNow."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from pyspark.errors import StreamingQueryException

from pinpipe.aws_access import aws_client
from pinpipe.spark.streaming import job as streaming_job
from pinpipe.spark.streaming import kinesis_source
from tests.sandbox import Sandbox

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHARDS = 3


@pytest.fixture
def stream(sandbox: Sandbox) -> Any:
    s = sandbox.settings
    kinesis = aws_client(s, "kinesis")
    name = f"test-{uuid.uuid4().hex[:8]}"
    create_stream(kinesis, name)
    yield kinesis, name
    kinesis.delete_stream(StreamName=name)


def create_stream(kinesis: Any, name: str) -> None:
    kinesis.create_stream(StreamName=name, ShardCount=SHARDS)
    while (
        kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]
        != "ACTIVE"
    ):
        time.sleep(0.2)


def put(kinesis: Any, stream: str, first: int, count: int) -> None:
    records = [
        {"Data": json.dumps({"n": i}).encode(), "PartitionKey": f"key-{i}"}
        for i in range(first, first + count)
    ]
    for i in range(0, len(records), 100):
        assert (
            kinesis.put_records(StreamName=stream, Records=records[i : i + 100])[
                "FailedRecordCount"
            ]
            == 0
        )


def read_all(
    spark: Any,
    sandbox: Sandbox,
    stream: str,
    checkpoint: Path,
    out: Path,
    position: str = "earliest",
    **extra: str,
) -> None:
    query = run_query(spark, sandbox, stream, checkpoint, out, position, **extra)
    assert query.exception() is None


def run_query(
    spark: Any,
    sandbox: Sandbox,
    stream: str,
    checkpoint: Path,
    out: Path,
    position: str = "earliest",
    **extra: str,
) -> Any:
    """Read what the stream holds (availableNow) into parquet files; returns the ended query."""
    s = sandbox.settings
    kinesis_source.register(spark)
    df = (
        spark.readStream.format("kinesis")
        .option("streamName", stream)
        .option("region", s.region)
        .option("initialPosition", position)
        .option("endpoint", s.endpoints.kinesis)
        .option("awsAccessKey", "test")
        .option("awsSecretKey", "test")
        .options(**extra)
        .load()
    )
    query = (
        df.writeStream.format("parquet")
        .option("path", str(out))
        .option("checkpointLocation", str(checkpoint))
        .trigger(availableNow=True)
        .start()
    )
    with contextlib.suppress(StreamingQueryException):  # the caller looks at query.exception()
        query.awaitTermination()
    return query


def numbers(spark: Any, out: Path) -> list[int]:
    if not out.exists():
        return []
    rows = spark.read.parquet(str(out)).collect()
    return sorted(json.loads(r["data"])["n"] for r in rows)


def test_reads_every_shard_exactly_once_and_resumes_after_a_restart(
    spark: Any, sandbox: Sandbox, stream: Any, tmp_path: Path
) -> None:
    kinesis, name = stream
    put(kinesis, name, 0, 300)
    checkpoint, out = tmp_path / "checkpoint", tmp_path / "out"
    read_all(spark, sandbox, name, checkpoint, out)
    assert numbers(spark, out) == list(range(300))

    rows = spark.read.parquet(str(out)).collect()
    assert {r["shardId"] for r in rows} == {f"shardId-{i:012d}" for i in range(SHARDS)}
    assert all(r["stream"] == name and r["partitionKey"].startswith("key-") for r in rows)
    assert all(r["sequenceNumber"] and r["approximateArrivalTimestamp"] for r in rows)

    put(kinesis, name, 300, 50)
    read_all(spark, sandbox, name, checkpoint, out)  # a new query on the same checkpoint
    assert numbers(spark, out) == list(range(350))

    read_all(spark, sandbox, name, checkpoint, out)  # nothing new: nothing read
    assert numbers(spark, out) == list(range(350))


def test_a_checkpoint_older_than_its_stream_fails_saying_what_to_do(
    spark: Any, sandbox: Sandbox, stream: Any, tmp_path: Path
) -> None:
    kinesis, name = stream
    put(kinesis, name, 0, 10)
    checkpoint, out = tmp_path / "checkpoint", tmp_path / "out"
    read_all(spark, sandbox, name, checkpoint, out)
    kinesis.delete_stream(StreamName=name)
    while name in kinesis.list_streams()["StreamNames"]:
        time.sleep(0.2)
    create_stream(kinesis, name)
    put(kinesis, name, 10, 5)

    query = run_query(spark, sandbox, name, checkpoint, out)
    assert "deleted and created again" in str(query.exception())
    assert numbers(spark, out) == list(range(10))
    # The continuous job ends on it, where it starts other failures again.
    assert streaming_job.cannot_heal(f"{query.name}: {query.exception()}")
    assert not streaming_job.cannot_heal("pin: Could not connect to the endpoint URL")


def test_latest_skips_what_was_there_before_the_query_started(
    spark: Any, sandbox: Sandbox, stream: Any, tmp_path: Path
) -> None:
    kinesis, name = stream
    put(kinesis, name, 0, 20)
    checkpoint, out = tmp_path / "checkpoint", tmp_path / "out"
    read_all(spark, sandbox, name, checkpoint, out, position="latest")
    assert numbers(spark, out) == []
    put(kinesis, name, 20, 10)
    read_all(spark, sandbox, name, checkpoint, out, position="latest")
    assert numbers(spark, out) == list(range(20, 30))


def test_with_role_arn_it_reads_as_that_role(
    spark: Any, sandbox: Sandbox, stream: Any, tmp_path: Path
) -> None:
    kinesis, name = stream
    put(kinesis, name, 0, 10)
    s = sandbox.settings
    role = {"roleArn": "arn:aws:iam::000000000000:role/pinpipe-reader"}
    role |= {"stsEndpoint": s.endpoints.sts, "roleSessionName": "kinesis-test"}
    keys = {"awsAccessKey": "test", "awsSecretKey": "test", "endpoint": s.endpoints.kinesis}
    client = kinesis_source.kinesis_client({"region": s.region, **keys, **role})
    used = client._request_signer._credentials.get_frozen_credentials()
    assert used.token and used.access_key != "test"  # the role's session, not the keys given

    read_all(spark, sandbox, name, tmp_path / "checkpoint", tmp_path / "out", **role)
    assert numbers(spark, tmp_path / "out") == list(range(10))


def test_the_schema_is_databricks_kinesis_schema(spark: Any, sandbox: Sandbox, stream: Any) -> None:
    _, name = stream
    kinesis_source.register(spark)
    df = spark.readStream.format("kinesis").option("streamName", name).load()
    assert [(f.name, f.dataType.simpleString()) for f in df.schema.fields] == [
        ("partitionKey", "string"),
        ("data", "binary"),
        ("stream", "string"),
        ("shardId", "string"),
        ("sequenceNumber", "string"),
        ("approximateArrivalTimestamp", "timestamp"),
    ]
