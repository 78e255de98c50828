"""The REST proxy's v2 wire format, against a stand-in producer (the real one is exercised by
the integration tests)."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pinpipe.services.rest_proxy.app import BINARY_V2, JSON_V2, create_app
from pinpipe.services.rest_proxy.producer import AsyncProducer, DeliveryError

pytestmark = pytest.mark.unit


class FakeProducer:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int | None]] = []
        self.fail = fail

    def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def topics(self) -> dict[str, list[int]]:
        return {"t.pin": [0, 1]}

    async def partitions(self, topic: str) -> list[int] | None:
        return (await self.topics()).get(topic)

    async def produce_all(self, topic: str, messages: list[Any]) -> list[Any]:
        out: list[Any] = []
        for key, value, partition in messages:
            if self.fail:
                out.append(DeliveryError("broker down"))
                continue
            self.sent.append((topic, key, value, partition))
            out.append((partition or 0, len(self.sent) - 1))
        return out


async def _post(producer: FakeProducer, path: str, body: Any, content_type: str):  # type: ignore[no-untyped-def]
    async with TestClient(TestServer(create_app(producer))) as client:  # type: ignore[arg-type]
        resp = await client.post(
            path,
            data=body if isinstance(body, str) else json.dumps(body),
            headers={"Content-Type": content_type},
        )
        return resp.status, await resp.json()


async def test_json_records_are_produced_as_compact_json() -> None:
    producer = FakeProducer()
    status, body = await _post(
        producer,
        "/topics/t.pin",
        {"records": [{"value": {"a": 1, "é": "ü"}}, {"value": [1]}]},
        JSON_V2,
    )
    assert status == 200
    assert [o["offset"] for o in body["offsets"]] == [0, 1]
    assert all(o["error_code"] is None for o in body["offsets"])
    assert producer.sent[0] == ("t.pin", None, '{"a":1,"é":"ü"}'.encode(), None)


async def test_binary_records_are_base64_decoded() -> None:
    producer = FakeProducer()
    raw = b"\x00\x01hello"
    status, _ = await _post(
        producer,
        "/topics/t.pin",
        {
            "records": [
                {"key": base64.b64encode(b"k").decode(), "value": base64.b64encode(raw).decode()}
            ]
        },
        BINARY_V2,
    )
    assert status == 200
    assert producer.sent == [("t.pin", b"k", raw, None)]


async def test_a_partition_in_the_path_is_used() -> None:
    producer = FakeProducer()
    status, body = await _post(
        producer, "/topics/t.pin/partitions/1", {"records": [{"value": 1}]}, JSON_V2
    )
    assert status == 200 and producer.sent[0][3] == 1 and body["offsets"][0]["partition"] == 1


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "code"),
    [
        ("/topics/t.pin", {"records": [{"value": 1}]}, "application/json", 415, 41501),
        ("/topics/t.pin", "{not json", JSON_V2, 400, 40001),
        ("/topics/t.pin", {"records": []}, JSON_V2, 422, 42201),
        ("/topics/t.pin", {"value": 1}, JSON_V2, 422, 42201),
        ("/topics/t.pin", {"records": [{"key": "k"}]}, JSON_V2, 422, 42202),
        ("/topics/t.pin", {"records": [{"value": "%%%"}]}, BINARY_V2, 422, 42205),
        ("/topics/t.pin/partitions/7", {"records": [{"value": 1}]}, JSON_V2, 404, 40402),
        ("/topics/missing", {"records": [{"value": 1}]}, JSON_V2, 404, 40401),
    ],
)
async def test_bad_requests_get_a_v2_error(
    path: str, body: Any, content_type: str, status: int, code: int
) -> None:
    producer = FakeProducer()
    got_status, got = await _post(producer, path, body, content_type)
    assert (got_status, got["error_code"]) == (status, code)
    assert got["message"]
    assert producer.sent == []


async def test_a_failed_delivery_is_reported_per_record() -> None:
    status, body = await _post(
        FakeProducer(fail=True), "/topics/t.pin", {"records": [{"value": 1}]}, JSON_V2
    )
    assert status == 500
    assert body["offsets"][0]["error"] == "broker down"


async def test_topic_metadata() -> None:
    async with TestClient(TestServer(create_app(FakeProducer()))) as client:  # type: ignore[arg-type]
        topics = await (await client.get("/topics")).json()
        one = await (await client.get("/topics/t.pin")).json()
        missing = await client.get("/topics/nope")
    assert topics == ["t.pin"]
    assert [p["partition"] for p in one["partitions"]] == [0, 1]
    assert missing.status == 404


async def test_a_topic_created_since_the_last_metadata_fetch_is_found() -> None:
    fetches: list[int] = []

    class Admin:
        def list_topics(self, timeout: float) -> Any:
            fetches.append(1)
            topics = {"new": SimpleNamespace(partitions={0: None}, error=None)}
            return SimpleNamespace(topics=topics if len(fetches) > 1 else {})

    producer = AsyncProducer("127.0.0.1:1")
    producer._admin = Admin()  # type: ignore[assignment]
    assert await producer.partitions("new") == [0]  # the cache lacked it: fetched again
    assert await producer.partitions("missing") is None
    assert len(fetches) == 3
