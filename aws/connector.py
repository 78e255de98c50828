"""The S3 sink connector's configuration, and registering it with a Kafka Connect cluster."""

from __future__ import annotations

import time

import requests

from pinpipe.aws_access import aws_access
from pinpipe.config import Settings
from pinpipe.errors import ProvisionError

CONNECTOR_CLASS = "io.pinpipe.connect.s3.S3SinkConnector"


def connector_config(s: Settings) -> dict[str, str]:
    return {
        "connector.class": CONNECTOR_CLASS,
        "tasks.max": "1",
        "topics": ",".join(s.topics.values()),
        "key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "s3.bucket.name": s.bucket,
        "topics.dir": "topics",
        "flush.size": str(s.sink.flush_size),
        "rotate.schedule.interval.ms": str(s.sink.rotate_interval_ms),
        "filename.offset.zero.pad.width": "10",
        **aws_access(s, "s3").s3_sink_config(),
    }


def connector_state(s: Settings) -> str:
    """RUNNING, PAUSED, FAILED, UNASSIGNED, or MISSING; a task's failure counts as FAILED."""
    url = f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}/status"
    r = requests.get(url, timeout=5)
    if r.status_code == 404:
        return "MISSING"
    r.raise_for_status()
    status = r.json()
    states = [status["connector"]["state"], *(t["state"] for t in status.get("tasks", []))]
    if "FAILED" in states:
        return "FAILED"
    if not status.get("tasks"):
        return "UNASSIGNED"
    return "RUNNING" if all(st == "RUNNING" for st in states) else states[-1]


def ensure_connector(s: Settings, timeout: float = 90.0) -> None:
    """Create or update the connector and wait until it and its task are RUNNING."""
    url = f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}/config"
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = requests.put(url, json=connector_config(s), timeout=30)
            if r.ok:
                break
            problem = f"HTTP {r.status_code}: {r.text[:500]}"
        except requests.RequestException as e:
            problem = str(e)
        if time.monotonic() > deadline:
            raise ProvisionError(f"registering connector {s.connector_name} failed: {problem}")
        time.sleep(1)  # the worker answers 409 while it rebalances
    state = "MISSING"
    restarted = False
    while time.monotonic() < deadline:
        state = connector_state(s)
        if state == "RUNNING":
            return
        if state == "FAILED":
            if restarted:
                break
            # A task fails when the lake was away while it started; once is worth a restart.
            requests.post(
                f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}/restart",
                params={"includeTasks": "true", "onlyFailed": "true"},
                timeout=30,
            )
            restarted = True
        time.sleep(0.5)
    trace = requests.get(
        f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}/status", timeout=5
    )
    raise ProvisionError(f"connector {s.connector_name} is {state}: {trace.text[:2000]}")


def delete_connector(s: Settings, timeout: float = 60.0) -> bool:
    """Remove the connector; False if there was none."""
    url = f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}"
    deadline = time.monotonic() + timeout
    while (r := requests.delete(url, timeout=30)).status_code == 409:
        if time.monotonic() > deadline:
            raise ProvisionError(f"Kafka Connect kept rebalancing; {s.connector_name} not deleted")
        time.sleep(1)  # the worker answers 409 while it rebalances
    if r.status_code == 404:
        return False
    if not r.ok:
        raise ProvisionError(f"deleting {s.connector_name} failed: HTTP {r.status_code} {r.text}")
    return True
