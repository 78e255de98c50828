"""An asyncio face on confluent-kafka's producer: awaitable deliveries, cached topic metadata."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from pinpipe.services.rest_proxy.kafka_auth import ClientConfig, client_config

METADATA_TTL_S = 5.0
MESSAGE_MAX_BYTES = 1024 * 1024
# librdkafka counts this much record framing on top of key and value against message.max.bytes.
RECORD_OVERHEAD = 36
# The broker checks a topic's max.message.bytes against the whole batch, header included.
BATCH_OVERHEAD = 61
TOO_LARGE_CODES = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.RECORD_LIST_TOO_LARGE})
# librdkafka's "unassigned" partition: the configured partitioner chooses (produce's default).
PARTITION_UA = -1


@dataclass(frozen=True)
class DeliveryError:
    message: str
    code: int | None = None

    @property
    def too_large(self) -> bool:
        return self.code in TOO_LARGE_CODES


def _code(e: KafkaException) -> int | None:
    err = e.args[0] if e.args else None
    return err.code() if isinstance(err, KafkaError) else None


class AsyncProducer:
    """Idempotent producer; a background thread serves delivery reports to the event loop."""

    def __init__(self, bootstrap: str, common: ClientConfig | None = None) -> None:
        common = common or client_config(bootstrap)
        self._producer = Producer(
            {
                **common,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "message.max.bytes": MESSAGE_MAX_BYTES,
            }
        )
        self._admin = AdminClient(common)
        self._metadata: dict[str, list[int]] = {}
        self._metadata_at = 0.0
        self._topic_max_bytes: dict[str, int | None] = {}
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="delivery-poller", daemon=True)

    def start(self) -> None:
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.1)

    async def partitions(self, topic: str) -> list[int] | None:
        """The topic's partition ids, or None if it does not exist. A topic missing from the
        cache is looked up again, so one created a moment ago is found."""
        found = (await self.topics()).get(topic)
        if found is None:
            found = (await self.topics(refresh=True)).get(topic)
        return found

    async def topics(self, refresh: bool = False) -> dict[str, list[int]]:
        """Topic name -> partition ids, refreshed at most every few seconds."""
        if refresh or time.monotonic() - self._metadata_at > METADATA_TTL_S:
            loop = asyncio.get_running_loop()
            md = await loop.run_in_executor(None, lambda: self._admin.list_topics(timeout=10))
            self._metadata = {
                name: sorted(t.partitions)
                for name, t in md.topics.items()
                if not name.startswith("__") and t.error is None
            }
            self._metadata_at = time.monotonic()
            self._topic_max_bytes = {}
        return self._metadata

    async def max_record_bytes(self, topic: str) -> int:
        """The largest key + value, in bytes, that both this producer and the topic accept."""
        limit = MESSAGE_MAX_BYTES - RECORD_OVERHEAD
        await self.topics()  # expires the topic configs together with the metadata
        if topic not in self._topic_max_bytes:
            loop = asyncio.get_running_loop()
            self._topic_max_bytes[topic] = await loop.run_in_executor(
                None, self._describe_max_message_bytes, topic
            )
        topic_max = self._topic_max_bytes[topic]
        if topic_max is not None:
            limit = min(limit, topic_max - BATCH_OVERHEAD - RECORD_OVERHEAD)
        return limit

    def _describe_max_message_bytes(self, topic: str) -> int | None:
        """The topic's max.message.bytes, or None if the broker does not tell."""
        resource = ConfigResource(ResourceType.TOPIC, topic)
        try:
            configs = self._admin.describe_configs([resource], request_timeout=10)[resource]
            return int(configs.result()["max.message.bytes"].value)
        except (KafkaException, KeyError, TypeError, ValueError):
            return None

    async def produce_all(
        self, topic: str, messages: list[tuple[bytes | None, bytes | None, int | None]]
    ) -> list[tuple[int, int] | DeliveryError]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[tuple[int, int] | DeliveryError]] = []
        for key, value, partition in messages:
            fut: asyncio.Future[tuple[int, int] | DeliveryError] = loop.create_future()
            futures.append(fut)

            def report(
                err: KafkaError | None,
                msg: Message,
                fut: asyncio.Future[tuple[int, int] | DeliveryError] = fut,
            ) -> None:
                result: tuple[int, int] | DeliveryError
                if err:
                    result = DeliveryError(err.str(), err.code())
                elif (part := msg.partition()) is None or (offset := msg.offset()) is None:
                    # Not for an acknowledged message: with acks=all the broker assigns both.
                    result = DeliveryError("delivery report without a partition or offset")
                else:
                    result = (part, offset)
                loop.call_soon_threadsafe(fut.set_result, result)

            while True:
                try:
                    self._producer.produce(
                        topic,
                        value=value,
                        key=key,
                        partition=PARTITION_UA if partition is None else partition,
                        on_delivery=report,
                    )
                    break
                except BufferError:  # local queue full: let deliveries drain
                    await asyncio.sleep(0.05)
                except KafkaException as e:
                    fut.set_result(DeliveryError(str(e), _code(e)))
                    break
        return list(await asyncio.gather(*futures))

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._producer.flush, 10)
        self._stop.set()
