"""Helpers for end-to-end tests: a separate pipeline user (uid) inside the running sandbox, so each
test sees only its own records; waiting for the S3 sink to land them; and removing everything the
uid got once the tests are done, so an attached stack (``PINPIPE_TEST_SANDBOX=attach``) is left
as it was."""

from __future__ import annotations

import json
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import psutil
import requests
from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from pinpipe import landing, tables
from pinpipe.aws import deploy, identity
from pinpipe.aws_access import aws_client
from pinpipe.config import Settings, load_settings
from pinpipe.sandbox import processes, runner
from pinpipe.sandbox.services import STREAMING
from pinpipe.services.emulator import checkpoint_file
from pinpipe.spark import lake
from tests.sandbox import Cli, Sandbox
from tests.stores import bucket_objects


class CleanupWarning(UserWarning):
    """Something a test created in the sandbox could not be removed."""


class CleanupFailed(Exception):
    """A removal step found something it could not remove."""


# What a removal step may fail with; anything else is a bug in the test code and is raised.
CLEANUP_ERRORS = (
    CleanupFailed,
    requests.RequestException,
    KafkaException,
    ClientError,
    BotoCoreError,
    psutil.Error,
    OSError,
    json.JSONDecodeError,  # a registry that is not JSON
)
CLEANUP_WAIT_S = 30


@dataclass
class Pipeline(Cli):
    """One pipeline user in the sandbox: its settings, and the environment that selects it."""

    sandbox: Sandbox
    default_timeout: ClassVar[float] = 900


def pipeline_user(sandbox: Sandbox, prefix: str = "e2e", **overrides: Any) -> Pipeline:
    """A new uid in the sandbox; nothing is provisioned for it yet."""
    uid = f"{prefix}{uuid.uuid4().hex[:8]}"
    env = {**sandbox.env, "PINPIPE_UID": uid}
    env.update({f"PINPIPE_{key.upper()}": str(value) for key, value in overrides.items()})
    return Pipeline(load_settings(uid=uid, **overrides), env, sandbox)


@contextmanager
def provisioned(sandbox: Sandbox) -> Iterator[Pipeline]:
    """A fresh uid's bucket, topics, streams, API and S3 sink connector, removed on exit (also
    when provisioning fails halfway)."""
    pipeline = pipeline_user(sandbox)
    try:
        pipeline.ok("provision")
        pipeline.ok("connector")
        yield pipeline
    finally:
        remove_pipeline(pipeline)


def wait_until_landed(pipeline: Pipeline, timeout: float = 180) -> dict[str, int]:
    """Wait until every record of the uid's topics is in the lake; returns records per topic."""
    return landing.wait_until_landed(pipeline.settings, timeout)


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def streaming_rows(pipeline: Pipeline) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each streaming table, sorted, timestamps as naive UTC."""
    out = {}
    for t in lake.SILVER:
        rows = tables.rows(pipeline.settings, lake.streaming_table(pipeline.settings, t))
        out[t] = sorted(tuple(_naive_utc(v) for v in r.values()) for r in rows)
    return out


# --- removal ----------------------------------------------------------------------------------


def remove_pipeline(pipeline: Pipeline) -> None:
    """Remove everything the pipeline's uid has in the sandbox: its streaming job, S3 sink
    connector and consumer group, topics, streams, cloud stack (REST API, IAM role), bucket
    (every object, then the bucket), emulator checkpoints and its record in ``pipelines.json``
    (without which the next ``up`` would provision it again).

    Best effort: each step runs whatever the others did, and what fails is reported as a
    CleanupWarning, so the tests' own results stand."""
    s = pipeline.settings
    steps: list[tuple[str, Callable[[Settings], None]]] = [
        ("streaming job", _stop_streaming_job),
        ("connector", _remove_connector),
        ("consumer group", _remove_sink_group),
        ("topics", _remove_topics),
        ("streams", _remove_streams),
        ("cloud stack (REST API, IAM role)", _remove_stack),
        ("bucket", _remove_bucket),
        ("emulator checkpoints", _remove_checkpoints),
        ("registry record", _forget_uid),
    ]
    problems = []
    for what, step in steps:
        try:
            step(s)
        except CLEANUP_ERRORS as e:
            problems.append(f"{what}: {type(e).__name__}: {e}")
    if problems:
        warnings.warn(
            CleanupWarning(f"pipeline {s.uid} was not fully removed:\n" + "\n".join(problems)),
            stacklevel=2,
        )


