"""Create, idempotently, every resource the pipeline needs. What the profile deploys
(``[deploy] parts``) comes from the CDK app through CloudFormation, the same in LocalStack and
AWS; what it leaves to the sandbox's own processes (the lake's bucket, Kafka's topics, the
streams kinesis-mock keeps across restarts) is created here with their own APIs."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from pinpipe.aws import api_gateway, connector, deploy, identity
from pinpipe.aws.infra.outputs import OUTPUT_API_ID, OUTPUT_API_KEY_ID
from pinpipe.aws_access import aws_access, aws_client
from pinpipe.config import Settings
from pinpipe.errors import ProvisionError

Step = Callable[[str], None]


def ensure_bucket(s: Settings, bucket: str = "") -> None:
    """Create the pipeline's bucket (or ``bucket``) unless it is there."""
    name = bucket or s.bucket
    s3 = aws_client(s, "s3")
    try:
        s3.head_bucket(Bucket=name)
        return
    except ClientError:
        pass
    kwargs = (
        {}
        if s.region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": s.region}}
    )
    s3.create_bucket(Bucket=name, **kwargs)


def ensure_topics(s: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": s.endpoints.kafka_bootstrap})
    existing = admin.list_topics(timeout=10).topics
    wanted = [
        NewTopic(t, num_partitions=s.topic_partitions, replication_factor=1)
        for t in s.topics.values()
        if t not in existing
    ]
    if not wanted:
        return
    for topic, future in admin.create_topics(wanted).items():
        try:
            future.result()
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise ProvisionError(f"creating topic {topic} failed: {e}") from e


def ensure_streams(s: Settings, timeout: float = 60.0) -> None:
    kinesis = aws_client(s, "kinesis")
    existing = set(kinesis.list_streams().get("StreamNames", []))
    for name in s.streams.values():
        if name not in existing:
            kinesis.create_stream(StreamName=name, ShardCount=s.stream_shards)
    deadline = time.monotonic() + timeout
    for name in s.streams.values():
        while True:
            state = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
                "StreamStatus"
            ]
            if state == "ACTIVE":
                break
            if time.monotonic() > deadline:
                raise ProvisionError(f"Kinesis stream {name} still {state} after {timeout:.0f}s")
            time.sleep(0.2)


def provision(s: Settings, step: Step = lambda _: None) -> str:
    """Make everything the pipeline needs: the parts the profile leaves to the sandbox's own
    processes here, then the cloud stack (``pinpipe.aws.deploy``); returns the API's invoke URL
    (stage included)."""
    parts = set(s.deploy.parts)
    if "lake" not in parts:
        step("bucket")
        ensure_bucket(s)
    if "kafka" not in parts:
        step("topics")
        ensure_topics(s)
    if "streams" not in parts:
        step("streams")
        ensure_streams(s)
    step("cloud stack")
    result = deploy.deploy(s, progress=step)
    api_id = result.outputs.get(OUTPUT_API_ID)
    if not api_id:
        raise ProvisionError(f"the stack {result.stack} has no {OUTPUT_API_ID} output")
    return api_gateway.invoke_url(s, api_id)


def teardown(s: Settings, *, delete_data: bool = False, step: Step = lambda _: None) -> list[str]:
    """Undo ``provision``: the cloud stack (``pinpipe.aws.deploy.destroy``), then what was made
    here for the sandbox's own processes (the connector, topics and streams; the bucket only
    with ``delete_data``), and the uid's record. Returns what was removed."""
    removed = deploy.destroy(s, delete_data=delete_data, progress=step)
    parts = set(s.deploy.parts)
    if "connect" not in parts:
        try:
            if connector.delete_connector(s):
                removed.append(f"connector {s.connector_name}")
        except requests.ConnectionError as e:
            raise ProvisionError(
                f"Kafka Connect is not reachable at {s.endpoints.kafka_connect}: start the stack "
                "(`make up`) and run this again"
            ) from e
    if "kafka" not in parts:
        removed += [f"topic {t}" for t in delete_topics(s)]
    if "streams" not in parts:
        removed += [f"stream {name}" for name in delete_streams(s)]
    if "lake" not in parts and delete_data and delete_bucket(s):
        removed.append(f"bucket {s.bucket}")
    identity.forget(s)
    return removed


def delete_topics(s: Settings) -> list[str]:
    admin = AdminClient({"bootstrap.servers": s.endpoints.kafka_bootstrap})
    existing = [t for t in s.topics.values() if t in admin.list_topics(timeout=10).topics]
    for topic, future in (
        admin.delete_topics(existing, operation_timeout=30).items() if existing else []
    ):
        try:
            future.result()
        except KafkaException as e:
            if e.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise ProvisionError(f"deleting topic {topic} failed: {e}") from e
    return existing


def delete_streams(s: Settings, timeout: float = 60.0) -> list[str]:
    """Delete the pipeline's streams and wait until they are gone (deleting takes a moment)."""
    kinesis = aws_client(s, "kinesis")
    existing = set(kinesis.list_streams().get("StreamNames", []))
    doomed = [name for name in s.streams.values() if name in existing]
    for name in doomed:
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    deadline = time.monotonic() + timeout
    while set(doomed) & set(kinesis.list_streams().get("StreamNames", [])):
        if time.monotonic() > deadline:
            raise ProvisionError(f"streams {', '.join(doomed)} still listed after {timeout:.0f}s")
        time.sleep(0.2)
    return doomed


def delete_bucket(s: Settings) -> bool:
    s3 = aws_client(s, "s3")
    try:
        s3.head_bucket(Bucket=s.bucket)
    except ClientError:
        return False
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=s.bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=s.bucket, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=s.bucket)
    return True


def api_url(s: Settings) -> str | None:
    """The invoke URL of the deployed API, or None if it is not deployed."""
    try:
        api_id = api_gateway.find_api_id(s)
    except (BotoCoreError, ClientError) as e:
        raise ProvisionError(
            f"cannot list the REST APIs at {aws_access(s, 'apigateway').endpoint_url or 'AWS'} "
            f"({e}): is the stack up (`pinpipe status`), or are the credentials right?"
        ) from e
    return api_gateway.invoke_url(s, api_id) if api_id else None


def api_key(s: Settings) -> str:
    """The value of the API key the stack created (profiles with ``api_key_required``)."""
    key_id = deploy.outputs(s).get(OUTPUT_API_KEY_ID)
    if not key_id:
        raise ProvisionError(
            f"the stack {deploy.stack_name(s)} has no API key: run `pinpipe deploy` first"
        )
    return str(aws_client(s, "apigateway").get_api_key(apiKey=key_id, includeValue=True)["value"])
