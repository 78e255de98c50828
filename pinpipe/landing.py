"""How far the S3 sink has landed each topic: Kafka's end offsets against the objects' offsets."""

from __future__ import annotations

import time
from collections.abc import Callable

from pinpipe.aws_access import aws_client
from pinpipe.config import Settings
from pinpipe.errors import PinpipeError


def topic_ends(s: Settings) -> dict[str, int]:
    """Records written to each table's topic (its end offset; the topics have one partition)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": s.endpoints.kafka_bootstrap, "group.id": "landing"})
    try:
        return {
            t: consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
            for t, topic in s.topics.items()
        }
    finally:
        consumer.close()


def landed(s: Settings) -> dict[str, int]:
    """Records of each table's topic that are in the lake (the sink writes them in order)."""
    s3 = aws_client(s, "s3")
    out: dict[str, int] = {}
    for t, topic in s.topics.items():
        out[t] = 0
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=s.bucket, Prefix=f"topics/{topic}/"
        ):
            for obj in page.get("Contents", []):
                meta = s3.head_object(Bucket=s.bucket, Key=obj["Key"])["Metadata"]
                out[t] = max(out[t], int(meta["end-offset"]) + 1)
    return out


def wait_until_landed(
    s: Settings,
    timeout: float = 180,
    on_poll: Callable[[dict[str, int], dict[str, int]], None] = lambda _l, _e: None,
) -> dict[str, int]:
    """Wait until every record now in the topics is in the lake; returns records per topic."""
    ends = topic_ends(s)
    deadline = time.monotonic() + timeout
    while True:
        now = landed(s)
        on_poll(now, ends)
        if all(now[t] >= ends[t] for t in ends):
            return ends
        if time.monotonic() > deadline:
            raise PinpipeError(
                f"the S3 sink landed {now} of {ends} records in {timeout:.0f}s; is the connector "
                f"running? `curl {s.endpoints.kafka_connect}/connectors/{s.connector_name}/status`"
            )
        time.sleep(2)
