"""Helpers for end-to-end tests: a separate pipeline user inside the running sandbox, so each
test sees only its own records, and waiting for the S3 sink to land them."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import boto3
import requests
from confluent_kafka import Consumer, TopicPartition

from pinpipe.config import Settings, load_settings
from tests.conftest import Sandbox


@dataclass
class Pipeline:
    sandbox: Sandbox
    settings: Settings
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 900):  # type: ignore[no-untyped-def]
        import subprocess
        import sys

        from pinpipe.config import PROJECT_ROOT

        return subprocess.run(
            [sys.executable, "-m", "pinpipe", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, timeout: float = 900) -> str:
        done = self.cli(*args, timeout=timeout)
        assert done.returncode == 0, f"pinpipe {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return str(done.stdout)


def new_pipeline(sandbox: Sandbox) -> Pipeline:
    """Provision a fresh uid's bucket, topics, streams, API and S3 sink connector."""
    uid = f"e2e{uuid.uuid4().hex[:8]}"
    env = {**sandbox.env, "PINPIPE_UID": uid}
    pipeline = Pipeline(sandbox, load_settings(uid=uid), env)
    pipeline.ok("provision")
    pipeline.ok("connector")
    return pipeline


def remove_connector(pipeline: Pipeline) -> None:
    s = pipeline.settings
    requests.delete(f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}", timeout=30)


def wait_until_landed(pipeline: Pipeline, timeout: float = 180) -> dict[str, int]:
    """Wait until every record of the uid's topics is in the lake; returns records per topic."""
    s = pipeline.settings
    consumer = Consumer({"bootstrap.servers": s.endpoints.kafka_bootstrap, "group.id": "landing"})
    try:
        ends = {
            t: consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
            for t, topic in s.topics.items()
        }
    finally:
        consumer.close()
    s3 = boto3.client("s3", **s.aws_client_kwargs("s3"))
    deadline = time.monotonic() + timeout
    landed: dict[str, int] = {}
    while time.monotonic() < deadline:
        for t, topic in s.topics.items():
            landed[t] = 0
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=s.bucket, Prefix=f"topics/{topic}/"
            ):
                for obj in page.get("Contents", []):
                    meta = s3.head_object(Bucket=s.bucket, Key=obj["Key"])["Metadata"]
                    landed[t] = max(landed[t], int(meta["end-offset"]) + 1)
        if all(landed[t] >= ends[t] for t in ends):
            return ends
        time.sleep(2)
    raise AssertionError(f"landing incomplete after {timeout}s: {landed} of {ends}")
