"""All configuration in one validated, immutable object.

Precedence, highest first: environment variables (``PINPIPE_<KEY>``, nested keys joined with
``__``, e.g. ``PINPIPE_PORTS__KAFKA=19092``), the git-ignored ``pinpipe.toml`` at the project
root, the profile file ``aws/profiles/<profile>.toml``, then the defaults below.
"""

from __future__ import annotations

import importlib.resources
import ipaddress
import os
import tomllib
from contextvars import ContextVar
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pinpipe.contract import (
    JOIN_YEARS,
    POST_YEARS,
    TABLES,
    YEAR_RANGE_PATTERN,
    stream_name,
    topic_name,
    year_range_text,
)
from pinpipe.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Run from a checkout, the sandbox keeps its state and builds in it; installed from the wheel
# (a Databricks cluster, MWAA), in the user's home.
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()
HOME_DIR = PROJECT_ROOT if IN_CHECKOUT else Path.home() / ".pinpipe"
# Package data, so that the installed wheel finds its profiles too.
PROFILES_DIR: Traversable = importlib.resources.files("pinpipe.aws") / "profiles"
USER_CONFIG_FILE = HOME_DIR / "pinpipe.toml"
ENV_PREFIX = "PINPIPE_"

Port = int


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ports(_Frozen):
    """Every port the local stack binds, all on 127.0.0.1."""

    kafka: Port = Field(default=9092, ge=1, le=65535)
    kafka_controller: Port = Field(default=9093, ge=1, le=65535)
    rest_proxy: Port = Field(default=8082, ge=1, le=65535)
    connect: Port = Field(default=8083, ge=1, le=65535)
    localstack: Port = Field(default=4566, ge=1, le=65535)
    lake: Port = Field(default=7070, ge=1, le=65535)
    airflow: Port = Field(default=8080, ge=1, le=65535)
    spark_connect: Port = Field(default=15002, ge=1, le=65535)
    spark_ui: Port = Field(default=4040, ge=1, le=65535)


class Endpoints(_Frozen):
    """Where each service is reached; empty strings mean the AWS SDK default. For the AWS
    services the SDK's ``AWS_ENDPOINT_URL_<SERVICE>`` and ``AWS_ENDPOINT_URL`` variables win
    (see ``pinpipe.aws_access``)."""

    s3: str = ""
    kinesis: str = ""
    apigateway: str = ""
    iam: str = ""
    sts: str = ""
    cloudformation: str = ""
    ssm: str = ""
    kafka_bootstrap: str = ""
    kafka_connect: str = ""
    rest_proxy: str = ""
    airflow: str = ""
    # Where the Spark jobs run: a Spark Connect URL (sc://host:port), or empty for a Spark of
    # their own in their process (on Databricks: the cluster's session).
    spark_connect: str = ""


class Credentials(_Frozen):
    source: Literal["static", "default-chain"] = "default-chain"
    access_key_id: str = ""
    secret_access_key: SecretStr = SecretStr("")


class Airflow(_Frozen):
    username: str = "admin"
    # Empty: generated at the first start and kept in state/airflow/admin-password.
    password: SecretStr = SecretStr("")


class Sink(_Frozen):
    """How the S3 sink batches records into objects."""

    flush_size: int = Field(default=1000, ge=1)
    rotate_interval_ms: int = Field(default=5000, ge=100)


class Databricks(_Frozen):
    """The workspace the jobs run in when ``batch.runner`` is databricks (the aws profile).
    ``pinpipe deploy`` creates the jobs there; the token comes from the Databricks SDK's own
    sources (DATABRICKS_TOKEN, ~/.databrickscfg, OAuth), and MWAA reads its connection from
    Secrets Manager: never from a profile."""

    # The Airflow connection to the workspace (on MWAA, a secret under airflow/connections/).
    connection_id: str = "databricks_default"
    # The workspace URL; empty: DATABRICKS_HOST or ~/.databrickscfg.
    host: str = ""
    # Run on this cluster instead of a job cluster per run.
    existing_cluster_id: str = ""
    spark_version: str = "17.3.x-scala2.13"
    node_type_id: str = "m5d.large"
    num_workers: int = Field(default=1, ge=0)
    # Where `pinpipe deploy` uploads the wheel: a workspace folder or a Unity Catalog volume.
    artifacts_path: str = Field(
        default="/Workspace/Shared/pinpipe", pattern=r"^/(Workspace|Volumes)/.+[^/]$"
    )
    # How the clusters reach the lake: Unity Catalog (an external location over the bucket,
    # granted to the jobs' owner), or an instance profile registered in the workspace.
    lake_access: Literal["unity-catalog", "instance-profile"] = "unity-catalog"
    instance_profile_arn: str = Field(
        default="", pattern=r"^(arn:aws[a-z-]*:iam::\d{12}:instance-profile/.+)?$"
    )


