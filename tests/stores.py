"""What a store holds, read straight from it: a Kafka topic's records, a Kinesis stream's
records, a bucket's objects. Shared by the integration, end-to-end and fault suites."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, TopicPartition


def topic_values(
    bootstrap: str, topic: str, start: int = 0, end: int | None = None, timeout: float = 60
) -> list[bytes]:
    """The values of the records from offset ``start`` up to ``end`` (default: the end offset
    now) of a one-partition topic, in offset order; fewer if they do not come within ``timeout``."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"tests-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
        }
    )
    try:
        if end is None:
            end = int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1])
        consumer.assign([TopicPartition(topic, 0, start)])
        values: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(values) < end - start and time.monotonic() < deadline:
            for msg in consumer.consume(min(500, end - start - len(values)), timeout=1):
                if msg.error() is None:
                    values.append(msg.value())
        return values[: max(end - start, 0)]
    finally:
        consumer.close()


def stream_records(kinesis: Any, stream: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every record of every shard of a Kinesis stream, from the oldest: (shard id, record)."""
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            got = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            for record in got["Records"]:
                yield shard["ShardId"], record
            if not got["Records"] and got.get("MillisBehindLatest", 0) == 0:
                break
            iterator = got.get("NextShardIterator")


def bucket_objects(s3: Any, bucket: str, prefix: str = "") -> Iterator[dict[str, Any]]:
    """Every object (as ``list_objects_v2`` describes it) of a bucket under a prefix."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])
