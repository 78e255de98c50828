"""The services of the local stack, one module each, described once.

Each module says how to prepare and launch its process, which ports it binds, what it depends
on, how to tell it is healthy, and where its state lives and why that state survives a restart
or a kill. The native runner (``pinpipe up``) and the Docker Compose generator
(``pinpipe compose``) both read these, so the two modes cannot drift: a compose container runs
the very same ``pinpipe service run <name>`` that native mode runs.
"""

from __future__ import annotations

from pinpipe.errors import SandboxError
from pinpipe.sandbox.services import (
    airflow,
    connect,
    kafka,
    lake,
    localstack,
    rest_proxy,
    spark,
)
from pinpipe.sandbox.services.base import Launch, Service
from pinpipe.sandbox.services.streaming import SERVICE as STREAMING

__all__ = ["STREAMING", "Launch", "Service", "all_services", "service_named"]


def all_services() -> list[Service]:
    """Every service `up` starts, in a valid start order."""
    return [
        kafka.SERVICE,
        lake.SERVICE,
        localstack.SERVICE,
        rest_proxy.SERVICE,
        connect.SERVICE,
        spark.SERVICE,
        airflow.API_SERVER,
        airflow.SCHEDULER,
        airflow.DAG_PROCESSOR,
    ]


def service_named(name: str) -> Service:
    for service in [*all_services(), STREAMING]:
        if service.name == name:
            return service
    known = ", ".join(s.name for s in [*all_services(), STREAMING])
    raise SandboxError(f"no service named {name!r} (known: {known})")
