"""The emulator's loop: pick source rows, post each table's rows, track progress and failures.

An event is one user's post: the pin, geo and user rows of the same index, each sent to its own
topic (batch path) or stream (streaming path). Events come either in index order, every row
once (``all_rows``), or drawn at random with replacement from a seeded generator.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from pinpipe.config import Settings
from pinpipe.contract import SOURCE_TABLES, SourceTable
from pinpipe.services.emulator import payloads
from pinpipe.services.emulator.checkpoint import Checkpoint
from pinpipe.services.emulator.options import RunOptions
from pinpipe.services.emulator.sender import Sender
from pinpipe.source import db


@dataclass
class RunSummary:
    events: int = 0  # events whose three rows were all handled (delivered or dead-lettered)
    delivered: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False
    planned: int | None = None  # events this run will send, when known up front


def event_keys(keys: list[int], options: RunOptions) -> Iterator[int]:
    """The run's sequence of source keys, from its start, deterministic for a seed."""
    if options.all_rows:
        yield from keys
        return
    rng = random.Random(options.seed)
    while keys:
        yield keys[rng.randrange(len(keys))]


def identity(options: RunOptions, source_url: str) -> dict[str, object]:
    return {
        "path": options.path,
        "source": source_url,
        "all": options.all_rows,
        "seed": None if options.all_rows else options.seed,
    }


class Emulator:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        options: RunOptions,
        checkpoint_file: Path,
        sender: Sender,
        on_progress: Callable[[RunSummary], None] = lambda _: None,
    ) -> None:
        if options.api_url is None:
            raise ValueError("the emulator needs the API's invoke URL (options.api_url)")
        self.api_url = options.api_url
        self.s = settings
        self.engine = engine
        self.conn = engine.connect()  # one connection for the whole run
        self.options = options
        self.checkpoint_file = checkpoint_file
        self.sender = sender
        self.on_progress = on_progress
        self.stop = sender.stop  # set by Ctrl-C: finish the request in flight, then stop

    def _request(
        self, table: SourceTable, rows: list[dict[str, Any]]
    ) -> tuple[str, str, dict[str, Any], str]:
        base = self.api_url.rstrip("/")
        if self.options.path == "batch":
            topic = self.s.topics[table.short]
            return (
                "POST",
                f"{base}/topics/{topic}",
                payloads.kafka_records(table, rows),
                payloads.KAFKA_JSON_V2,
            )
        stream = self.s.streams[table.short]
        if len(rows) == 1:
            body = payloads.kinesis_record(stream, table, rows[0])
            return "PUT", f"{base}/streams/{stream}/record", body, payloads.JSON
        body = payloads.kinesis_records(stream, table, rows)
        return "PUT", f"{base}/streams/{stream}/records", body, payloads.JSON

    def run(self) -> RunSummary:
        try:
            return self._run()
        finally:
            self.conn.close()

    def _run(self) -> RunSummary:
        o = self.options
        if not o.all_rows and o.seed is None:
            o = replace(o, seed=random.SystemRandom().randrange(2**31))
            self.options = o
        ident = identity(o, str(self.engine.url))
        checkpoint = (
            Checkpoint.load(self.checkpoint_file, ident) if o.resume else Checkpoint(identity=ident)
        )
        delivered = {t.short: checkpoint.delivered.get(t.short, 0) for t in SOURCE_TABLES}
        start = min(delivered.values())
        keys = db.keys(self.conn, SOURCE_TABLES[0])
        sequence = event_keys(keys, o)
        for _ in range(start):  # replay the deterministic sequence up to where the run stopped
            next(sequence, None)

        limits = [n for n in (o.count, len(keys) - start if o.all_rows else None) if n is not None]
        summary = RunSummary(delivered=dict(delivered), planned=min(limits) if limits else None)
        t0 = time.monotonic()
        position = start
        while not self.stop.is_set():
            size = o.batch_size
            if o.count is not None:
                size = min(size, o.count - summary.events)
            if size <= 0 or (o.duration_s is not None and time.monotonic() - t0 >= o.duration_s):
                break
            batch_keys = [k for _, k in zip(range(size), sequence, strict=False)]
            if not batch_keys:
                break  # every row sent (--all)
            for table in SOURCE_TABLES:
                # After a resume one table may be ahead of another: send only what it lacks.
                skip = max(0, delivered[table.short] - position)
                todo = batch_keys[skip:]
                if not todo:
                    continue
                rows = _rows_in_order(self.conn, table, todo)
                method, url, body, content_type = self._request(table, rows)
                self.sender.send(method, url, body, content_type, records=len(rows))
                delivered[table.short] = position + len(batch_keys)
                checkpoint.delivered = delivered
                checkpoint.save(self.checkpoint_file)
            position += len(batch_keys)
            summary.events += len(batch_keys)
            summary.delivered = dict(delivered)
            summary.seconds = time.monotonic() - t0
            self.on_progress(summary)
            if o.rate > 0:
                wait = t0 + summary.events / o.rate - time.monotonic()
                if wait > 0:
                    self.stop.wait(wait)
        summary.seconds = time.monotonic() - t0
        summary.interrupted = self.stop.is_set()
        return summary


def _rows_in_order(conn: Connection, table: SourceTable, keys: list[int]) -> list[dict[str, Any]]:
    """The rows for the keys, in the keys' order, repeats included (random draws repeat)."""
    found = {row[table.key]: row for row in db.read_rows(conn, table, sorted(set(keys)))}
    missing = [k for k in keys if k not in found]
    if missing:
        raise db.SourceError(f"{table.name} has no row with {table.key} {missing[0]}")
    return [found[k] for k in keys]
