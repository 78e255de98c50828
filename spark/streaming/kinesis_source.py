"""A Spark streaming source for Amazon Kinesis, registered as format ``kinesis``.

It takes Databricks' option names (``streamName``, ``region``, ``initialPosition``,
``awsAccessKey``, ``awsSecretKey``, ``endpoint``, ``roleArn``, ``roleExternalId``,
``roleSessionName``, ``stsEndpoint``) and produces Databricks' columns, so the same
``spark.readStream.format("kinesis")`` code runs here (against LocalStack) and on Databricks,
whose built-in source the aws profile uses instead (``streaming.kinesis_source``).

Offsets are, per shard, the sequence number of the last record consumed (or none yet), kept in
Spark's checkpoint; a restarted query resumes just after it, so nothing is lost or read twice.
The driver reads ahead to find each micro-batch's end and hands the records it read to the
batch's partitions; a batch replayed after a restart reads its exact range again from Kinesis.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.types import (
    BinaryType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from pinpipe.aws_access import AwsAccess
from pinpipe.errors import JobError

SCHEMA = StructType(
    [
        StructField("partitionKey", StringType()),
        StructField("data", BinaryType()),
        StructField("stream", StringType()),
        StructField("shardId", StringType()),
        StructField("sequenceNumber", StringType()),
        StructField("approximateArrivalTimestamp", TimestampType()),
    ]
)
Record = tuple[str, bytes, str, str, str, datetime]
MAX_EMPTY_CALLS = 3
# What GetShardIterator answers for a sequence number the shard does not hold: Kinesis, and the
# local emulator.
UNKNOWN_POSITION = {"InvalidArgumentException", "ResourceNotFoundException"}
# Part of the error a checkpoint older than its stream fails with, which no restart can heal.
CREATED_AGAIN = "the stream was deleted and created again"
RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "ThrottlingException",
    "KMSThrottlingException",
}


def kinesis_client(options: dict[str, str]) -> Any:
    """A Kinesis client from the source's options; with ``roleArn``, as that role, its
    credentials renewed before they expire (as Databricks' source does)."""
    import boto3

    kwargs = AwsAccess.from_kinesis_source_options(options).boto3_kwargs()
    lower = {k.lower(): v for k, v in options.items()}
    if not lower.get("rolearn"):
        return boto3.client("kinesis", **kwargs)
    from botocore.credentials import RefreshableCredentials
    from botocore.session import get_session

    sts = boto3.client("sts", **{**kwargs, "endpoint_url": lower.get("stsendpoint") or None})
    assume = {
        "RoleArn": lower["rolearn"],
        "RoleSessionName": lower.get("rolesessionname") or "pinpipe-kinesis",
        **({"ExternalId": lower["roleexternalid"]} if lower.get("roleexternalid") else {}),
    }

    def fetch() -> dict[str, str]:
        c = sts.assume_role(**assume)["Credentials"]
        return {
            "access_key": c["AccessKeyId"],
            "secret_key": c["SecretAccessKey"],
            "token": c["SessionToken"],
            "expiry_time": c["Expiration"].isoformat(),
        }

    session = get_session()
    session._credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
    )
    keyless = {k: v for k, v in kwargs.items() if not k.startswith("aws_")}
    return boto3.Session(botocore_session=session).client("kinesis", **keyless)


@dataclass
class ShardReader:
    """Reads one shard from just after ``after`` (a sequence number; None = the shard's start),
    renewing expired iterators and backing off when throttled."""

    client: Any
    stream: str
    shard: str
    after: str | None
    batch_size: int = 10_000
    _iterator: str | None = field(default=None, init=False)
    _empty_calls: int = field(default=0, init=False)

    def _new_iterator(self) -> str:
        kwargs: dict[str, Any] = {"StreamName": self.stream, "ShardId": self.shard}
        if self.after is None:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            kwargs["StartingSequenceNumber"] = self.after
        try:
            return str(self.client.get_shard_iterator(**kwargs)["ShardIterator"])
        except self.client.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            if self.after is None or code not in UNKNOWN_POSITION or not self._stream_exists():
                raise
            raise JobError(
                f"{self.stream}/{self.shard} has no record {self.after}, after which the query's "
                f"checkpoint resumes: {CREATED_AGAIN} since the checkpoint was written. "
                "Delete the query's checkpoint to read the stream from its start (rows already "
                "in the table stay as they are), or `make reset` to start the whole pipeline over."
            ) from e

    def _stream_exists(self) -> bool:
        try:
            self.client.describe_stream_summary(StreamName=self.stream)
        except self.client.exceptions.ResourceNotFoundException:
            return False
        return True

    def next_records(self) -> tuple[list[dict[str, Any]], bool]:
        """(records, caught_up): one GetRecords call, retried on throttling/expiry."""
        delay = 0.1
        for _ in range(12):
            if self._iterator is None:
                self._iterator = self._new_iterator()
            try:
                got = self.client.get_records(ShardIterator=self._iterator, Limit=self.batch_size)
            except self.client.exceptions.ExpiredIteratorException:
                self._iterator = None  # resumes after the last record returned
                continue
            except self.client.exceptions.ClientError as e:
                if e.response.get("Error", {}).get("Code") not in RETRYABLE:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            records = got["Records"]
            if records:
                self.after = records[-1]["SequenceNumber"]
                self._empty_calls = 0
            else:
                self._empty_calls += 1
            self._iterator = got.get("NextShardIterator")  # None once a closed shard is done
            # Caught up: Kinesis says so, or the shard is closed, or several calls in a row came
            # back empty (an emulator may never report zero lag).
            behind = got.get("MillisBehindLatest", 0)
            caught_up = not records and (behind == 0 or self._empty_calls >= MAX_EMPTY_CALLS)
            return records, caught_up or self._iterator is None
        raise JobError(f"{self.stream}/{self.shard}: Kinesis kept throttling; giving up")


