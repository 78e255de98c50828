"""Kafka Connect (distributed worker) with the project's S3 sink.

Durability: the worker keeps its configuration, status and offsets in Kafka topics. The sink
writes each object before it commits the offsets it covers, and on start finds where landed
data ends by reading the bucket, so a kill re-lands nothing twice and loses nothing.
"""

from __future__ import annotations

from pathlib import Path

from pinpipe.config import Settings
from pinpipe.sandbox import health
from pinpipe.sandbox.services.base import COMPOSE_DIR, Launch, Service, host_port, java, render


def plugin_dir(s: Settings) -> Path:
    return s.build_dir / "connect-plugins"


def _prepare(s: Settings) -> None:
    render(
        COMPOSE_DIR / "connect" / "worker.properties",
        s.state_dir / "connect" / "worker.properties",
        bootstrap=s.endpoints.kafka_bootstrap,
        bind_host=s.bind_host,
        port=s.ports.connect,
        advertised_host=host_port(s.endpoints.kafka_connect)[0],
        plugin_path=plugin_dir(s),
    )


def _launch(s: Settings) -> Launch:
    props = s.state_dir / "connect" / "worker.properties"
    return Launch(
        java(
            s.build_dir / "jars" / "connect",
            "org.apache.kafka.connect.cli.ConnectDistributed",
            [str(props)],
            heap="512m",
        )
    )


SERVICE = Service(
    name="connect",
    description="Kafka Connect with the S3 sink",
    ports=("connect",),
    depends_on=("kafka", "lake"),
    prepare=_prepare,
    launch=_launch,
    health=lambda s: health.http_ok(f"{s.endpoints.kafka_connect}/connectors"),
    url=lambda s: s.endpoints.kafka_connect,
)
