"""HTTP routes of the REST proxy (the Confluent REST Proxy v2 produce and metadata API).

Supported: ``GET /``, ``GET /topics``, ``GET /topics/{topic}``, ``POST /topics/{topic}`` and
``POST /topics/{topic}/partitions/{partition}`` with the embedded formats
``application/vnd.kafka.json.v2+json`` and ``application/vnd.kafka.binary.v2+json``.

Every error carries the v2 error body ``{"error_code": ..., "message": ...}``, except a produce
whose records were tried, which answers with per-record ``offsets`` instead:

- 400 (40001) the body cannot be decoded (Content-Encoding) or is not UTF-8 JSON; (40002) it
  is not ``{"records": [...]}`` with at least one record; (40003) a record is not an object with
  a ``value``; (40004) a partition is not an integer; (40005) a key or value cannot be encoded
  (bad base64, a non-finite number, a lone surrogate, ...).
- 404 (40401) unknown topic; (40402) unknown partition; (404) unknown path.
- 405 (405) a method the path does not serve.
- 413 (41301) the body exceeds the size limit, or a record (key + value) exceeds what the
  producer or topic accepts; then nothing of the request is produced. Also a record the broker
  refused as too large, per record in ``offsets``.
- 415 (41501) the Content-Type is not one of the two embedded formats.
- 500 (50002 per record in ``offsets``) a delivery failed at the broker; retrying may succeed.
  (50001) an unexpected fault of the proxy itself.
- 503 (50301) Kafka cannot be reached for metadata.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn

from aiohttp import web
from confluent_kafka import KafkaException

from pinpipe.services.rest_proxy.producer import AsyncProducer, DeliveryError

JSON_V2 = "application/vnd.kafka.json.v2+json"
BINARY_V2 = "application/vnd.kafka.binary.v2+json"
V2_RESPONSE = "application/vnd.kafka.v2+json"
CLIENT_MAX_SIZE = 16 * 1024 * 1024

PRODUCER_KEY: web.AppKey[AsyncProducer] = web.AppKey("producer", AsyncProducer)

log = logging.getLogger(__name__)

Message = tuple[bytes | None, bytes | None, int | None]


class RequestError(Exception):
    """A fault of the request, answered with ``status`` and the v2 error body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"error_code": code, "message": message}, status=status, content_type=V2_RESPONSE
    )


