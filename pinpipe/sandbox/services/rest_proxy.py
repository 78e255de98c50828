"""The project's Kafka REST proxy (Confluent v2 produce API).

Durability: it holds nothing. It answers 200 only after Kafka acknowledged every record
(``acks=all``), so a killed proxy loses only requests it never answered, which clients retry.
"""

from __future__ import annotations

import sys

from pinpipe.config import Settings
from pinpipe.sandbox import health
from pinpipe.sandbox.services.base import Launch, Service


def _launch(s: Settings) -> Launch:
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


SERVICE = Service(
    name="rest-proxy",
    description="Kafka REST proxy (Confluent v2 API)",
    ports=("rest_proxy",),
    depends_on=("kafka",),
    launch=_launch,
    health=lambda s: health.http_ok(f"http://{s.endpoints.rest_proxy}/topics"),
    url=lambda s: f"http://{s.endpoints.rest_proxy}",
)
