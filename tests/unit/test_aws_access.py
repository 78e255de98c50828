from __future__ import annotations

from typing import Any

import pytest

from pinpipe import tables
from pinpipe.aws import api_gateway, connector
from pinpipe.aws_access import AwsAccess, StaticKeys, aws_access, aws_client, endpoint_url
from pinpipe.config import Settings, load_settings

pytestmark = pytest.mark.unit

LAKE = "http://127.0.0.1:7070"
OTHER = "http://other.example:4566"
GLOBAL = "https://global.example"


@pytest.fixture
def local() -> Settings:
    return load_settings(profile="local")


@pytest.fixture
def aws() -> Settings:
    return load_settings(profile="aws")


# Where: the service's variable, then the global one, then the profile, then the SDK default.


def test_without_variables_the_profile_decides(local: Settings, aws: Settings) -> None:
    assert endpoint_url(local, "s3", {}) == local.endpoints.s3
    assert endpoint_url(local, "kinesis", {}) == local.endpoints.kinesis
    assert endpoint_url(aws, "s3", {}) is None


@pytest.mark.parametrize(
    ("service", "variable"),
    [
        ("s3", "AWS_ENDPOINT_URL_S3"),
        ("kinesis", "AWS_ENDPOINT_URL_KINESIS"),
        ("apigateway", "AWS_ENDPOINT_URL_API_GATEWAY"),
        ("iam", "AWS_ENDPOINT_URL_IAM"),
        ("sts", "AWS_ENDPOINT_URL_STS"),
    ],
)
def test_the_service_variable_wins_over_the_global_one_and_the_profile(
    local: Settings, service: Any, variable: str
) -> None:
    env = {variable: OTHER, "AWS_ENDPOINT_URL": GLOBAL}
    assert endpoint_url(local, service, env) == OTHER


def test_the_global_variable_wins_over_the_profile(local: Settings, aws: Settings) -> None:
    assert endpoint_url(local, "kinesis", {"AWS_ENDPOINT_URL": GLOBAL}) == GLOBAL
    assert endpoint_url(aws, "sts", {"AWS_ENDPOINT_URL": GLOBAL}) == GLOBAL


def test_another_services_variable_does_not_apply(local: Settings) -> None:
    env = {"AWS_ENDPOINT_URL_S3": OTHER}
    assert endpoint_url(local, "kinesis", env) == local.endpoints.kinesis


def test_empty_variables_count_as_unset(local: Settings, aws: Settings) -> None:
    env = {"AWS_ENDPOINT_URL_S3": "", "AWS_ENDPOINT_URL": ""}
    assert endpoint_url(local, "s3", env) == local.endpoints.s3
    assert endpoint_url(aws, "s3", env) is None


def test_the_sdk_switch_ignores_the_variables(local: Settings) -> None:
    env = {
        "AWS_ENDPOINT_URL_S3": OTHER,
        "AWS_ENDPOINT_URL": GLOBAL,
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "True",
    }
    assert endpoint_url(local, "s3", env) == local.endpoints.s3


