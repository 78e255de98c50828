"""The emulator through the running sandbox: API Gateway -> REST proxy -> Kafka, and -> Kinesis."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from confluent_kafka import Consumer, TopicPartition

from pinpipe.config import PROJECT_ROOT
from tests.conftest import Sandbox
from tests.sample import SAMPLE_ROWS, read_sample, sample_available, sample_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def end_offset(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "offsets"})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1])
    finally:
        consumer.close()


def read_from(bootstrap: str, topic: str, start: int, end: int) -> list[dict[str, object]]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "e2e-reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, start)])
    values: list[dict[str, object]] = []
    deadline = time.monotonic() + 60
    try:
        while len(values) < end - start and time.monotonic() < deadline:
            msg = consumer.poll(1)
            if msg is not None and msg.error() is None:
                values.append(json.loads(msg.value()))
    finally:
        consumer.close()
    return values


def stream_record_count(sandbox: Sandbox, stream: str) -> int:
    kinesis = boto3.client("kinesis", **sandbox.settings.aws_client_kwargs("kinesis"))
    total = 0
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            got = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            total += len(got["Records"])
            if not got["Records"] and got.get("MillisBehindLatest", 0) == 0:
                break
            iterator = got.get("NextShardIterator")
    return total


def source_from(sandbox: Sandbox, tmp_path: Path, *args: str) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    done = sandbox.cli("source", *args, "--db", url)
    assert done.returncode == 0, done.stderr
    return url


def offsets(sandbox: Sandbox) -> dict[str, int]:
    s = sandbox.settings
    return {t: end_offset(s.endpoints.kafka_bootstrap, topic) for t, topic in s.topics.items()}


@pytest.mark.skipif(not sample_available(), reason="the real sample is not next to the project")
def test_emulate_batch_all_puts_every_sample_row_once_in_each_topic(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = source_from(sandbox, tmp_path, "load", "--from", str(sample_dir()))
    before = offsets(sandbox)
    done = sandbox.cli("emulate", "batch", "--all", "--batch-size", "50", "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr
    after = offsets(sandbox)
    s = sandbox.settings
    for short, table, key in (
        ("pin", "pinterest_data", "index"),
        ("geo", "geolocation_data", "ind"),
        ("user", "user_data", "ind"),
    ):
        assert after[short] - before[short] == SAMPLE_ROWS, short
        landed = read_from(
            s.endpoints.kafka_bootstrap, s.topics[short], before[short], after[short]
        )
        expected = sorted(read_sample(table), key=lambda r: int(r[key]))  # type: ignore[arg-type]
        assert landed == expected, short


def test_emulate_stream_count_puts_exactly_that_many_records_in_each_stream(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = source_from(sandbox, tmp_path, "generate", "--rows", "300", "--seed", "4")
    s = sandbox.settings
    before = {t: stream_record_count(sandbox, name) for t, name in s.streams.items()}
    done = sandbox.cli("emulate", "stream", "--count", "50", "--seed", "9", "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr
    after = {t: stream_record_count(sandbox, name) for t, name in s.streams.items()}
    assert {t: after[t] - before[t] for t in after} == {"pin": 50, "geo": 50, "user": 50}


def test_an_interrupted_run_resumed_gives_no_duplicate_and_no_gap(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    rows = 120
    db = source_from(sandbox, tmp_path, "generate", "--rows", str(rows), "--seed", "8")
    before = offsets(sandbox)
    first = subprocess.Popen(
        [sys.executable, "-m", "pinpipe", "emulate", "batch", "--all", "--rate", "20", "--db", db],
        env=sandbox.env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while offsets(sandbox)["pin"] - before["pin"] < 5 and time.monotonic() < deadline:
        time.sleep(0.5)
    first.send_signal(signal.SIGINT)
    output, _ = first.communicate(timeout=60)
    assert first.returncode == 0, output
    assert "interrupted" in output
    middle = offsets(sandbox)
    assert 0 < middle["pin"] - before["pin"] < rows

    done = sandbox.cli("emulate", "batch", "--all", "--resume", "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr
    after = offsets(sandbox)
    s = sandbox.settings
    for short, key in (("pin", "index"), ("geo", "ind"), ("user", "ind")):
        landed = read_from(
            s.endpoints.kafka_bootstrap, s.topics[short], before[short], after[short]
        )
        assert [r[key] for r in landed] == list(range(rows)), short
