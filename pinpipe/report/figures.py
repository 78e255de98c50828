"""Everything the report shows, gathered from the running sandbox and the lake."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pinpipe.config import Settings
from pinpipe.errors import PinpipeError
from pinpipe.spark import lake
from pinpipe.tables import TableError, read, storage_options, table_uri


@dataclass
class TableState:
    rows: int | None  # None: not written yet
    updated_at: datetime | None


@dataclass
class Figures:
    generated_at: datetime
    uid: str
    gold: dict[str, list[dict[str, Any]] | None]
    tables: dict[str, TableState]
    kafka_records: dict[str, int | None]
    landed_records: dict[str, int | None]
    kinesis_records: dict[str, int | None]
    quarantine_reasons: list[tuple[str, str, str, int]]  # (path, table, reason, rows)
    run: dict[str, Any] | None = None  # the last `pinpipe demo` run: steps and timings
    problems: list[str] = field(default_factory=list)


def table_state(s: Settings, name: str) -> TableState:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(table_uri(s, name), storage_options=storage_options(s))
    except TableNotFoundError:
        return TableState(None, None)
    last = table.history(1)[0]
    counts = table.get_add_actions(flatten=True).column("num_records").to_pylist()
    rows = sum(int(n) for n in counts)
    return TableState(rows, datetime.fromtimestamp(last["timestamp"] / 1000, UTC))


def quarantine_reasons(s: Settings, name: str, path: str) -> list[tuple[str, str, str, int]]:
    try:
        rows = read(s, name).select(["source_table", "reason"]).to_pylist()
    except TableError:
        return []
    counts = Counter((r["source_table"], r["reason"]) for r in rows)
    return [(path, table, reason, n) for (table, reason), n in sorted(counts.items())]


def kinesis_records(s: Settings) -> dict[str, int]:
    """Records now in each stream (within its retention), read with plain GetRecords calls."""

    from pinpipe.aws_access import aws_client

    client = aws_client(s, "kinesis")
    out = {}
    for table, stream in s.streams.items():
        out[table] = 0
        for shard in client.list_shards(StreamName=stream)["Shards"]:
            iterator = client.get_shard_iterator(
                StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = client.get_records(ShardIterator=iterator, Limit=10_000)
                out[table] += len(page["Records"])
                if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                    break
                iterator = page.get("NextShardIterator")
    return out


def last_run(s: Settings) -> dict[str, Any] | None:
    path = s.state_dir / "demo" / "last-run.json"
    return json.loads(path.read_text()) if path.exists() else None


def collect(s: Settings) -> Figures:
    from pinpipe import landing
    from pinpipe.sandbox import runner

    problems: list[str] = []
    if s.profile == "local" and runner.running_pid(s, "lake") is None:
        raise PinpipeError("the sandbox is not running, and the lake lives in it: `make up`")

    def attempt(what: str, read_it: Any, empty: Any) -> Any:
        try:
            return read_it()
        except Exception as e:  # the report shows what it can, and says what it could not read
            problems.append(f"{what}: {type(e).__name__}: {str(e)[:200]}")
            return empty

    names = [*lake.SILVER, lake.QUARANTINE, *lake.GOLD, *lake.streaming_tables(s)]
    names.append(lake.STREAMING_QUARANTINE)
    gold: dict[str, list[dict[str, Any]] | None] = {}
    for name in lake.GOLD:
        gold[name] = attempt(name, lambda n=name: read(s, n).to_pylist(), None)
    none = dict.fromkeys(lake.SILVER)
    states = {n: attempt(n, lambda n=n: table_state(s, n), TableState(None, None)) for n in names}
    return Figures(
        generated_at=datetime.now(UTC),
        uid=s.uid,
        gold=gold,
        tables=states,
        kafka_records=attempt("Kafka topics", lambda: landing.topic_ends(s), none),
        landed_records=attempt("landed objects", lambda: landing.landed(s), none),
        kinesis_records=attempt("Kinesis streams", lambda: kinesis_records(s), none),
        quarantine_reasons=[
            *quarantine_reasons(s, lake.QUARANTINE, "batch"),
            *quarantine_reasons(s, lake.STREAMING_QUARANTINE, "stream"),
        ],
        run=last_run(s),
        problems=problems,
    )


def age(then: datetime | None, now: datetime) -> str:
    """'just now', '5 min ago', '3 h ago', '2 days ago' or 'never'."""
    if then is None:
        return "never"
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return "just now"
