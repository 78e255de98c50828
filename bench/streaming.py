"""Benchmark of the streaming path on the running sandbox (``make up`` first).

1. Latency: events are PUT through the API gateway at a steady rate while the streaming job runs
   with its processing-time trigger; each row's latency is the time from its PUT to the Delta
   commit that made it readable (read from the table's transaction log). Measured in the same
   run, the baseline is the local Kinesis emulator alone: PUT through the gateway to the record
   being returned by GetRecords.
2. Throughput: records preloaded into the streams are processed by the job's three queries
   (``availableNow``), twice in one Spark session: just after it starts (cold: the first
   micro-batches load and compile what Spark and Delta need) and again after as many more records
   arrive (warm, as a running job is). The baseline is reading the streams with plain GetRecords
   calls, measured just before each.

    python -m bench.streaming   # BENCH_STREAM_RATE=5 (events/s), BENCH_STREAM_SECONDS=60,
                                # BENCH_STREAM_PRELOAD=5000 (events per stream)
"""

from __future__ import annotations

import io
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import requests

from pinpipe.aws import provision
from pinpipe.aws_access import aws_client
from pinpipe.config import PROJECT_ROOT, Settings, load_settings
from pinpipe.contract import BY_SHORT, SOURCE_TABLES
from pinpipe.errors import PinpipeError
from pinpipe.report import figures
from pinpipe.sandbox import runner
from pinpipe.services.emulator import payloads
from pinpipe.source.generator import SourceGenerator
from pinpipe.spark import lake
from pinpipe.spark.streaming.job import TRIGGER_INTERVAL

TABLES = [t.short for t in SOURCE_TABLES]
Key = tuple[str, int]  # (table, ind)


def new_user(prefix: str) -> tuple[Settings, str]:
    """A fresh uid in the sandbox (its own streams, bucket and API); returns it and the API URL."""
    s = load_settings(uid=f"{prefix}{uuid.uuid4().hex[:8]}")
    return s, provision.provision(s)


def remove_user(s: Settings) -> None:
    """Undo ``new_user``: its streams, topics, bucket and cloud stack, and its record, so that the
    next ``up`` does not make them again."""
    provision.teardown(s, delete_data=True)


def events(count: int, seed: int, first_key: int = 1) -> list[dict[str, dict[str, Any]]]:
    """Generated events whose keys run from ``first_key``, so separate batches never collide."""
    out = []
    for i, rows in enumerate(SourceGenerator(count, seed=seed)):
        keyed = zip(TABLES, rows, strict=True)
        out.append({t: {**row, BY_SHORT[t].key: first_key + i} for t, row in keyed})
    return out


def put_paced(
    s: Settings, api: str, batch: list[dict[str, dict[str, Any]]], rate: float
) -> dict[Key, float]:
    """PUT each event's three records through the gateway at ``rate`` events/s; returns when
    each record's PUT started (epoch seconds)."""
    sent: dict[Key, float] = {}
    session = requests.Session()

    def put(table: str, row: dict[str, Any]) -> None:
        body = payloads.kinesis_record(s.streams[table], BY_SHORT[table], row)
        sent[(table, row[BY_SHORT[table].key])] = time.time()
        r = session.put(f"{api}/streams/{s.streams[table]}/record", json=body, timeout=30)
        r.raise_for_status()

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = []
        for i, event in enumerate(batch):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            futures += [pool.submit(put, t, row) for t, row in event.items()]
        for f in futures:
            f.result()
    return sent


