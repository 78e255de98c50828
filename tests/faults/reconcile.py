"""What each store of a pipeline holds, read straight from the store, to reconcile the source with
Kafka, the landed objects, the silver tables, Kinesis and the streaming tables."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from pinpipe import tables
from pinpipe.aws_access import aws_client
from pinpipe.config import Settings
from pinpipe.contract import SOURCE_TABLES, SourceTable
from pinpipe.landing import topic_ends
from pinpipe.services.emulator import RunOptions
from pinpipe.services.emulator.emulator import Emulator, RunSummary
from pinpipe.services.emulator.sender import RetryPolicy, Sender
from pinpipe.source import db
from pinpipe.spark import lake
from tests.stores import bucket_objects, stream_records, topic_values

TABLE = {t.short: t for t in SOURCE_TABLES}
# Patient enough to ride out a component's restart (tens of seconds), as a real client would.
PATIENT = RetryPolicy(attempts=200, base_delay_s=0.2, max_delay_s=2.0)


def row_key(table: SourceTable, row: dict[str, Any]) -> int:
    return int(row[table.key])


def kafka_values(s: Settings, table: str) -> list[bytes]:
    """Every record value of the table's topic, in offset order."""
    topic = s.topics[table]
    end = topic_ends(s)[table]
    values = topic_values(s.endpoints.kafka_bootstrap, topic, 0, end)
    assert len(values) == end, f"read {len(values)} of {end} records of {topic}"
    return values


def landed_lines(s: Settings, table: str) -> list[bytes]:
    """Every record line in the landed objects of the table's topic."""
    s3 = aws_client(s, "s3")
    lines: list[bytes] = []
    for obj in bucket_objects(s3, s.bucket, prefix=f"topics/{s.topics[table]}/"):
        body = s3.get_object(Bucket=s.bucket, Key=obj["Key"])["Body"].read()
        lines.extend(line for line in body.splitlines() if line.strip())
    return lines


def lake_objects(s: Settings) -> dict[str, str]:
    """Every object of the pipeline's bucket: key -> ETag."""
    return {obj["Key"]: obj["ETag"] for obj in bucket_objects(aws_client(s, "s3"), s.bucket)}


def kinesis_data(s: Settings, table: str) -> list[tuple[str, str, bytes]]:
    """Every record of the table's stream: (shard, sequence number, data)."""
    return [
        (shard, record["SequenceNumber"], record["Data"])
        for shard, record in stream_records(aws_client(s, "kinesis"), s.streams[table])
    ]


def keys_of_values(table: str, values: Iterable[bytes]) -> list[int]:
    return [row_key(TABLE[table], json.loads(v)) for v in values]


def table_keys(s: Settings, name: str) -> list[int]:
    return [int(row["ind"]) for row in tables.rows(s, name)]


def table_state(s: Settings, name: str) -> tuple[int, int] | None:
    """(row count, Delta version) of a table, None if it was never written."""
    try:
        dt = DeltaTable(tables.table_uri(s, name), storage_options=tables.storage_options(s))
    except Exception:
        return None
    return dt.to_pyarrow_dataset().count_rows(), dt.version()


def all_table_names(s: Settings) -> list[str]:
    return [*lake.SILVER, lake.QUARANTINE, *lake.GOLD, *lake.streaming_tables(s)]


@dataclass
class AckingSender(Sender):
    """The emulator's sender, noting when each key was acknowledged (a 200 for its request)."""

    acked: dict[int, float] = field(default_factory=dict)

    def send(
        self, method: str, url: str, body: dict[str, Any], content_type: str, records: int
    ) -> bool:
        ok = super().send(method, url, body, content_type, records)
        if ok:
            now = time.monotonic()
            rows = (
                [r["value"] for r in body["records"]]
                if "records" in body
                else [r["Data"] for r in body.get("Records", [])] or [body["Data"]]
            )
            for row in rows:
                key = row.get("index", row.get("ind"))
                self.acked.setdefault(int(key), now)
        return ok


@dataclass
class EmulatorRun:
    """One emulator run in a thread, at a steady rate, for one path."""

    settings: Settings
    source_url: str
    path: str
    api_url: str
    count: int
    rate: float
    batch_size: int
    state: Path
    sender: AckingSender = field(init=False)
    summary: RunSummary | None = None
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.sender = AckingSender(
            dead_letter_file=self.state / f"dead-{self.path}.jsonl", policy=PATIENT
        )
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        options = RunOptions(
            path=self.path,
            api_url=self.api_url,
            count=self.count,
            rate=self.rate,
            batch_size=self.batch_size,
            all_rows=True,
            resume=self._checkpoint.exists(),
        )
        try:
            emulator = Emulator(
                self.settings,
                db.connect(self.source_url),
                options,
                self._checkpoint,
                self.sender,
            )
            self.summary = emulator.run()
        except BaseException as e:
            self.error = e

    @property
    def _checkpoint(self) -> Path:
        return self.state / f"checkpoint-{self.path}.json"

    def start(self) -> EmulatorRun:
        self._thread.start()
        return self

    def join(self, timeout: float = 600) -> RunSummary:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the {self.path} emulator did not finish"
        if self.error:
            raise self.error
        assert self.summary is not None
        c = self.sender.counters
        assert c.dead_records == 0, f"{c.dead_records} records dead-lettered ({self.path})"
        return self.summary
