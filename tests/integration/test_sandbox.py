"""The stack, started through `pinpipe up`, checked part by part with real clients."""

from __future__ import annotations

import base64
import ipaddress
import json
import time
import uuid
from typing import Any

import psutil
import pytest
import requests
from confluent_kafka import Producer

from pinpipe.aws_access import aws_client
from pinpipe.sandbox import processes
from pinpipe.sandbox.services import all_services
from tests.sandbox import KAFKA_JSON, Sandbox, call_api
from tests.stores import bucket_objects, stream_records, topic_values

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def lake_objects(sandbox: Sandbox) -> dict[str, bytes]:
    s = sandbox.settings
    s3 = aws_client(s, "s3")
    return {
        obj["Key"]: s3.get_object(Bucket=s.bucket, Key=obj["Key"])["Body"].read()
        for obj in bucket_objects(s3, s.bucket)
    }


def wait_for_landed(sandbox: Sandbox, marker: str, timeout: float = 60.0) -> dict[str, bytes]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        objects = {k: v for k, v in lake_objects(sandbox).items() if marker.encode() in v}
        if objects:
            return objects
        time.sleep(1)
    raise AssertionError(f"no lake object contains {marker} after {timeout}s")


def kinesis_records(sandbox: Sandbox, stream: str) -> list[dict[str, Any]]:
    return [r for _, r in stream_records(aws_client(sandbox.settings, "kinesis"), stream)]


def test_kafka_produce_and_consume(sandbox: Sandbox) -> None:
    s = sandbox.settings
    marker = uuid.uuid4().hex
    producer = Producer({"bootstrap.servers": s.endpoints.kafka_bootstrap})
    producer.produce(s.topics["geo"], json.dumps({"ind": 1, "marker": marker}).encode())
    assert producer.flush(10) == 0
    values = topic_values(s.endpoints.kafka_bootstrap, s.topics["geo"])
    assert any(marker.encode() in v for v in values)


def test_post_through_api_gateway_lands_in_kafka(sandbox: Sandbox) -> None:
    s = sandbox.settings
    marker = uuid.uuid4().hex
    row = {"index": 7528, "title": "No Title Data Available", "marker": marker}
    r = call_api(
        "POST",
        f"{sandbox.api_url}/topics/{s.topics['pin']}",
        {"records": [{"value": row}]},
        KAFKA_JSON,
    )
    assert r.status_code == 200, r.text
    offsets = r.json()["offsets"]
    assert len(offsets) == 1 and offsets[0]["error_code"] is None and offsets[0]["offset"] >= 0
    values = [json.loads(v) for v in topic_values(s.endpoints.kafka_bootstrap, s.topics["pin"])]
    assert row in values


def test_rest_proxy_rejects_an_unknown_topic_through_the_gateway(sandbox: Sandbox) -> None:
    r = call_api(
        "POST",
        f"{sandbox.api_url}/topics/no-such-topic",
        {"records": [{"value": {"a": 1}}]},
        KAFKA_JSON,
    )
    assert r.status_code == 404
    assert r.json()["error_code"] == 40401


def test_connector_runs_and_lands_records_with_confluent_names(sandbox: Sandbox) -> None:
    s = sandbox.settings
    status = requests.get(
        f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}/status", timeout=10
    ).json()
    assert status["connector"]["state"] == "RUNNING"
    assert [t["state"] for t in status["tasks"]] == ["RUNNING"]

    marker = uuid.uuid4().hex
    producer = Producer({"bootstrap.servers": s.endpoints.kafka_bootstrap})
    for i in range(3):
        producer.produce(s.topics["user"], json.dumps({"ind": i, "marker": marker}).encode())
    assert producer.flush(10) == 0

    landed = wait_for_landed(sandbox, marker)
    topic = s.topics["user"]
    for key, body in landed.items():
        prefix = f"topics/{topic}/partition=0/{topic}+0+"
        assert key.startswith(prefix) and key.endswith(".json"), key
        offset = key[len(prefix) : -len(".json")]
        assert len(offset) == 10 and offset.isdigit(), key
        lines = body.decode().splitlines()
        assert all(isinstance(json.loads(line), dict) for line in lines)
    # The three records were produced together, so they are batched, not one object each.
    lines = [ln for body in landed.values() for ln in body.decode().splitlines() if marker in ln]
    assert len(lines) == 3
    assert len(landed) < 3


def test_put_record_through_api_gateway_lands_in_kinesis(sandbox: Sandbox) -> None:
    s = sandbox.settings
    stream = s.streams["pin"]
    data = {"index": 2863, "title": "Summer Crafts \u2013 for kids", "follower_count": "124k"}
    body = {"StreamName": stream, "Data": data, "PartitionKey": "partition-1"}
    r = call_api("PUT", f"{sandbox.api_url}/streams/{stream}/record", body)
    assert r.status_code == 200, r.text
    assert r.json()["SequenceNumber"]
    records = kinesis_records(sandbox, stream)
    decoded = [json.loads(rec["Data"]) for rec in records]
    assert data in decoded
    assert any(rec["PartitionKey"] == "partition-1" for rec in records)


