"""Writes generated events in the S3 sink's landing layout to a local folder."""

from __future__ import annotations

import json
from pathlib import Path

from pinpipe.config import Settings
from pinpipe.contract import SOURCE_TABLES, landed_object_name, to_wire
from pinpipe.source.generator import SourceGenerator

RECORDS_PER_OBJECT = 10_000


def write_landed(
    s: Settings,
    root: Path,
    events: int,
    seed: int = 1,
    first: int = 0,
    per_object: int = RECORDS_PER_OBJECT,
) -> None:
    """``events`` generated events with keys and Kafka offsets from ``first`` on: a later call
    with ``first`` = the events landed so far adds new objects, as a later day of traffic."""
    handles: dict[str, list[str]] = {t.short: [] for t in SOURCE_TABLES}
    starts = dict.fromkeys(handles, first)

    def flush(table: str) -> None:
        topic = s.topics[table]
        folder = root / "topics" / topic / "partition=0"
        folder.mkdir(parents=True, exist_ok=True)
        name = landed_object_name(topic, 0, starts[table])
        (folder / name).write_text("".join(handles[table]))
        starts[table] += len(handles[table])
        handles[table] = []

    generator = SourceGenerator(events, seed=seed)
    for index in range(first, first + events):
        triplet = generator.pin(index), generator.geo(index), generator.user(index)
        for table, row in zip(SOURCE_TABLES, triplet, strict=True):
            handles[table.short].append(json.dumps(to_wire(row), ensure_ascii=False) + "\n")
            if len(handles[table.short]) >= per_object:
                flush(table.short)
    for table in handles:
        if handles[table]:
            flush(table)