@web.middleware
async def v2_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answers every failure with the v2 error body."""
    try:
        return await handler(request)
    except RequestError as e:
        return _error(e.status, e.code, e.message)
    except web.HTTPRequestEntityTooLarge:
        return _error(413, 41301, f"Request body is larger than {request.client_max_size} bytes")
    except web.HTTPException as e:
        if e.status < 400:
            raise
        response = _error(e.status, e.status, e.reason)
        if "Allow" in e.headers:
            response.headers["Allow"] = e.headers["Allow"]
        return response
    except KafkaException as e:
        log.warning("Kafka unavailable: %s", e)
        return _error(503, 50301, f"Kafka is unavailable: {e}")
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return _error(500, 50001, "Internal server error")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


async def _read_records(request: web.Request) -> list[Any]:
    try:
        raw = await request.read()
    except web.RequestPayloadError as e:
        raise RequestError(400, 40001, "Request body does not match its Content-Encoding") from e
    try:
        body = json.loads(raw.decode(), parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise RequestError(400, 40001, f"Request body is not valid UTF-8: {e}") from e
    except (ValueError, RecursionError) as e:
        raise RequestError(400, 40001, f"Request body is not valid JSON: {e}") from e
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records:
        raise RequestError(
            400, 40002, 'Request body must be {"records": [...]} with at least one record'
        )
    return records


def _partition(raw: Any, field: str) -> int | None:
    if raw is None or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw
    if isinstance(raw, str):  # the path's segment; numeric strings in a body pass too
        try:
            return int(raw)
        except ValueError:
            pass
    raise RequestError(400, 40004, f"{field} must be an integer")


def _encode(fmt: str, value: Any, field: str) -> bytes | None:
    if value is None:
        return None
    if fmt == JSON_V2:
        try:
            return json.dumps(
                value, ensure_ascii=False, allow_nan=False, separators=(",", ":")
            ).encode()
        except (ValueError, RecursionError) as e:
            raise RequestError(400, 40005, f"{field} cannot be encoded as JSON: {e}") from e
    if not isinstance(value, str):
        raise RequestError(400, 40005, f"{field} must be a base64 string for the binary format")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as e:
        raise RequestError(400, 40005, f"{field} is not valid base64: {e}") from e


def _offset(result: tuple[int, int] | DeliveryError) -> dict[str, Any]:
    if isinstance(result, DeliveryError):
        code = 41301 if result.too_large else 50002
        return {"partition": None, "offset": None, "error_code": code, "error": result.message}
    partition, offset = result
    return {"partition": partition, "offset": offset, "error_code": None, "error": None}


async def root(_: web.Request) -> web.Response:
    return web.json_response({}, content_type=V2_RESPONSE)


async def list_topics(request: web.Request) -> web.Response:
    topics = await request.app[PRODUCER_KEY].topics()
    return web.json_response(sorted(topics), content_type=V2_RESPONSE)


async def get_topic(request: web.Request) -> web.Response:
    topic = request.match_info["topic"]
    partitions = await request.app[PRODUCER_KEY].partitions(topic)
    if partitions is None:
        raise RequestError(404, 40401, f"Topic {topic} not found.")
    return web.json_response(
        {"name": topic, "configs": {}, "partitions": [{"partition": p} for p in partitions]},
        content_type=V2_RESPONSE,
    )


async def produce(request: web.Request) -> web.Response:
    topic = request.match_info["topic"]
    fmt = request.content_type
    if fmt not in (JSON_V2, BINARY_V2):
        raise RequestError(
            415,
            41501,
            f"Content-Type {fmt or '(none)'} is not supported; use {JSON_V2} or {BINARY_V2}",
        )
    records = await _read_records(request)
    path_partition = _partition(request.match_info.get("partition"), "partition")

    producer = request.app[PRODUCER_KEY]
    partitions = await producer.partitions(topic)
    if partitions is None:
        raise RequestError(404, 40401, f"Topic {topic} not found.")

    messages: list[Message] = []
    for i, record in enumerate(records):
        if not isinstance(record, dict) or "value" not in record:
            raise RequestError(400, 40003, f"records[{i}] must be an object with a 'value'")
        partition = path_partition
        if partition is None:
            partition = _partition(record.get("partition"), f"records[{i}].partition")
        if partition is not None and partition not in partitions:
            raise RequestError(404, 40402, f"Partition {partition} of topic {topic} not found.")
        key = _encode(fmt, record.get("key"), f"records[{i}].key")
        value = _encode(fmt, record["value"], f"records[{i}].value")
        messages.append((key, value, partition))

    limit = await producer.max_record_bytes(topic)
    for i, (key, value, _) in enumerate(messages):
        size = len(key or b"") + len(value or b"")
        if size > limit:
            raise RequestError(
                413,
                41301,
                f"records[{i}] has {size} bytes of key and value; topic {topic} accepts {limit}",
            )

    results = await producer.produce_all(topic, messages)
    errors = [r for r in results if isinstance(r, DeliveryError)]
    status = 200 if not errors else 413 if any(e.too_large for e in errors) else 500
    return web.json_response(
        {"key_schema_id": None, "value_schema_id": None, "offsets": [_offset(r) for r in results]},
        status=status,
        content_type=V2_RESPONSE,
    )


def create_app(producer: AsyncProducer, client_max_size: int = CLIENT_MAX_SIZE) -> web.Application:
    app = web.Application(client_max_size=client_max_size, middlewares=[v2_errors])
    app[PRODUCER_KEY] = producer

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
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
