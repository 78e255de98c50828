"""Where and as whom the pipeline reaches an AWS service, decided in one place for every client.

``aws_access(settings, service)`` picks the endpoint the way the AWS SDKs do, so boto3, Spark's
s3a, delta-rs, the Kinesis source and the S3 sink all go to the same place:

1. the service's own variable, ``AWS_ENDPOINT_URL_<SERVICE>`` (``ENDPOINT_VARIABLES``);
2. the global ``AWS_ENDPOINT_URL``;
3. the profile's ``endpoints.<service>``;
4. none: the SDK's default endpoint for the region.

Empty values count as unset, and ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`` skips 1 and 2, as
in the SDKs. The credentials are the profile's keys when ``credentials.source`` is ``static``,
else None: the SDK's default chain (environment, ``~/.aws``, instance role).

The renderers turn the result into what each client takes; none of them looks at the settings
or the environment again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pinpipe.config import Settings

Service = Literal["s3", "kinesis", "apigateway", "iam", "sts", "cloudformation", "ssm"]

# The SDKs' service-specific variables: the service id upper-cased, spaces as underscores.
ENDPOINT_VARIABLES: dict[str, str] = {
    "s3": "AWS_ENDPOINT_URL_S3",
    "kinesis": "AWS_ENDPOINT_URL_KINESIS",
    "apigateway": "AWS_ENDPOINT_URL_API_GATEWAY",
    "iam": "AWS_ENDPOINT_URL_IAM",
    "sts": "AWS_ENDPOINT_URL_STS",
    "cloudformation": "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "ssm": "AWS_ENDPOINT_URL_SSM",
}
GLOBAL_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
IGNORE_ENDPOINT_VARIABLES = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class StaticKeys:
    access_key_id: str
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class AwsAccess:
    """One service's region, endpoint (None: the SDK default) and credentials (None: the
    SDK's default chain)."""

    region: str
    endpoint_url: str | None = None
    credentials: StaticKeys | None = None

    def boto3_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``boto3.client(service, ...)`` and ``boto3.resource``."""
        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        if self.credentials is not None:
            kwargs["aws_access_key_id"] = self.credentials.access_key_id
            kwargs["aws_secret_access_key"] = self.credentials.secret_access_key
        return kwargs

    def delta_storage_options(self) -> dict[str, str]:
        """delta-rs ``storage_options`` for ``s3://`` tables."""
        options = {"AWS_REGION": self.region}
        if self.endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.endpoint_url
            options["AWS_ALLOW_HTTP"] = str(self.endpoint_url.startswith("http:")).lower()
        if self.credentials is not None:
            options["AWS_ACCESS_KEY_ID"] = self.credentials.access_key_id
            options["AWS_SECRET_ACCESS_KEY"] = self.credentials.secret_access_key
        return options

    def spark_s3a_conf(self) -> dict[str, str]:
        """Spark configuration (``spark.hadoop.fs.s3a.*``) for Hadoop's S3A file system."""
        prefix = "spark.hadoop.fs.s3a."
        conf = {f"{prefix}endpoint.region": self.region}
        if self.endpoint_url:
            conf[f"{prefix}endpoint"] = self.endpoint_url
            conf[f"{prefix}path.style.access"] = "true"
            ssl = self.endpoint_url.startswith("https")
            conf[f"{prefix}connection.ssl.enabled"] = str(ssl).lower()
        if self.credentials is not None:
            conf[f"{prefix}aws.credentials.provider"] = (
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
            )
            conf[f"{prefix}access.key"] = self.credentials.access_key_id
            conf[f"{prefix}secret.key"] = self.credentials.secret_access_key
        return conf

    def kinesis_source_options(self) -> dict[str, str]:
        """Options of Spark's ``kinesis`` source (Databricks' names, also taken by ours)."""
        options = {"region": self.region}
        if self.endpoint_url:
            options["endpoint"] = self.endpoint_url
        if self.credentials is not None:
            options["awsAccessKey"] = self.credentials.access_key_id
            options["awsSecretKey"] = self.credentials.secret_access_key
        return options

    @classmethod
    def from_kinesis_source_options(cls, options: Mapping[str, str]) -> AwsAccess:
        """The inverse of ``kinesis_source_options``; option names in any case, as in Spark."""
        lower = {k.lower(): v for k, v in options.items()}
        keys = None
        if lower.get("awsaccesskey"):
            keys = StaticKeys(lower["awsaccesskey"], lower.get("awssecretkey", ""))
        return cls(lower.get("region") or DEFAULT_REGION, lower.get("endpoint") or None, keys)

    def s3_sink_config(self) -> dict[str, str]:
        """The S3 sink connector's region, endpoint and credential keys."""
        config = {"s3.region": self.region}
        if self.endpoint_url:
            config["store.url"] = self.endpoint_url
            config["s3.path.style.access.enabled"] = "true"
        if self.credentials is not None:
            config["aws.access.key.id"] = self.credentials.access_key_id
            config["aws.secret.access.key"] = self.credentials.secret_access_key
        return config


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def endpoint_url(
    settings: Settings, service: Service, environ: Mapping[str, str] | None = None
) -> str | None:
    """The service's endpoint by the precedence above; None means the SDK default."""
    if service not in ENDPOINT_VARIABLES:
        known = ", ".join(ENDPOINT_VARIABLES)
        raise ValueError(f"unknown AWS service {service!r} (known: {known})")
    env = os.environ if environ is None else environ
    candidates = []
    if not _is_true(env.get(IGNORE_ENDPOINT_VARIABLES)):
        candidates += [env.get(ENDPOINT_VARIABLES[service]), env.get(GLOBAL_ENDPOINT_VARIABLE)]
    candidates.append(getattr(settings.endpoints, service))
    return next((url for url in candidates if url), None)


def aws_access(
    settings: Settings, service: Service, environ: Mapping[str, str] | None = None
) -> AwsAccess:
    """How to reach ``service`` under these settings (``environ``: default ``os.environ``)."""
    creds = settings.credentials
    keys = (
        StaticKeys(creds.access_key_id, creds.secret_access_key.get_secret_value())
        if creds.source == "static"
        else None
    )
    return AwsAccess(settings.region, endpoint_url(settings, service, environ), keys)


def aws_client(settings: Settings, service: Service, config: Any = None) -> Any:
    """A boto3 client for ``service`` under these settings (``config``: a botocore Config for
    its timeouts and retries)."""
    import boto3

    kwargs = aws_access(settings, service).boto3_kwargs()
    return boto3.client(service, **kwargs, **({"config": config} if config else {}))
