"""Create, idempotently, every resource the pipeline needs. What the profile deploys
(``[deploy] parts``) comes from the CDK app through CloudFormation, the same in LocalStack and
AWS; what it leaves to the sandbox's own processes (the lake's bucket, Kafka's topics, the
streams kinesis-mock keeps across restarts) is created here with their own APIs."""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from pinpipe.aws import api_gateway, deploy
from pinpipe.aws.infra.outputs import OUTPUT_API_ID, OUTPUT_API_KEY_ID
from pinpipe.aws_access import aws_access, aws_client
from pinpipe.config import Settings
from pinpipe.errors import ProvisionError

Step = Callable[[str], None]


def ensure_bucket(s: Settings) -> None:
    s3 = aws_client(s, "s3")
    try:
        s3.head_bucket(Bucket=s.bucket)
        return
    except ClientError:
        pass
    kwargs = (
        {}
        if s.region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": s.region}}
    )
    s3.create_bucket(Bucket=s.bucket, **kwargs)


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
