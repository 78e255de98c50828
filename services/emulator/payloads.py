"""Request bodies of the two wire formats (pipeline-spec section 2)."""

from __future__ import annotations

from typing import Any

from pinpipe.contract import SourceTable, to_wire

KAFKA_JSON_V2 = "application/vnd.kafka.json.v2+json"
JSON = "application/json"


def partition_key(table: SourceTable, row: dict[str, Any]) -> str:
    return str(row[table.key])


def kafka_records(table: SourceTable, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``POST /topics/<topic>`` body: one or many records, keyed by the join key so every
    delivery of a row goes to the same partition and their offsets order them."""
    return {"records": [{"key": row[table.key], "value": to_wire(row)} for row in rows]}


def kinesis_record(stream: str, table: SourceTable, row: dict[str, Any]) -> dict[str, Any]:
    """``PUT /streams/<stream>/record`` body."""
    return {"StreamName": stream, "Data": to_wire(row), "PartitionKey": partition_key(table, row)}


def kinesis_records(stream: str, table: SourceTable, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``PUT /streams/<stream>/records`` body."""
    return {
        "StreamName": stream,
        "Records": [{"Data": to_wire(r), "PartitionKey": partition_key(table, r)} for r in rows],
    }
