"""The REST proxy's v2 wire format, against a stand-in producer (the real one is exercised by
the integration tests)."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from confluent_kafka import KafkaError, KafkaException
from hypothesis import given, settings
from hypothesis import strategies as st

from pinpipe.services.rest_proxy.app import BINARY_V2, JSON_V2, create_app
from pinpipe.services.rest_proxy.producer import (
    BATCH_OVERHEAD,
    MESSAGE_MAX_BYTES,
    RECORD_OVERHEAD,
    AsyncProducer,
    DeliveryError,
)

pytestmark = pytest.mark.unit


class FakeProducer:
    def __init__(
        self, fail: DeliveryError | None = None, max_bytes: int = 1000, down: bool = False
    ) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int | None]] = []
        self.fail = fail
        self.max_bytes = max_bytes
        self.down = down

    def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def topics(self) -> dict[str, list[int]]:
        if self.down:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT))
        return {"t.pin": [0, 1]}

    async def partitions(self, topic: str) -> list[int] | None:
        return (await self.topics()).get(topic)

    async def max_record_bytes(self, topic: str) -> int:
        return self.max_bytes

    async def produce_all(self, topic: str, messages: list[Any]) -> list[Any]:
        out: list[Any] = []
        for key, value, partition in messages:
            if self.fail:
                out.append(self.fail)
                continue
            self.sent.append((topic, key, value, partition))
            out.append((partition or 0, len(self.sent) - 1))
        return out


async def _post(producer: FakeProducer, path: str, body: Any, content_type: str, **app: Any):
    async with TestClient(TestServer(create_app(producer, **app))) as client:
        resp = await client.post(
            path,
            data=body if isinstance(body, str | bytes) else json.dumps(body),
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


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "code"),
    [
        ("/topics/t.pin", {"records": [{"value": 1}]}, "application/json", 415, 41501),
        ("/topics/t.pin", {"records": [{"value": 1}]}, "text/plain", 415, 41501),
        ("/topics/t.pin", "{not json", JSON_V2, 400, 40001),
        ("/topics/t.pin", "", JSON_V2, 400, 40001),
        ("/topics/t.pin", b'{"records": [{"value": "\xff"}]}', JSON_V2, 400, 40001),
        ("/topics/t.pin", '{"records": [{"value": NaN}]}', JSON_V2, 400, 40001),
        ("/topics/t.pin", '{"records": [{"value": ' + DEEP + "}]}", JSON_V2, 400, 40001),
        ("/topics/t.pin", [{"value": 1}], JSON_V2, 400, 40002),
        ("/topics/t.pin", "null", JSON_V2, 400, 40002),
        ("/topics/t.pin", {"value": 1}, JSON_V2, 400, 40002),
        ("/topics/t.pin", {"records": []}, JSON_V2, 400, 40002),
        ("/topics/t.pin", {"records": {"value": 1}}, JSON_V2, 400, 40002),
        ("/topics/t.pin", {"records": [1]}, JSON_V2, 400, 40003),
        ("/topics/t.pin", {"records": [{"key": "k"}]}, JSON_V2, 400, 40003),
        ("/topics/t.pin", {"records": [{"value": 1, "partition": 1.5}]}, JSON_V2, 400, 40004),
        ("/topics/t.pin", {"records": [{"value": 1, "partition": "x"}]}, JSON_V2, 400, 40004),
        ("/topics/t.pin", {"records": [{"value": 1, "partition": True}]}, JSON_V2, 400, 40004),
        ("/topics/t.pin/partitions/x", {"records": [{"value": 1}]}, JSON_V2, 400, 40004),
        ("/topics/t.pin", {"records": [{"value": "%%%"}]}, BINARY_V2, 400, 40005),
        ("/topics/t.pin", {"records": [{"value": "é"}]}, BINARY_V2, 400, 40005),
        ("/topics/t.pin", {"records": [{"value": 1}]}, BINARY_V2, 400, 40005),
        ("/topics/t.pin", {"records": [{"value": "", "key": 1}]}, BINARY_V2, 400, 40005),
        ("/topics/t.pin", '{"records": [{"value": "\\ud800"}]}', JSON_V2, 400, 40005),
        ("/topics/t.pin", '{"records": [{"value": 1e999}]}', JSON_V2, 400, 40005),
        ("/topics/t.pin/partitions/7", {"records": [{"value": 1}]}, JSON_V2, 404, 40402),
        ("/topics/t.pin", {"records": [{"value": 1, "partition": 7}]}, JSON_V2, 404, 40402),
        ("/topics/missing", {"records": [{"value": 1}]}, JSON_V2, 404, 40401),
        ("/nowhere", {"records": [{"value": 1}]}, JSON_V2, 404, 404),
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


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def test_a_record_over_the_size_limit_fails_the_whole_request() -> None:
    producer = FakeProducer(max_bytes=10)
    at_limit = {"key": _b64(b"k" * 4), "value": _b64(b"v" * 6)}
    over = {"key": _b64(b"k" * 4), "value": _b64(b"v" * 7)}
    status, body = await _post(producer, "/topics/t.pin", {"records": [at_limit, over]}, BINARY_V2)
    assert (status, body["error_code"]) == (413, 41301)
    assert "records[1]" in body["message"]
    assert producer.sent == []

    status, _ = await _post(producer, "/topics/t.pin", {"records": [at_limit]}, BINARY_V2)
    assert status == 200 and producer.sent == [("t.pin", b"kkkk", b"vvvvvv", None)]


async def test_a_body_over_the_client_limit_gets_a_v2_413() -> None:
    producer = FakeProducer()
    body = {"records": [{"value": "x" * 2048}]}
    status, got = await _post(producer, "/topics/t.pin", body, JSON_V2, client_max_size=1024)
    assert (status, got["error_code"]) == (413, 41301)
    assert producer.sent == []


async def test_a_body_that_does_not_decompress_is_a_400() -> None:
    async with TestClient(TestServer(create_app(FakeProducer()))) as client:
        resp = await client.post(
            "/topics/t.pin",
            data=b"not gzip",
            headers={"Content-Type": JSON_V2, "Content-Encoding": "gzip"},
        )
        assert (resp.status, (await resp.json())["error_code"]) == (400, 40001)


async def test_a_record_the_broker_refuses_as_too_large_is_a_413() -> None:
    too_large = DeliveryError("Broker: Message size too large", KafkaError.MSG_SIZE_TOO_LARGE)
    status, body = await _post(
        FakeProducer(fail=too_large), "/topics/t.pin", {"records": [{"value": 1}]}, JSON_V2
    )
    assert status == 413
    assert body["offsets"][0]["error_code"] == 41301


async def test_kafka_unreachable_for_metadata_is_a_503() -> None:
    status, body = await _post(
        FakeProducer(down=True), "/topics/t.pin", {"records": [{"value": 1}]}, JSON_V2
    )
    assert (status, body["error_code"]) == (503, 50301)


async def test_a_failed_delivery_is_reported_per_record() -> None:
    down = DeliveryError("broker down", KafkaError._MSG_TIMED_OUT)
    status, body = await _post(
        FakeProducer(fail=down), "/topics/t.pin", {"records": [{"value": 1}]}, JSON_V2
    )
    assert status == 500
    assert body["offsets"][0]["error"] == "broker down"
    assert body["offsets"][0]["error_code"] == 50002


async def test_topic_metadata() -> None:
    async with TestClient(TestServer(create_app(FakeProducer()))) as client:
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
    producer._admin = Admin()
    assert await producer.partitions("new") == [0]  # the cache lacked it: fetched again
    assert await producer.partitions("missing") is None
    assert len(fetches) == 3


async def test_the_record_limit_follows_the_topic_config() -> None:
    class Future:
        def __init__(self, value: str | None) -> None:
            self.value = value

        def result(self) -> dict[str, Any]:
            if self.value is None:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT))
            return {"max.message.bytes": SimpleNamespace(value=self.value)}

    described: list[str] = []
    configs = {"small": "1000", "big": "10000000", "unknown": None}

    class Admin:
        def list_topics(self, timeout: float) -> Any:
            return SimpleNamespace(topics={})

        def describe_configs(self, resources: list[Any], request_timeout: float) -> Any:
            described.extend(r.name for r in resources)
            return {r: Future(configs[r.name]) for r in resources}

    producer = AsyncProducer("127.0.0.1:1")
    producer._admin = Admin()
    assert await producer.max_record_bytes("small") == 1000 - BATCH_OVERHEAD - RECORD_OVERHEAD
    assert await producer.max_record_bytes("big") == MESSAGE_MAX_BYTES - RECORD_OVERHEAD
    assert await producer.max_record_bytes("unknown") == MESSAGE_MAX_BYTES - RECORD_OVERHEAD
    assert await producer.max_record_bytes("small") == 1000 - BATCH_OVERHEAD - RECORD_OVERHEAD
    assert described == ["small", "big", "unknown"]  # cached with the metadata


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
# Strings over the base64 alphabet are often, but not always, valid base64.
FIELDS = st.text(alphabet="AQab09+/=", max_size=12) | JSON_VALUES
RECORD = st.fixed_dictionaries(
    {"value": FIELDS}, optional={"key": FIELDS, "partition": st.integers(-1, 2) | JSON_VALUES}
)
BODIES = (
    st.fixed_dictionaries({"records": st.lists(RECORD, max_size=3) | JSON_VALUES}) | JSON_VALUES
)
PATHS = st.sampled_from(["/topics/t.pin", "/topics/t.pin/partitions/1"])
FORMATS = st.sampled_from([JSON_V2, BINARY_V2])
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
)


async def _assert_no_server_error(path: str, body: str | bytes, content_type: str) -> None:
    status, got = await _post(FakeProducer(), path, body, content_type)
    assert status < 500, got
    if status >= 400:
        assert isinstance(got["error_code"], int) and isinstance(got["message"], str)


@FUZZ
@given(path=PATHS, body=BODIES, content_type=FORMATS)
async def test_no_json_body_causes_a_server_error(path: str, body: Any, content_type: str) -> None:
    await _assert_no_server_error(path, json.dumps(body), content_type)


@FUZZ
@given(path=PATHS, body=st.binary(max_size=256), content_type=FORMATS)
async def test_no_byte_body_causes_a_server_error(
    path: str, body: bytes, content_type: str
) -> None:
    await _assert_no_server_error(path, body, content_type)