def test_the_process_environment_is_read_by_default(
    local: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS", OTHER)
    assert aws_access(local, "kinesis").endpoint_url == OTHER
    assert aws_access(local, "s3").endpoint_url == local.endpoints.s3


def test_an_unknown_service_is_refused(local: Settings) -> None:
    with pytest.raises(ValueError, match="unknown AWS service 'lambda'"):
        endpoint_url(local, "lambda", {})


# As whom: the profile's static keys, or the SDK's default chain.


def test_static_credentials_come_from_the_profile(local: Settings) -> None:
    access = aws_access(local, "s3", {})
    assert access == AwsAccess(local.region, local.endpoints.s3, StaticKeys("test", "test"))


def test_the_default_chain_has_no_keys(aws: Settings) -> None:
    assert aws_access(aws, "kinesis", {}) == AwsAccess(aws.region, None, None)


def test_the_secret_stays_out_of_the_repr() -> None:
    access = AwsAccess("eu-west-1", None, StaticKeys("AKIDEXAMPLE", "very-secret"))
    assert "AKIDEXAMPLE" in repr(access) and "very-secret" not in repr(access)


# Renderers.

STATIC = AwsAccess("eu-west-1", LAKE, StaticKeys("key", "secret"))
CHAIN = AwsAccess("eu-west-1")


def test_boto3_kwargs() -> None:
    assert STATIC.boto3_kwargs() == {
        "region_name": "eu-west-1",
        "endpoint_url": LAKE,
        "aws_access_key_id": "key",
        "aws_secret_access_key": "secret",
    }
    assert CHAIN.boto3_kwargs() == {"region_name": "eu-west-1"}


def test_delta_storage_options() -> None:
    assert STATIC.delta_storage_options() == {
        "AWS_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": LAKE,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    https = AwsAccess("eu-west-1", "https://s3.example")
    assert https.delta_storage_options()["AWS_ALLOW_HTTP"] == "false"
    assert CHAIN.delta_storage_options() == {"AWS_REGION": "eu-west-1"}


def test_spark_s3a_conf() -> None:
    p = "spark.hadoop.fs.s3a."
    assert STATIC.spark_s3a_conf() == {
        f"{p}endpoint.region": "eu-west-1",
        f"{p}endpoint": LAKE,
        f"{p}path.style.access": "true",
        f"{p}connection.ssl.enabled": "false",
        f"{p}aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        f"{p}access.key": "key",
        f"{p}secret.key": "secret",
    }
    https = AwsAccess("eu-west-1", "https://s3.example")
    assert https.spark_s3a_conf()[f"{p}connection.ssl.enabled"] == "true"
    assert CHAIN.spark_s3a_conf() == {f"{p}endpoint.region": "eu-west-1"}


def test_kinesis_source_options_and_back() -> None:
    options = STATIC.kinesis_source_options()
    assert options == {
        "region": "eu-west-1",
        "endpoint": LAKE,
        "awsAccessKey": "key",
        "awsSecretKey": "secret",
    }
    assert CHAIN.kinesis_source_options() == {"region": "eu-west-1"}
    # Spark hands the source its options with the names in lower case.
    lowered = {k.lower(): v for k, v in options.items()}
    assert AwsAccess.from_kinesis_source_options(lowered) == STATIC
    assert AwsAccess.from_kinesis_source_options(CHAIN.kinesis_source_options()) == CHAIN
    assert AwsAccess.from_kinesis_source_options({}) == AwsAccess("us-east-1")


def test_s3_sink_config() -> None:
    assert STATIC.s3_sink_config() == {
        "s3.region": "eu-west-1",
        "store.url": LAKE,
        "s3.path.style.access.enabled": "true",
        "aws.access.key.id": "key",
        "aws.secret.access.key": "secret",
    }
    assert CHAIN.s3_sink_config() == {"s3.region": "eu-west-1"}


# The clients use it.


def test_the_lake_clients_follow_the_s3_variable(
    local: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tables.storage_options(local)["AWS_ENDPOINT_URL"] == local.endpoints.s3
    assert connector.connector_config(local)["store.url"] == local.endpoints.s3
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", OTHER)
    assert tables.storage_options(local)["AWS_ENDPOINT_URL"] == OTHER
    config = connector.connector_config(local)
    assert config["store.url"] == OTHER and config["s3.region"] == local.region


def test_the_aws_profile_leaves_the_sink_on_the_sdk_defaults(aws: Settings) -> None:
    config = connector.connector_config(aws)
    assert "store.url" not in config and "aws.access.key.id" not in config


def test_the_invoke_url_follows_the_api_gateway_variable(
    local: Settings, aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api_gateway.invoke_url(aws, "abc").startswith("https://abc.execute-api.")
    monkeypatch.setenv("AWS_ENDPOINT_URL_API_GATEWAY", OTHER)
    expected = f"{OTHER}/_aws/execute-api/abc/{local.api_stage}"
    assert api_gateway.invoke_url(local, "abc") == expected
    assert api_gateway.invoke_url(aws, "abc") == expected


def test_the_streaming_job_and_its_kinesis_source_agree(
    local: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pinpipe.spark.streaming import job, kinesis_source

    monkeypatch.setenv("AWS_ENDPOINT_URL", GLOBAL)
    options = job.kinesis_options(local, "pin")
    assert options["streamName"] == local.streams["pin"]
    assert options["endpoint"] == GLOBAL and options["awsAccessKey"] == "test"
    made: dict[str, Any] = {}
    monkeypatch.setattr("boto3.client", lambda service, **kwargs: made.update(kwargs))
    kinesis_source.kinesis_client({k.lower(): v for k, v in options.items()})
    assert made == aws_access(local, "kinesis").boto3_kwargs()


def test_aws_client_is_made_with_the_same_arguments(
    local: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: dict[str, Any] = {}
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", OTHER)
    monkeypatch.setattr(
        "boto3.client", lambda service, **kwargs: made.update(service=service, **kwargs)
    )
    aws_client(local, "sts")
    assert made == {"service": "sts", **aws_access(local, "sts").boto3_kwargs()}
    assert made["endpoint_url"] == OTHER
