"""Apache Kafka, one KRaft node.

Durability: the log lives in ``state/kafka/data``. A produce is acknowledged (``acks=all``) once
the broker has appended it; the file system keeps appended data when the process is killed,
and the broker recovers its log segments on the next start.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from pinpipe.config import Settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox import health
from pinpipe.sandbox.health import Health
from pinpipe.sandbox.services.base import COMPOSE_DIR, Launch, Service, host_port, java, render


def _dir(s: Settings) -> Path:
    return s.state_dir / "kafka"


def _cluster_id(s: Settings) -> str:
    # A base64 UUID as Kafka expects, stable per state folder.
    raw = uuid.uuid5(uuid.NAMESPACE_URL, f"pinpipe:{s.state_dir}").bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _prepare(s: Settings) -> None:
    props = _dir(s) / "server.properties"
    data = _dir(s) / "data"
    render(
        COMPOSE_DIR / "kafka" / "server.properties",
        props,
        bind_host=s.bind_host,
        port=s.ports.kafka,
        controller_port=s.ports.kafka_controller,
        advertised=s.endpoints.kafka_bootstrap,
        data_dir=data,
    )
    if (data / "meta.properties").exists():
        return
    argv = java(
        s.build_dir / "jars" / "kafka",
        "kafka.tools.StorageTool",
        ["format", "--standalone", "-t", _cluster_id(s), "-c", str(props)],
        heap="256m",
    )
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise SandboxError(f"formatting Kafka storage failed:\n{done.stdout}{done.stderr}")


def _launch(s: Settings) -> Launch:
    props = _dir(s) / "server.properties"
    return Launch(java(s.build_dir / "jars" / "kafka", "kafka.Kafka", [str(props)], heap="512m"))


def _health(s: Settings) -> Health:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    host, port = host_port(s.endpoints.kafka_bootstrap)
    reachable = health.tcp(host, port)
    if not reachable.ok:
        return reachable
    try:
        md = AdminClient({"bootstrap.servers": s.endpoints.kafka_bootstrap}).list_topics(timeout=3)
    except KafkaException as e:
        return Health(False, f"metadata request failed: {e}")
    return Health(bool(md.brokers), "" if md.brokers else "no broker in metadata")


SERVICE = Service(
    name="kafka",
    description="Apache Kafka broker (KRaft, single node)",
    ports=("kafka", "kafka_controller"),
    depends_on=(),
    prepare=_prepare,
    launch=_launch,
    health=_health,
    url=lambda s: s.endpoints.kafka_bootstrap,
    hint="If the log mentions the cluster id or meta.properties, `make reset` wipes Kafka's data.",
)