def to_row(stream: str, shard: str, r: dict[str, Any]) -> Record:
    return (r["PartitionKey"], bytes(r["Data"]), stream, shard, r["SequenceNumber"],
            r["ApproximateArrivalTimestamp"])  # fmt: skip


@dataclass
class ShardRange(InputPartition):
    """Records of one shard after ``start`` up to and including ``end`` (sequence numbers)."""

    shard: str
    start: str | None
    end: str
    records: list[Record] | None = None  # read ahead by the driver, when it has them


@dataclass
class ReadAhead:
    """What the driver has read of a shard beyond a committed offset."""

    start: str | None  # the records follow this sequence number (None: the shard's start)
    reader: ShardReader
    records: list[Record] = field(default_factory=list)

    @property
    def end(self) -> str | None:
        return self.records[-1][4] if self.records else self.start

    def drop_through(self, seq: str | None) -> bool:
        """Forget records up to ``seq``; False if ``seq`` is not where this read-ahead is."""
        if seq == self.start:
            return True
        seqs = [r[4] for r in self.records]
        if seq not in seqs:
            return False
        self.records = self.records[seqs.index(seq) + 1 :]
        self.start = seq
        return True


class KinesisStreamReader(DataSourceStreamReader):
    def __init__(self, options: dict[str, str]) -> None:
        self.options = options  # keys in lower case: Spark's options are case-insensitive
        self.stream = options["streamname"]
        self.max_per_shard = int(options.get("maxrecordspershard", "100000"))
        self._client: Any = None
        self._ahead: dict[str, ReadAhead] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = kinesis_client(self.options)
        return self._client

    def _shards(self) -> list[str]:
        shards, token = [], None
        while True:
            kwargs = {"NextToken": token} if token else {"StreamName": self.stream}
            page = self.client.list_shards(**kwargs)
            shards += [s["ShardId"] for s in page["Shards"]]
            token = page.get("NextToken")
            if not token:
                return sorted(shards)

    def initialOffset(self) -> dict[str, Any]:
        position = self.options.get("initialposition", "latest").lower()
        if position in ("earliest", "trim_horizon"):
            return {"shards": dict.fromkeys(self._shards())}
        if position != "latest":
            raise ValueError(f"initialPosition must be earliest or latest, not {position!r}")
        ends = {}
        for shard in self._shards():  # "latest": what is already in the shard is skipped
            reader = ShardReader(self.client, self.stream, shard, None)
            while not reader.next_records()[1]:
                pass
            ends[shard] = reader.after
        return {"shards": ends}

    def latestOffset(
        self, start: dict[str, Any] | None = None, limit: Any = None
    ) -> dict[str, Any]:
        begin_at: dict[str, str | None] = dict((start or {}).get("shards", {}))
        end: dict[str, str | None] = {}
        for shard in self._shards():
            begin = begin_at.get(shard)
            ahead = self._ahead.get(shard)
            if ahead is None or not ahead.drop_through(begin):
                ahead = ReadAhead(begin, ShardReader(self.client, self.stream, shard, begin))
                self._ahead[shard] = ahead
            while len(ahead.records) < self.max_per_shard:
                records, caught_up = ahead.reader.next_records()
                ahead.records += [to_row(self.stream, shard, r) for r in records]
                if caught_up:
                    break
            end[shard] = ahead.end
        return {"shards": end}

    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> list[ShardRange]:
        begin_at: dict[str, str | None] = start.get("shards", {})
        parts = []
        for shard, last in end.get("shards", {}).items():
            first = begin_at.get(shard)
            if last is None or last == first:
                continue  # nothing new in this shard
            parts.append(ShardRange(shard, first, last, self._read_ahead(shard, first, last)))
        return parts

    def _read_ahead(self, shard: str, first: str | None, last: str) -> list[Record] | None:
        """The records of (first, last] if the driver read exactly them ahead, else None."""
        ahead = self._ahead.get(shard)
        if ahead is None or ahead.start != first:
            return None
        seqs = [r[4] for r in ahead.records]
        return ahead.records[: seqs.index(last) + 1] if last in seqs else None

    def read(self, partition: InputPartition) -> Iterator[Record]:
        if not isinstance(partition, ShardRange):  # Spark hands back what partitions() made
            raise TypeError(f"not a Kinesis shard range: {partition!r}")
        if partition.records is not None:
            yield from partition.records
            return
        client = kinesis_client(self.options)
        reader = ShardReader(client, self.stream, partition.shard, partition.start)
        end = int(partition.end)
        while True:
            records, caught_up = reader.next_records()
            for r in records:
                if int(r["SequenceNumber"]) > end:
                    return
                yield to_row(self.stream, partition.shard, r)
            if caught_up or (records and int(records[-1]["SequenceNumber"]) >= end):
                return

    def commit(self, end: dict[str, Any]) -> None:
        """Forget read-ahead records up to the committed offsets."""
        for shard, last in end.get("shards", {}).items():
            ahead = self._ahead.get(shard)
            if ahead is not None and not ahead.drop_through(last):
                del self._ahead[shard]


class KinesisDataSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return "kinesis"

    def schema(self) -> StructType:
        return SCHEMA

    def streamReader(self, schema: StructType) -> KinesisStreamReader:
        options = {k.lower(): v for k, v in self.options.items()}
        if "streamname" not in options:
            raise ValueError("the kinesis source needs the option streamName")
        return KinesisStreamReader(options)


def register(spark: Any) -> None:
    """Make ``format("kinesis")`` this source (where the platform has none of its own)."""
    spark.dataSource.register(KinesisDataSource)
