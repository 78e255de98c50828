"""The services of the local stack, described once.

Each description says how to prepare and launch the process, which ports it binds, what it
depends on and how to tell it is healthy. The native runner (``pinpipe up``) and the Docker
Compose generator (``pinpipe compose``) both read these, so the two modes cannot drift: a compose
container runs the very same ``pinpipe service run <name>`` that native mode runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe

import requests

from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox import health
from pinpipe.sandbox.health import Health

COMPOSE_DIR = PROJECT_ROOT / "compose"
LOCALSTACK_PYTHON = PROJECT_ROOT / ".venv-localstack" / "bin" / "python"
KINESIS_MOCK_VERSION = "0.4.13"
JVM_OPTS = ["-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Service:
    name: str
    description: str
    ports: tuple[str, ...]  # keys of Settings.ports this service binds
    depends_on: tuple[str, ...]
    launch: Callable[[Settings], Launch]
    health: Callable[[Settings], Health]
    url: Callable[[Settings], str]
    prepare: Callable[[Settings], None] | None = None
    hint: str = ""
    optional: bool = False  # not started by `up` (started on demand), stopped by `down`


def _host_port(endpoint: str) -> tuple[str, int]:
    hostport = endpoint.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    return host, int(port)


def _java(classpath_dir: Path, main: str, args: list[str], heap: str) -> list[str]:
    if not classpath_dir.is_dir():
        raise SandboxError(f"{classpath_dir} is missing: run `make setup` first")
    return [
        "java",
        f"-Xmx{heap}",
        *JVM_OPTS,
        f"-Dlog4j2.configurationFile={COMPOSE_DIR / 'log4j2.properties'}",
        "-cp",
        f"{classpath_dir}/*",
        main,
        *args,
    ]


def _render(template: Path, target: Path, **values: object) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = template.read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    target.write_text(text)


# --- Kafka -----------------------------------------------------------------------------------


def _kafka_dir(s: Settings) -> Path:
    return s.state_dir / "kafka"


def _kafka_prepare(s: Settings) -> None:
    props = _kafka_dir(s) / "server.properties"
    data = _kafka_dir(s) / "data"
    _render(
        COMPOSE_DIR / "kafka" / "server.properties",
        props,
        bind_host=s.bind_host,
        port=s.ports.kafka,
        controller_port=s.ports.kafka_controller,
        advertised=s.endpoints.kafka_bootstrap,
        data_dir=data,
    )
    if not (data / "meta.properties").exists():
        cluster_id = _kafka_cluster_id(s)
        argv = _java(
            s.build_dir / "jars" / "kafka",
            "kafka.tools.StorageTool",
            ["format", "--standalone", "-t", cluster_id, "-c", str(props)],
            heap="256m",
        )
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise SandboxError(f"formatting Kafka storage failed:\n{done.stdout}{done.stderr}")


def _kafka_cluster_id(s: Settings) -> str:
    # A base64 UUID as Kafka expects, stable per state folder.
    import base64

    raw = uuid.uuid5(uuid.NAMESPACE_URL, f"pinpipe:{s.state_dir}").bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _kafka_launch(s: Settings) -> Launch:
    props = _kafka_dir(s) / "server.properties"
    return Launch(_java(s.build_dir / "jars" / "kafka", "kafka.Kafka", [str(props)], heap="512m"))


def _kafka_health(s: Settings) -> Health:
    from confluent_kafka.admin import AdminClient

    host, port = _host_port(s.endpoints.kafka_bootstrap)
    reachable = health.tcp(host, port)
    if not reachable.ok:
        return reachable
    try:
        md = AdminClient({"bootstrap.servers": s.endpoints.kafka_bootstrap}).list_topics(timeout=3)
    except Exception as e:
        return Health(False, f"metadata request failed: {e}")
    return Health(bool(md.brokers), "" if md.brokers else "no broker in metadata")


# --- REST proxy ------------------------------------------------------------------------------


def _rest_proxy_launch(s: Settings) -> Launch:
    return Launch(
        [
            sys.executable,
            "-m",
            "pinpipe.services.rest_proxy",
            "--host",
            s.bind_host,
            "--port",
            str(s.ports.rest_proxy),
            "--bootstrap",
            s.endpoints.kafka_bootstrap,
        ]
    )


# --- LocalStack ------------------------------------------------------------------------------

LOCALSTACK_SERVICES = ("s3", "kinesis", "apigateway", "iam", "sts")


def localstack_root(s: Settings) -> Path:
    return s.build_dir / "localstack"


def _localstack_launch(s: Settings) -> Launch:
    if not LOCALSTACK_PYTHON.exists():
        raise SandboxError(f"{LOCALSTACK_PYTHON} is missing: run `make setup` first")
    env = {
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(localstack_root(s)),
        "GATEWAY_LISTEN": f"{s.bind_host}:{s.ports.localstack}",
        "SERVICES": ",".join(LOCALSTACK_SERVICES),
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DNS_ADDRESS": "0",
        "KINESIS_MOCK_PROVIDER_ENGINE": "node",
        "KINESIS_MOCK_VERSION": KINESIS_MOCK_VERSION,
        "AWS_DEFAULT_REGION": s.region,
    }
    return Launch([str(LOCALSTACK_PYTHON), "-m", "localstack.runtime.main"], env)


def _localstack_health(s: Settings) -> Health:
    url = f"{s.endpoints.s3}/_localstack/health"
    try:
        states = requests.get(url, timeout=2).json().get("services", {})
    except (requests.RequestException, ValueError) as e:
        return Health(False, f"GET {url}: {type(e).__name__}")
    bad = [n for n in LOCALSTACK_SERVICES if states.get(n) not in ("available", "running")]
    return Health(not bad, f"not ready: {', '.join(bad)}" if bad else "")


# --- Kafka Connect ---------------------------------------------------------------------------


def connect_plugin_dir(s: Settings) -> Path:
    return s.build_dir / "connect-plugins"


def _connect_prepare(s: Settings) -> None:
    _render(
        COMPOSE_DIR / "connect" / "worker.properties",
        s.state_dir / "connect" / "worker.properties",
        bootstrap=s.endpoints.kafka_bootstrap,
        bind_host=s.bind_host,
        port=s.ports.connect,
        advertised_host=_host_port(s.endpoints.kafka_connect)[0],
        plugin_path=connect_plugin_dir(s),
    )


def _connect_launch(s: Settings) -> Launch:
    props = s.state_dir / "connect" / "worker.properties"
    return Launch(
        _java(
            s.build_dir / "jars" / "connect",
            "org.apache.kafka.connect.cli.ConnectDistributed",
            [str(props)],
            heap="512m",
        )
    )


# --- Airflow ---------------------------------------------------------------------------------


def airflow_home(s: Settings) -> Path:
    return s.state_dir / "airflow"


def airflow_env(s: Settings) -> dict[str, str]:
    """Configuration shared by every Airflow process (and by ``airflow`` CLI calls)."""
    home = airflow_home(s)
    secrets = _airflow_secrets(s)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "airflow" / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{s.airflow.username}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{s.endpoints.airflow}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API__HOST": s.bind_host,
        "AIRFLOW__API__PORT": str(s.ports.airflow),
        "AIRFLOW__API__BASE_URL": s.endpoints.airflow,
        "AIRFLOW__API__SECRET_KEY": secrets["secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets["jwt_secret"],
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # New DAG files are found within seconds (the default waits up to five minutes).
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "PINPIPE_STATE_DIR": str(s.state_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def _airflow_secrets(s: Settings) -> dict[str, str]:
    """Secrets the Airflow processes must share, made once per state folder."""
    path = airflow_home(s) / "secrets.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    path.parent.mkdir(parents=True, exist_ok=True)
    secrets = {"secret_key": token_urlsafe(32), "jwt_secret": token_urlsafe(64)}
    path.write_text(json.dumps(secrets))
    path.chmod(0o600)
    return secrets


def _airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _airflow_prepare(s: Settings) -> None:
    home = airflow_home(s)
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({s.airflow.username: s.airflow.password.get_secret_value()}))
    passwords.chmod(0o600)
    env = {**os.environ, **airflow_env(s)}
    done = subprocess.run(
        [_airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SandboxError(
            f"`airflow db migrate` failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )


def _airflow_launch(*command: str) -> Callable[[Settings], Launch]:
    def launch(s: Settings) -> Launch:
        return Launch([_airflow_bin(), *command], airflow_env(s))

    return launch


def _airflow_component_health(component: str) -> Callable[[Settings], Health]:
    def check(s: Settings) -> Health:
        url = f"{s.endpoints.airflow}/api/v2/monitor/health"
        try:
            status = requests.get(url, timeout=2).json()[component]["status"]
        except (requests.RequestException, ValueError, KeyError) as e:
            return Health(False, f"GET {url}: {type(e).__name__}")
        return Health(status == "healthy", f"{component} is {status}")

    return check


# --- The stack -------------------------------------------------------------------------------


def all_services() -> list[Service]:
    """Every service, in a valid start order."""
    return [
        Service(
            name="kafka",
            description="Apache Kafka broker (KRaft, single node)",
            ports=("kafka", "kafka_controller"),
            depends_on=(),
            prepare=_kafka_prepare,
            launch=_kafka_launch,
            health=_kafka_health,
            url=lambda s: s.endpoints.kafka_bootstrap,
            hint="If the log mentions the cluster id or meta.properties, "
            "`make reset` wipes Kafka's data.",
        ),
        Service(
            name="localstack",
            description="LocalStack: S3, Kinesis, API Gateway, IAM, STS",
            ports=("localstack",),
            depends_on=(),
            launch=_localstack_launch,
            health=_localstack_health,
            url=lambda s: s.endpoints.s3,
            hint="`make setup` installs LocalStack and its Kinesis engine.",
        ),
        Service(
            name="rest-proxy",
            description="Kafka REST proxy (Confluent v2 API)",
            ports=("rest_proxy",),
            depends_on=("kafka",),
            launch=_rest_proxy_launch,
            health=lambda s: health.http_ok(f"http://{s.endpoints.rest_proxy}/topics"),
            url=lambda s: f"http://{s.endpoints.rest_proxy}",
        ),
        Service(
            name="connect",
            description="Kafka Connect with the S3 sink",
            ports=("connect",),
            depends_on=("kafka", "localstack"),
            prepare=_connect_prepare,
            launch=_connect_launch,
            health=lambda s: health.http_ok(f"{s.endpoints.kafka_connect}/connectors"),
            url=lambda s: s.endpoints.kafka_connect,
        ),
        Service(
            name="airflow-api-server",
            description="Airflow API server and UI",
            ports=("airflow",),
            depends_on=(),
            prepare=_airflow_prepare,
            launch=_airflow_launch("api-server"),
            health=lambda s: health.http_ok(f"{s.endpoints.airflow}/api/v2/monitor/health"),
            url=lambda s: s.endpoints.airflow,
        ),
        Service(
            name="airflow-scheduler",
            description="Airflow scheduler",
            ports=(),
            depends_on=("airflow-api-server",),
            # The log server would bind 0.0.0.0:8793; task logs are local files anyway.
            launch=_airflow_launch("scheduler", "--skip-serve-logs"),
            health=_airflow_component_health("scheduler"),
            url=lambda s: "",
        ),
        Service(
            name="airflow-dag-processor",
            description="Airflow DAG processor",
            ports=(),
            depends_on=("airflow-api-server",),
            launch=_airflow_launch("dag-processor"),
            health=_airflow_component_health("dag_processor"),
            url=lambda s: "",
        ),
    ]


def _streaming_launch(s: Settings) -> Launch:
    return Launch([sys.executable, "-m", "pinpipe.spark.streaming.job"])


def _streaming_health(s: Settings) -> Health:
    from pinpipe.sandbox import runner

    running = runner.running_pid(s, "streaming") is not None
    return Health(running, "" if running else "not running")


STREAMING = Service(
    name="streaming",
    description="Spark Structured Streaming: Kinesis -> Delta",
    ports=(),
    depends_on=("localstack",),
    launch=_streaming_launch,
    health=_streaming_health,
    url=lambda s: "",
    optional=True,
    hint="`pinpipe logs streaming` shows the Spark job's log.",
)


def service_named(name: str) -> Service:
    for service in [*all_services(), STREAMING]:
        if service.name == name:
            return service
    known = ", ".join(s.name for s in [*all_services(), STREAMING])
    raise SandboxError(f"no service named {name!r} (known: {known})")
