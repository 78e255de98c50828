"""Create, idempotently, every cloud resource the pipeline needs, with the same code for
LocalStack and AWS: the lake bucket, the Kafka topics, the Kinesis streams, the IAM role API
Gateway uses to reach Kinesis, and the REST API with its stage."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from pinpipe.aws import api_gateway
from pinpipe.aws_access import aws_access, aws_client
from pinpipe.config import Settings
from pinpipe.errors import ProvisionError

Step = Callable[[str], None]

APIGW_ASSUME_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


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


def stream_arn(s: Settings, account: str, stream: str) -> str:
    return f"arn:aws:kinesis:{s.region}:{account}:stream/{stream}"


def apigateway_role_policy(s: Settings, account: str) -> dict[str, object]:
    """What API Gateway may do in Kinesis: write to and manage the pipeline's own streams only.
    Listing needs a stream-pattern resource; it reveals names in this account, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PipelineStreams",
                "Effect": "Allow",
                "Action": [
                    "kinesis:PutRecord",
                    "kinesis:PutRecords",
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:CreateStream",
                    "kinesis:DeleteStream",
                ],
                "Resource": [stream_arn(s, account, name) for name in s.streams.values()],
            },
            {
                "Sid": "ListStreams",
                "Effect": "Allow",
                "Action": ["kinesis:ListStreams"],
                "Resource": [stream_arn(s, account, "*")],
            },
        ],
    }


def ensure_apigateway_role(s: Settings) -> str:
    """The role API Gateway assumes to call Kinesis; its policy is (re)applied every time."""
    iam = aws_client(s, "iam")
    sts = aws_client(s, "sts")
    account = sts.get_caller_identity()["Account"]
    name = f"pinpipe-{s.uid}-apigateway-kinesis"
    try:
        arn = str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        arn = str(
            iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=json.dumps(APIGW_ASSUME_ROLE_POLICY)
            )["Role"]["Arn"]
        )
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        # An earlier version of this role allowed every stream.
        iam.delete_role_policy(RoleName=name, PolicyName="kinesis-put")
    iam.put_role_policy(
        RoleName=name,
        PolicyName="kinesis-pipeline-streams",
        PolicyDocument=json.dumps(apigateway_role_policy(s, account)),
    )
    return arn


def provision(s: Settings, step: Step = lambda _: None) -> str:
    """Apply everything; returns the API's invoke URL (stage included)."""
    step("bucket")
    ensure_bucket(s)
    step("topics")
    ensure_topics(s)
    step("streams")
    ensure_streams(s)
    step("api")
    role_arn = ensure_apigateway_role(s)
    api_id = api_gateway.deploy_api(s, role_arn, backend_host=s.endpoints.rest_proxy)
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