def _stop_streaming_job(s: Settings) -> None:
    record = processes.read_record(s, STREAMING.name)
    if record is not None and record.uid == s.uid:
        runner.stop(s, STREAMING.name)


def _remove_connector(s: Settings) -> None:
    url = f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}"
    deadline = time.monotonic() + CLEANUP_WAIT_S
    while (r := requests.delete(url, timeout=30)).status_code == 409:
        if time.monotonic() > deadline:
            break
        time.sleep(1)  # the worker answers 409 while it rebalances
    if r.status_code == 404:
        return
    r.raise_for_status()
    # Deleting returns at once; the task stops (and leaves its consumer group) after it.
    while requests.get(f"{url}/status", timeout=10).status_code != 404:
        if time.monotonic() > deadline:
            raise CleanupFailed(f"{s.connector_name} still listed {CLEANUP_WAIT_S}s after delete")
        time.sleep(0.5)


def _admin(s: Settings) -> AdminClient:
    return AdminClient({"bootstrap.servers": s.endpoints.kafka_bootstrap})


def _kafka_code(e: KafkaException) -> Any:
    error = e.args[0] if e.args else None
    return error.code() if isinstance(error, KafkaError) else None


def _remove_sink_group(s: Settings) -> None:
    """The consumer group Kafka Connect gives a sink connector: ``connect-<name>``."""
    group = f"connect-{s.connector_name}"
    admin = _admin(s)
    deadline = time.monotonic() + CLEANUP_WAIT_S
    while True:
        try:
            admin.delete_consumer_groups([group], request_timeout=30)[group].result()
            return
        except KafkaException as e:
            code = _kafka_code(e)
            if code == KafkaError.GROUP_ID_NOT_FOUND:
                return
            if code != KafkaError.NON_EMPTY_GROUP or time.monotonic() > deadline:
                raise
        time.sleep(1)  # the stopped task has not left the group yet


def _remove_topics(s: Settings) -> None:
    admin = _admin(s)  # kept while the futures are pending
    futures = admin.delete_topics(list(s.topics.values()), operation_timeout=30)
    failed = []
    for topic, future in futures.items():
        try:
            future.result()
        except KafkaException as e:
            if _kafka_code(e) != KafkaError.UNKNOWN_TOPIC_OR_PART:
                failed.append(f"{topic}: {e}")
    if failed:
        raise CleanupFailed("; ".join(failed))


def _remove_streams(s: Settings) -> None:
    kinesis = aws_client(s, "kinesis")
    for name in s.streams.values():
        with suppress(kinesis.exceptions.ResourceNotFoundException):  # already gone
            kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


def _remove_stack(s: Settings) -> None:
    """The uid's CloudFormation stack: its REST API and IAM role."""
    deploy.destroy(s)


def _remove_bucket(s: Settings) -> None:
    s3 = aws_client(s, "s3")
    try:
        keys = [obj["Key"] for obj in bucket_objects(s3, s.bucket)]
    except s3.exceptions.NoSuchBucket:
        return
    for i in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[i : i + 1000]]
        done = s3.delete_objects(Bucket=s.bucket, Delete={"Objects": batch, "Quiet": True})
        if done.get("Errors"):
            first = done["Errors"][0]
            raise CleanupFailed(
                f"{len(done['Errors'])} objects of {s.bucket} not deleted, e.g. "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )
    s3.delete_bucket(Bucket=s.bucket)


def _remove_checkpoints(s: Settings) -> None:
    folder = checkpoint_file(s, "batch").parent
    if folder.name == s.uid and folder.exists():  # the uid's own folder, nothing shared
        shutil.rmtree(folder)


def _forget_uid(s: Settings) -> None:
    path = identity.registry(s)
    if not path.exists():
        return
    pipelines = json.loads(path.read_text())
    if s.uid not in pipelines:
        return
    del pipelines[s.uid]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(pipelines, indent=2, sort_keys=True))
    tmp.replace(path)