class Streaming(_Frozen):
    """Which Spark source reads Kinesis: Databricks' built-in one on a cluster, else the
    project's own; both take the same options."""

    kinesis_source: Literal["pinpipe", "databricks"] = "pinpipe"
    # Read the streams as this role (the option roleArn); empty: the session's credentials.
    role_arn: str = Field(default="", pattern=r"^(arn:aws[a-z-]*:iam::\d{12}:role/.+)?$")


Part = Literal["lake", "streams", "api", "kafka", "connect", "orchestration"]
PARTS: tuple[Part, ...] = ("lake", "streams", "api", "kafka", "connect", "orchestration")


class Deploy(_Frozen):
    """What ``pinpipe deploy`` puts in the cloud (the CDK app in ``aws/infra``); a part not in
    ``parts`` is the sandbox's own process. ``aws/profiles/aws.toml`` explains every key."""

    parts: tuple[Part, ...] = ("api",)
    account: str = Field(default="", pattern=r"^(\d{12})?$")
    api_key_required: bool = False
    access_logs: bool = False
    throttle_rate_per_s: float = Field(default=50.0, gt=0)
    throttle_burst: int = Field(default=100, ge=1)
    quota_per_day: int = Field(default=200_000, ge=1)
    vpc_cidr: str = "10.40.0.0/16"
    nat_gateways: int = Field(default=1, ge=0, le=2)
    msk_flavour: Literal["serverless", "provisioned"] = "serverless"
    msk_kafka_version: str = "3.8.x"
    msk_broker_type: str = "kafka.t3.small"
    msk_brokers_per_az: int = Field(default=1, ge=1)
    msk_volume_gib: int = Field(default=20, ge=1)
    rest_proxy_instance_type: str = "t3.small"
    mwaa_airflow_version: str = "3.0.6"
    mwaa_environment_class: str = "mw1.small"
    mwaa_max_workers: int = Field(default=2, ge=1)
    log_retention_days: int = Field(default=14, ge=1)
    # A Secrets Manager name, never a value: the Databricks connection MWAA's secrets backend
    # reads.
    databricks_secret: str = "airflow/connections/databricks_default"

    @field_validator("parts")
    @classmethod
    def _parts_hang_together(cls, v: tuple[Part, ...]) -> tuple[Part, ...]:
        for part in ("connect", "orchestration"):
            if part in v and "kafka" not in v:
                raise ValueError(f"'{part}' needs 'kafka': it runs in the VPC made with MSK")
        if "kafka" in v and "api" not in v:
            raise ValueError("'kafka' needs 'api': API Gateway is what reaches the REST proxy")
        return tuple(p for p in PARTS if p in v)