def test_put_records_batch_through_api_gateway(sandbox: Sandbox) -> None:
    s = sandbox.settings
    stream = s.streams["geo"]
    rows = [{"ind": i, "country": "Albania", "marker": uuid.uuid4().hex} for i in range(3)]
    body = {
        "StreamName": stream,
        "Records": [{"Data": row, "PartitionKey": str(row["ind"])} for row in rows],
    }
    r = call_api("PUT", f"{sandbox.api_url}/streams/{stream}/records", body)
    assert r.status_code == 200, r.text
    assert r.json()["FailedRecordCount"] == 0
    decoded = [json.loads(rec["Data"]) for rec in kinesis_records(sandbox, stream)]
    for row in rows:
        assert row in decoded


def test_list_streams_through_api_gateway(sandbox: Sandbox) -> None:
    r = requests.get(f"{sandbox.api_url}/streams", timeout=30)
    assert r.status_code == 200, r.text
    assert set(sandbox.settings.streams.values()) <= set(r.json()["StreamNames"])


def test_airflow_api_lists_the_project_dags(sandbox: Sandbox) -> None:
    s = sandbox.settings
    token = requests.post(
        f"{s.endpoints.airflow}/auth/token",
        json={"username": s.airflow.username, "password": sandbox.status()["airflow_password"]},
        timeout=30,
    )
    assert token.status_code in (200, 201), token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    deadline = time.monotonic() + 120
    dag_ids: set[str] = set()
    while time.monotonic() < deadline:
        r = requests.get(f"{s.endpoints.airflow}/api/v2/dags", headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        dag_ids = {d["dag_id"] for d in r.json()["dags"]}
        if "pinpipe_stack_health" in dag_ids:
            break
        time.sleep(2)
    assert "pinpipe_stack_health" in dag_ids


def test_status_json_names_the_api_url(sandbox: Sandbox) -> None:
    status = sandbox.status()
    assert status["api_url"].startswith(sandbox.settings.endpoints.apigateway)
    assert status["api_url"].endswith(f"/{sandbox.settings.api_stage}")
    assert {row["service"] for row in status["services"]} == {sv.name for sv in all_services()}
    assert all(row["healthy"] for row in status["services"])
    assert 500 < status["rss_mib"] < 16_000  # every process of the stack, summed


def test_kinesis_record_data_is_the_json_of_data(sandbox: Sandbox) -> None:
    # PutRecord through the gateway base64-encodes the JSON text of Data, which Kinesis decodes.
    s = sandbox.settings
    stream = s.streams["user"]
    data = {"ind": 5, "first_name": "Zoë", "age": 31, "date_joined": "2016-10-23 14:06:51"}
    r = call_api(
        "PUT",
        f"{sandbox.api_url}/streams/{stream}/record",
        {"StreamName": stream, "Data": data, "PartitionKey": "k"},
    )
    assert r.status_code == 200, r.text
    raw = [rec["Data"] for rec in kinesis_records(sandbox, stream)]
    assert any(json.loads(d) == data for d in raw)
    assert not any(d.startswith(base64.b64encode(b"{")) for d in raw)


def _is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped and mapped.is_loopback))


def test_every_listener_of_the_stack_is_on_loopback(sandbox: Sandbox) -> None:
    s = sandbox.settings
    pids = {p.pid for sv in all_services() for p in processes.members(s, sv.name)}
    listeners = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    ]
    ports = {c.laddr.port for c in listeners}
    assert set(s.ports.model_dump().values()) <= ports, "a service is not listening"
    exposed = [f"{c.laddr.ip}:{c.laddr.port} (pid {c.pid})" for c in listeners]
    exposed = [e for e, c in zip(exposed, listeners, strict=True) if not _is_loopback(c.laddr.ip)]
    assert not exposed, f"listening beyond loopback: {exposed}"


def test_up_warms_the_spark_service_up_with_a_delta_round_trip_and_leaves_nothing(
    sandbox: Sandbox,
) -> None:
    from pinpipe.sandbox.warm_up import scratch_bucket

    out = " ".join(sandbox.ok("up").split())  # the stack is up: `up` checks it, warms it up
    assert "spark warm-up" in out
    assert "warning" not in out, out
    buckets = {b["Name"] for b in aws_client(sandbox.settings, "s3").list_buckets()["Buckets"]}
    assert scratch_bucket(sandbox.settings) not in buckets