class KinesisWatcher(threading.Thread):
    """Polls every shard of the streams and notes when each record is first returned."""

    def __init__(self, s: Settings) -> None:
        super().__init__(daemon=True)
        self.client = aws_client(s, "kinesis")
        self.streams = {s.streams[t]: t for t in TABLES}
        self.seen: dict[Key, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        iterators = {}
        for stream in self.streams:
            for shard in self.client.list_shards(StreamName=stream)["Shards"]:
                iterators[(stream, shard["ShardId"])] = self.client.get_shard_iterator(
                    StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
                )["ShardIterator"]
        while not self.stop.wait(0.02):
            for (stream, shard), iterator in iterators.items():
                got = self.client.get_records(ShardIterator=iterator, Limit=1000)
                now = time.time()
                iterators[(stream, shard)] = got["NextShardIterator"]
                table = self.streams[stream]
                for r in got["Records"]:
                    key = json.loads(r["Data"])[BY_SHORT[table].key]
                    self.seen.setdefault((table, key), now)


class DeltaCommits:
    """Reads a table's transaction log as it grows: when each row's key first became readable."""

    def __init__(self, s: Settings, table: str) -> None:
        self.s3 = aws_client(s, "s3")
        self.bucket = s.bucket
        self.prefix = lake.table_path(s, lake.streaming_table(s, table)).split("/", 3)[3]
        self.table = table
        self.visible: dict[Key, float] = {}
        self._read: set[str] = set()

    def poll(self) -> None:
        import pyarrow.parquet as pq

        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.prefix}/_delta_log/")
        logs = sorted(
            o["Key"] for o in listing.get("Contents", []) if o["Key"].endswith(".json")
        )  # fmt: skip
        for key in logs:
            if key in self._read:
                continue
            self._read.add(key)
            actions = [json.loads(line) for line in self._get(key).splitlines() if line.strip()]
            committed = next(a["commitInfo"]["timestamp"] for a in actions if "commitInfo" in a)
            for a in actions:
                if "add" not in a:
                    continue
                data = self._get(f"{self.prefix}/{unquote(a['add']['path'])}")
                for ind in pq.read_table(io.BytesIO(data), columns=["ind"])["ind"].to_pylist():
                    self.visible.setdefault((self.table, ind), committed / 1000)

    def _get(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


def wait_visible(commits: list[DeltaCommits], keys: set[Key], timeout: float) -> dict[Key, float]:
    deadline = time.monotonic() + timeout
    visible: dict[Key, float] = {}
    while time.monotonic() < deadline:
        for c in commits:
            c.poll()
            visible.update(c.visible)
        if keys <= visible.keys():
            break
        time.sleep(1)
    return visible


def start_job(s: Settings) -> subprocess.Popen[bytes]:
    log = open(s.logs_dir / f"bench-streaming-{s.uid}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "pinpipe.spark.streaming.job"],
        env={**os.environ, "PINPIPE_UID": s.uid},
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_job(job: subprocess.Popen[bytes]) -> None:
    job.send_signal(signal.SIGTERM)
    try:
        job.wait(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        job.wait()


def latency(rate: float, seconds: float) -> dict[str, Any]:
    s, api = new_user("benchlat")
    try:
        count = max(1, int(rate * seconds))
        batch = events(count + 1, seed=7)
        warmup, paced = batch[:1], batch[1:]

        watcher = KinesisWatcher(s)
        watcher.start()
        time.sleep(1)  # the watcher's LATEST iterators must exist before the first PUT
        print(f"  kinesis alone: {count} events at {rate:g}/s through the gateway ...", flush=True)
        kinesis_sent = put_paced(s, api, events(count, seed=8, first_key=10**6), rate)
        deadline = time.monotonic() + 60
        while not kinesis_sent.keys() <= watcher.seen.keys() and time.monotonic() < deadline:
            time.sleep(0.2)
        watcher.stop.set()
        watcher.join()
        kinesis_lat = [watcher.seen[k] - t for k, t in kinesis_sent.items() if k in watcher.seen]

        print("  starting the streaming job (processing-time trigger) ...", flush=True)
        commits = [DeltaCommits(s, t) for t in TABLES]
        job = start_job(s)
        try:
            warm = put_paced(s, api, warmup, rate)
            if not warm.keys() <= wait_visible(commits, set(warm), timeout=300).keys():
                raise PinpipeError(f"the streaming job produced nothing; see {job.args}")
            print(f"  end to end: {count} events at {rate:g}/s ...", flush=True)
            sent = put_paced(s, api, paced, rate)
            visible = wait_visible(commits, set(sent), timeout=120)
        finally:
            stop_job(job)
        e2e_lat = [visible[k] - t for k, t in sent.items() if k in visible]
        return {
            "records": len(sent),
            "missing": len(sent) - len(e2e_lat),
            "e2e": percentiles(e2e_lat),
            "kinesis": percentiles(kinesis_lat),
            "kinesis_missing": len(kinesis_sent) - len(kinesis_lat),
        }
    finally:
        remove_user(s)


def preload(s: Settings, count: int, first_key: int = 1) -> float:
    """PutRecords straight to Kinesis, 500 at a time; returns records/s."""
    kinesis = aws_client(s, "kinesis")
    batch = events(count, seed=9 + first_key, first_key=first_key)
    t = time.perf_counter()
    for table in TABLES:
        table_def = BY_SHORT[table]
        for i in range(0, count, 500):
            rows = [e[table] for e in batch[i : i + 500]]
            body = payloads.kinesis_records(s.streams[table], table_def, rows)
            records = [
                {"Data": json.dumps(r["Data"]).encode(), "PartitionKey": r["PartitionKey"]}
                for r in body["Records"]
            ]
            got = kinesis.put_records(StreamName=s.streams[table], Records=records)
            if got.get("FailedRecordCount"):
                raise PinpipeError(f"preloading {table}: {got['FailedRecordCount']} failed")
    return 3 * count / (time.perf_counter() - t)


def raw_read_rate(s: Settings) -> tuple[int, float]:
    """Read every record of the streams with plain GetRecords calls: (records, records/s)."""
    t = time.perf_counter()
    total = sum(figures.kinesis_records(s).values())
    return total, total / (time.perf_counter() - t)


def throughput(count: int) -> list[dict[str, Any]]:
    """A cold and a warm round of ``count`` new events per stream, in one Spark session."""
    from pinpipe.spark.streaming import job

    s, _ = new_user("benchtput")
    rounds = []
    try:
        spark = job.streaming_session(s, "pinpipe-bench-streaming")
        job.ensure_tables(spark, s, list(TABLES))
        tables = [*lake.streaming_tables(s), lake.STREAMING_QUARANTINE]
        held = 0
        for name in ("cold", "warm"):
            print(f"  {name}: preloading {count:,} events into each stream ...", flush=True)
            put_rate = preload(s, count, first_key=1 + len(rounds) * count)
            raw_records, raw_rate = raw_read_rate(s)
            print(f"  {name}: running the three queries (availableNow) ...", flush=True)
            t = time.perf_counter()
            queries = [job.start_query(spark, s, table, available_now=True) for table in TABLES]
            for q in queries:
                q.awaitTermination(timeout=1800)
            wall = time.perf_counter() - t
            progress = [p for q in queries for p in q.recentProgress]
            rows = sum(
                spark.read.format("delta").load(lake.table_path(s, t)).count() for t in tables
            )
            kinesis_ms = sum(p["durationMs"].get("latestOffset", 0) for p in progress)
            trigger_ms = sum(p["durationMs"].get("triggerExecution", 0) for p in progress)
            rounds.append(
                {
                    "name": name,
                    "records": rows - held,
                    "expected": 3 * count,
                    "wall": wall,
                    "put_rate": put_rate,
                    "raw_records": raw_records,
                    "raw_rate": raw_rate,
                    "kinesis_share": kinesis_ms / trigger_ms if trigger_ms else 0.0,
                }
            )
            held = rows
        spark.stop()
        return rounds
    finally:
        remove_user(s)


def main() -> None:
    s = load_settings()
    if runner.running_pid(s, "localstack") is None:
        raise SystemExit("the sandbox is not running: `make up` first")
    rate = float(os.environ.get("BENCH_STREAM_RATE", "5"))
    seconds = float(os.environ.get("BENCH_STREAM_SECONDS", "60"))
    count = int(os.environ.get("BENCH_STREAM_PRELOAD", "5000"))

    print("streaming latency")
    lat = latency(rate, seconds)
    print("streaming throughput")
    tput = throughput(count)

    e50, e95 = lat["e2e"]
    k50, k95 = lat["kinesis"]
    print()
    print(f"latency, PUT -> readable ({lat['records']} records, {lat['missing']} not seen):")
    print(f"  {'':26} {'p50 s':>7} {'p95 s':>7}")
    print(f"  {'end to end (Delta)':26} {e50:>7.2f} {e95:>7.2f}")
    print(f"  {'Kinesis alone (GetRecords)':26} {k50:>7.2f} {k95:>7.2f}")
    print(f"  {'Kinesis share':26} {k50 / e50:>7.0%} {k95 / e95:>7.0%}")
    print(f"  trigger interval: {TRIGGER_INTERVAL}")
    print()
    for r in tput:
        rps = r["records"] / r["wall"]
        print(
            f"throughput, {r['name']} ({r['records']:,} of {r['expected']:,} new records, "
            "3 queries):"
        )
        print(f"  streaming job            {rps:>10,.0f} records/s  ({r['wall']:.1f} s)")
        print(
            f"  GetRecords alone         {r['raw_rate']:>10,.0f} records/s  (baseline, "
            f"{r['raw_records']:,} records)"
        )
        print(f"  job / GetRecords         {rps / r['raw_rate']:>10.2f}x")
        print(f"  share of batch time spent reading Kinesis: {r['kinesis_share']:.0%}")
        print(f"  PutRecords (preload)     {r['put_rate']:>10,.0f} records/s")
    print("(cold: just after the job's Spark starts; warm: the same job, as many more records)")


if __name__ == "__main__":
    main()