class Batch(_Frozen):
    runner: Literal["local", "databricks"] = "local"
    # Heap of the stack's Spark Connect server, which runs the batch steps: most of its memory.
    server_memory: str = Field(default="1g", pattern=r"^[1-9][0-9]*[mg]$")
    post_years: str = Field(default=year_range_text(POST_YEARS), pattern=YEAR_RANGE_PATTERN)
    join_years: str = Field(default=year_range_text(JOIN_YEARS), pattern=YEAR_RANGE_PATTERN)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    profile: Literal["local", "aws"] = "local"
    uid: str = Field(
        default="0a1b2c3d4e5f", description="Pipeline user id; every resource name derives from it."
    )
    region: str = "us-east-1"
    allow_external_bind: bool = Field(
        default=False, description="allow a bind_host other than loopback (exposes the stack)"
    )
    bind_host: str = Field(default="127.0.0.1", description="the address every service listens on")
    topic_partitions: int = Field(default=1, ge=1)
    stream_shards: int = Field(default=2, ge=1)
    api_stage: str = "dev"
    state_dir: Path = HOME_DIR / "state"
    build_dir: Path = HOME_DIR / "build"
    ports: Ports = Ports()
    endpoints: Endpoints = Endpoints()
    credentials: Credentials = Credentials()
    airflow: Airflow = Airflow()
    sink: Sink = Sink()
    batch: Batch = Batch()
    databricks: Databricks = Databricks()
    streaming: Streaming = Streaming()
    deploy: Deploy = Deploy()
    lake_uri: str = Field(default="", description="the lake's root URI; empty: the bucket, over S3")
    source_db: str = Field(
        default="", description="SQLAlchemy URL of the source database; empty: SQLite in state_dir"
    )
    start_timeout_s: float = Field(default=180.0, gt=0)

    @field_validator("uid")
    @classmethod
    def _uid_is_a_name(cls, v: str) -> str:
        if not v or not all(c.isalnum() or c == "-" for c in v) or v != v.lower():
            raise ValueError("must be lower-case letters, digits or '-'")
        return v

    @field_validator("bind_host")
    @classmethod
    def _bind_host_is_loopback(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("allow_external_bind") or _is_loopback(v):
            return v
        raise ValueError(
            f"{v!r} is not a loopback address, so the sandbox (which has "
            "no authentication) would be reachable from other machines; use 127.0.0.1, or set "
            "allow_external_bind = true (PINPIPE_ALLOW_EXTERNAL_BIND=true) if you mean it"
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments, then the environment, then the configuration files.
        return (init_settings, env_settings, _FileValues(settings_cls))

    # Names derived from the uid: the same in LocalStack and in AWS.
    @property
    def bucket(self) -> str:
        return f"user-{self.uid}-bucket"

    @property
    def topics(self) -> dict[str, str]:
        return {t: topic_name(self.uid, t) for t in TABLES}

    @property
    def streams(self) -> dict[str, str]:
        return {t: stream_name(self.uid, t) for t in TABLES}

    @property
    def api_name(self) -> str:
        return f"pinpipe-{self.uid}"

    @property
    def connector_name(self) -> str:
        return f"pinpipe-{self.uid}-s3-sink"

    @property
    def source_db_url(self) -> str:
        return self.source_db or f"sqlite:///{self.state_dir / 'source' / 'pinterest.db'}"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_FILE_VALUES: ContextVar[dict[str, Any]] = ContextVar("file_values")


class _FileValues(PydanticBaseSettingsSource):
    """Values read from the profile and user files by ``load_settings``."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _FILE_VALUES.get({})


def _read_toml(path: Path | Traversable) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _fill_placeholders(values: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Expand ``{ports.kafka}``-style references in profile values."""
    context = {"ports": settings.ports, "uid": settings.uid, "region": settings.region}
    return {
        k: _fill_placeholders(v, settings)
        if isinstance(v, dict)
        else v.format(**context)
        if isinstance(v, str)
        else v
        for k, v in values.items()
    }


def _env_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + "__".join(str(p).upper() for p in loc)


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the configuration; errors name the key and where to set it."""
    user = _read_toml(USER_CONFIG_FILE)
    profile = (
        overrides.get("profile")
        or os.environ.get(ENV_PREFIX + "PROFILE")
        or user.get("profile", "local")
    )
    profile_file = PROFILES_DIR / f"{profile}.toml"
    if not profile_file.is_file():
        known = ", ".join(
            sorted(p.name.removesuffix(".toml") for p in PROFILES_DIR.iterdir() if p.is_file())
        )
        raise ConfigError(
            f"profile: no profile named {profile!r} (known: {known}); "
            f"set {ENV_PREFIX}PROFILE or 'profile' in {USER_CONFIG_FILE.name}"
        )
    files = _merge(_read_toml(profile_file), user)
    files["profile"] = profile
    token = _FILE_VALUES.set({k: v for k, v in files.items() if k != "endpoints"})
    try:
        # First pass: everything but the endpoints, whose placeholders need the ports and uid.
        first = Settings(**{k: v for k, v in overrides.items() if k != "endpoints"})
        files["endpoints"] = _fill_placeholders(files.get("endpoints", {}), first)
        _FILE_VALUES.set(files)
        return Settings(**overrides)
    except ValidationError as e:
        problems = [
            f"  {'.'.join(map(str, err['loc']))} (env {_env_name(err['loc'])}): {err['msg']}"
            for err in e.errors()
        ]
        raise ConfigError("invalid configuration:\n" + "\n".join(problems)) from e
    except (KeyError, AttributeError) as e:
        raise ConfigError(f"{profile_file}: unknown placeholder {e}") from e
    finally:
        _FILE_VALUES.reset(token)


@cache
def settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
