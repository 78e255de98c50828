"""HTTP routes of the REST proxy (the Confluent REST Proxy v2 produce and metadata API).

Supported: ``GET /``, ``GET /topics``, ``GET /topics/{topic}``, ``POST /topics/{topic}`` and
``POST /topics/{topic}/partitions/{partition}`` with the embedded formats
``application/vnd.kafka.json.v2+json`` and ``application/vnd.kafka.binary.v2+json``.
Errors use the v2 error body ``{"error_code": ..., "message": ...}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from pinpipe.services.rest_proxy.producer import AsyncProducer, DeliveryError

JSON_V2 = "application/vnd.kafka.json.v2+json"
BINARY_V2 = "application/vnd.kafka.binary.v2+json"
V2_RESPONSE = "application/vnd.kafka.v2+json"

PRODUCER_KEY: web.AppKey[AsyncProducer] = web.AppKey("producer", AsyncProducer)


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"error_code": code, "message": message}, status=status, content_type=V2_RESPONSE
    )


def _encode(fmt: str, value: Any, field: str) -> bytes | None:
    if value is None:
        return None
    if fmt == JSON_V2:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a base64 string for the binary format")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as e:
        raise ValueError(f"{field} is not valid base64: {e}") from e


async def root(_: web.Request) -> web.Response:
    return web.json_response({}, content_type=V2_RESPONSE)


async def list_topics(request: web.Request) -> web.Response:
    topics = await request.app[PRODUCER_KEY].topics()
    return web.json_response(sorted(topics), content_type=V2_RESPONSE)


async def get_topic(request: web.Request) -> web.Response:
    topic = request.match_info["topic"]
    partitions = await request.app[PRODUCER_KEY].partitions(topic)
    if partitions is None:
        return _error(404, 40401, f"Topic {topic} not found.")
    return web.json_response(
        {"name": topic, "configs": {}, "partitions": [{"partition": p} for p in partitions]},
        content_type=V2_RESPONSE,
    )


async def produce(request: web.Request) -> web.Response:
    topic = request.match_info["topic"]
    fixed_partition = request.match_info.get("partition")
    fmt = request.content_type
    if fmt not in (JSON_V2, BINARY_V2):
        return _error(
            415,
            41501,
            f"Content-Type {fmt or '(none)'} is not supported; use {JSON_V2} or {BINARY_V2}",
        )
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return _error(400, 40001, f"Request body is not valid JSON: {e}")
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records:
        return _error(
            422, 42201, 'Request body must be {"records": [...]} with at least one record'
        )

    producer = request.app[PRODUCER_KEY]
    partitions = await producer.partitions(topic)
    if partitions is None:
        return _error(404, 40401, f"Topic {topic} not found.")

    messages = []
    for i, record in enumerate(records):
        if not isinstance(record, dict) or "value" not in record:
            return _error(422, 42202, f"records[{i}] must be an object with a 'value'")
        partition = fixed_partition if fixed_partition is not None else record.get("partition")
        if partition is not None:
            try:
                partition = int(partition)
            except (TypeError, ValueError):
                return _error(422, 42202, f"records[{i}].partition must be an integer")
            if partition not in partitions:
                return _error(404, 40402, f"Partition {partition} of topic {topic} not found.")
        try:
            key = _encode(fmt, record.get("key"), f"records[{i}].key")
            value = _encode(fmt, record["value"], f"records[{i}].value")
        except ValueError as e:
            return _error(422, 42205, str(e))
        messages.append((key, value, partition))

    offsets = []
    for result in await producer.produce_all(topic, messages):
        if isinstance(result, DeliveryError):
            offsets.append(
                {"partition": None, "offset": None, "error_code": 50002, "error": result.message}
            )
        else:
            partition, offset = result
            offsets.append(
                {"partition": partition, "offset": offset, "error_code": None, "error": None}
            )
    status = 200 if all(o["error_code"] is None for o in offsets) else 500
    return web.json_response(
        {"key_schema_id": None, "value_schema_id": None, "offsets": offsets},
        status=status,
        content_type=V2_RESPONSE,
    )


def create_app(producer: AsyncProducer) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[PRODUCER_KEY] = producer

    async def lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
        app[PRODUCER_KEY].start()
        yield
        await app[PRODUCER_KEY].close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/", root)
    app.router.add_get("/topics", list_topics)
    app.router.add_get("/topics/{topic}", get_topic)
    app.router.add_post("/topics/{topic}", produce)
    app.router.add_post("/topics/{topic}/partitions/{partition}", produce)
    return app
