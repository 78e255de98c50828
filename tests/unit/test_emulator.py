"""The emulator against a local HTTP server that records requests and fails on purpose."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pinpipe.config import load_settings
from pinpipe.contract import GEO, PIN
from pinpipe.services.emulator import RunOptions, payloads
from pinpipe.services.emulator.checkpoint import ResumeError
from pinpipe.services.emulator.emulator import Emulator
from pinpipe.services.emulator.sender import RetryPolicy, Sender
from pinpipe.source import db, populate

pytestmark = pytest.mark.unit

FAST = RetryPolicy(attempts=4, base_delay_s=0.001, max_delay_s=0.01)


Answer = tuple[int, dict[str, Any]]


class FakeApi:
    """Records each request; answers with scripted statuses or (status, body) pairs (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.ok: list[tuple[str, str, dict[str, Any]]] = []  # requests fully accepted
        self.script: list[int | Answer] = []
        self.fail_always: int | None = None
        self.lock = threading.Lock()

    def respond(self, method: str, path: str, body: dict[str, Any]) -> Answer:
        with self.lock:
            self.requests.append((method, path, body))
            step = self.script.pop(0) if self.script else (self.fail_always or 200)
            status, answer = step if isinstance(step, tuple) else (step, _default_answer(step))
            if status == 200 and answer == {"offsets": []}:
                self.ok.append((method, path, body))
        return status, answer

    def delivered(self, path_part: str) -> list[dict[str, Any]]:
        """Rows of the requests that got a 200, for paths containing ``path_part``."""
        return [r for _, p, b in self.ok if path_part in p for r in _rows(b)]


def _default_answer(status: int) -> dict[str, Any]:
    return {"offsets": []} if status == 200 else {"message": "nope"}


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    if "records" in body:
        return [r["value"] for r in body["records"]]
    if "Records" in body:
        return [r["Data"] for r in body["Records"]]
    return [body["Data"]]


@pytest.fixture
def api() -> Iterator[tuple[FakeApi, str]]:
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, answer = fake.respond(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}/dev"
    server.shutdown()


@pytest.fixture
def source(tmp_path: Path):
    engine = db.connect(f"sqlite:///{tmp_path / 'src.db'}")
    populate.prepare_tables(engine, replace=False)
    populate.generate(engine, rows=30, seed=5)
    return engine


def run(tmp_path: Path, engine: Any, url: str, **kw: Any) -> tuple[Any, Sender]:
    sender = Sender(dead_letter_file=tmp_path / "dead.jsonl", policy=FAST)
    options = RunOptions(api_url=url, **{"path": "batch", **kw})
    emulator = Emulator(load_settings(), engine, options, tmp_path / "cp.json", sender)
    return emulator.run(), sender


def test_batch_payloads_use_the_v2_format_with_second_precision_datetimes() -> None:
    from datetime import datetime

    row = {"ind": 1, "timestamp": datetime(2020, 1, 2, 3, 4, 5)}
    body = payloads.kafka_records(GEO, [row])
    assert body == {
        "records": [{"key": 1, "value": {"ind": 1, "timestamp": "2020-01-02 03:04:05"}}]
    }


def test_stream_payloads_carry_stream_data_and_partition_key() -> None:
    assert payloads.kinesis_record("s", GEO, {"ind": 9, "country": "Chad"}) == {
        "StreamName": "s",
        "Data": {"ind": 9, "country": "Chad"},
        "PartitionKey": "9",
    }
    many = payloads.kinesis_records("s", PIN, [{"index": 1}, {"index": 2}])
    assert many["Records"] == [{"Data": {"index": 1}, "PartitionKey": "1"},
                               {"Data": {"index": 2}, "PartitionKey": "2"}]  # fmt: skip


def test_all_sends_every_row_once_in_index_order_to_each_topic(tmp_path: Path, api, source) -> None:
    fake, url = api
    s = load_settings()
    summary, sender = run(tmp_path, source, url, all_rows=True, batch_size=7)
    assert summary.events == 30 and sender.counters.dead_records == 0
    assert sender.counters.delivered_records == 90
    assert [r["index"] for r in fake.delivered(f"/topics/{s.topics['pin']}")] == list(range(30))
    assert [r["ind"] for r in fake.delivered(f"/topics/{s.topics['geo']}")] == list(range(30))
    assert [r["ind"] for r in fake.delivered(f"/topics/{s.topics['user']}")] == list(range(30))
    assert all(m == "POST" for m, _, _ in fake.requests)


def test_stream_path_puts_single_records_or_batches(tmp_path: Path, api, source) -> None:
    fake, url = api
    s = load_settings()
    run(tmp_path, source, url, path="stream", count=2, seed=1)
    assert {p for _, p, _ in fake.requests} == {
        f"/dev/streams/{s.streams[t]}/record" for t in ("pin", "geo", "user")
    }
    fake.requests.clear()
    run(tmp_path, source, url, path="stream", count=4, seed=1, batch_size=4)
    assert all(p.endswith("/records") and m == "PUT" for m, p, _ in fake.requests)


def test_seeded_draws_are_random_with_replacement_and_repeatable(
    tmp_path: Path, api, source
) -> None:
    fake, url = api
    run(tmp_path, source, url, count=25, seed=42)
    first = [r["index"] for r in fake.delivered(".pin")]
    fake.ok.clear()
    run(tmp_path, source, url, count=25, seed=42)
    assert [r["index"] for r in fake.delivered(".pin")] == first
    assert len(set(first)) < 25 and first != sorted(first)


def test_5xx_and_429_are_retried_until_they_succeed(tmp_path: Path, api, source) -> None:
    fake, url = api
    fake.script = [503, 429, 500]
    _, sender = run(tmp_path, source, url, count=1, seed=1)
    assert sender.counters.retries == 3 and sender.counters.dead_records == 0
    assert sender.counters.requests == 6 and sender.counters.delivered_records == 3
    assert len(fake.ok) == 3  # pin, geo, user each delivered once
    assert not (tmp_path / "dead.jsonl").exists()


def test_requests_that_keep_failing_go_to_the_dead_letter_file(tmp_path: Path, api, source) -> None:
    fake, url = api
    fake.fail_always = 503
    _, sender = run(tmp_path, source, url, count=2, seed=1, batch_size=2)
    assert sender.counters.dead_letters == 3 and sender.counters.dead_records == 6
    assert len(fake.requests) == 3 * FAST.attempts
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert len(dead) == 3 and all("HTTP 503" in d["error"] for d in dead)
    assert all(d["status"] == 503 and "nope" in d["response"] for d in dead)
    assert sender.counters.delivered_records == 0
    assert all(len(d["payload"]["records"]) == 2 for d in dead)  # the payload is kept whole


def test_a_client_error_is_not_retried(tmp_path: Path, api, source) -> None:
    fake, url = api
    refused = {"error": "ResourceNotFoundException", "message": "Stream nope not found"}
    fake.script = [(404, refused)]
    _, sender = run(tmp_path, source, url, path="stream", count=1, seed=1)
    assert len(fake.requests) == 3 and sender.counters.retries == 0
    assert sender.counters.dead_records == 1 and sender.counters.delivered_records == 2
    (dead,) = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert dead["status"] == 404 and json.loads(dead["response"]) == refused
    assert dead["payload"]["PartitionKey"] == fake.requests[0][2]["PartitionKey"]


@pytest.mark.parametrize(
    ("error", "requests", "dead_records"),
    [
        ("InvalidArgumentException", 1, 1),  # refused for good: no retry
        ("ProvisionedThroughputExceededException", 2, 0),  # throttled: retried, then delivered
    ],
)
def test_a_200_that_carries_an_error_is_never_counted_as_delivered(
    tmp_path: Path, api, error: str, requests: int, dead_records: int
) -> None:
    fake, url = api
    fake.script = [(200, {"__type": error, "message": "Partition key must not be empty"})]
    sender = Sender(dead_letter_file=tmp_path / "dead.jsonl", policy=FAST)
    body = {"StreamName": "s", "Data": {"ind": 1}, "PartitionKey": "1"}
    delivered = sender.send("PUT", f"{url}/streams/s/record", body, "application/json", 1)
    c = sender.counters
    assert delivered == (dead_records == 0) and len(fake.requests) == requests
    assert (c.requests, c.retries) == (requests, requests - 1)
    assert (c.delivered_records, c.dead_records, c.dead_letters) == (
        1 - dead_records,
        dead_records,
        dead_records,
    )
    if dead_records:
        (dead,) = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
        assert dead["status"] == 200 and error in dead["response"] and dead["payload"] == body


def _put_records_answer(*codes: str | None) -> Answer:
    """A Kinesis PutRecords answer: per-record ``ErrorCode`` (None: stored)."""
    results = [
        {"ErrorCode": c, "ErrorMessage": f"{c} happened"}
        if c
        else {"SequenceNumber": "4968", "ShardId": "shardId-000000000000"}
        for c in codes
    ]
    return 200, {"FailedRecordCount": sum(1 for c in codes if c), "Records": results}


def _send_records(tmp_path: Path, url: str, n: int) -> tuple[Sender, bool, list[dict[str, Any]]]:
    sender = Sender(dead_letter_file=tmp_path / "dead.jsonl", policy=FAST)
    records = [{"Data": {"index": i}, "PartitionKey": str(i)} for i in range(n)]
    body = {"StreamName": "s", "Records": records}
    ok = sender.send("PUT", f"{url}/streams/s/records", body, "application/json", n)
    return sender, ok, records


def test_put_records_retries_only_throttled_records_and_dead_letters_refused_ones(
    tmp_path: Path, api
) -> None:
    fake, url = api
    throttled, internal = "ProvisionedThroughputExceededException", "InternalFailure"
    fake.script = [
        _put_records_answer(None, throttled, "KMSAccessDeniedException", internal),
        _put_records_answer(None, None),
    ]
    sender, ok, records = _send_records(tmp_path, url, 4)
    assert not ok  # one record is lost
    assert [b["Records"] for _, _, b in fake.requests] == [records, [records[1], records[3]]]
    (dead,) = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert dead["status"] == 200 and dead["payload"]["Records"] == [records[2]]
    assert [r["ErrorCode"] for r in dead["response"]] == ["KMSAccessDeniedException"]
    c = sender.counters
    assert (c.requests, c.retries, c.dead_letters, c.dead_records) == (2, 1, 1, 1)
    assert c.delivered_records == 3


def test_put_records_dead_letters_records_still_throttled_after_the_last_attempt(
    tmp_path: Path, api
) -> None:
    fake, url = api
    throttled = "ProvisionedThroughputExceededException"
    fake.script = [_put_records_answer(throttled, None, throttled)] + [
        _put_records_answer(throttled, throttled)
    ] * (FAST.attempts - 1)
    sender, ok, records = _send_records(tmp_path, url, 3)
    assert not ok and len(fake.requests) == FAST.attempts
    (dead,) = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert dead["payload"]["Records"] == [records[0], records[2]]
    assert [r["ErrorCode"] for r in dead["response"]] == [throttled, throttled]
    c = sender.counters
    assert (c.delivered_records, c.dead_records, c.dead_letters) == (1, 2, 1)
    assert c.retries == FAST.attempts - 1


def test_kafka_records_refused_in_a_200_are_retried_alone(tmp_path: Path, api) -> None:
    fake, url = api
    offsets = [
        {"partition": 0, "offset": 7, "error_code": None, "error": None},
        {"partition": None, "offset": None, "error_code": 50002, "error": "timed out"},
    ]
    fake.script = [(200, {"offsets": offsets})]
    sender = Sender(dead_letter_file=tmp_path / "dead.jsonl", policy=FAST)
    body = {"records": [{"value": {"ind": 1}}, {"value": {"ind": 2}}]}
    assert sender.send("POST", f"{url}/topics/t", body, "application/json", 2)
    assert fake.requests[1][2] == {"records": [{"value": {"ind": 2}}]}
    assert sender.counters.delivered_records == 2 and sender.counters.dead_records == 0


def test_unreachable_api_ends_in_the_dead_letter_file(tmp_path: Path, source) -> None:
    _, sender = run(tmp_path, source, "http://127.0.0.1:9/dev", count=1, seed=1)
    assert sender.counters.dead_records == 3 and sender.counters.retries == 3 * (FAST.attempts - 1)
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert all(d["status"] is None and "ConnectionError" in d["error"] for d in dead)


def test_resume_continues_exactly_where_the_run_stopped(tmp_path: Path, api, source) -> None:
    fake, url = api
    run(tmp_path, source, url, all_rows=True, count=11, batch_size=3)
    run(tmp_path, source, url, all_rows=True, resume=True, count=5)
    run(tmp_path, source, url, all_rows=True, resume=True)
    for topic in (".pin", ".geo", ".user"):
        keys = [r.get("index", r.get("ind")) for r in fake.delivered(topic)]
        assert keys == list(range(30)), topic


def test_resume_after_a_crash_between_tables_sends_only_what_is_missing(
    tmp_path: Path, api, source
) -> None:
    fake, url = api
    run(tmp_path, source, url, all_rows=True, count=4)
    checkpoint = json.loads((tmp_path / "cp.json").read_text())
    checkpoint["delivered"]["user"] = 3  # the user row of event 4 was never sent
    (tmp_path / "cp.json").write_text(json.dumps(checkpoint))
    fake.ok.clear()
    run(tmp_path, source, url, all_rows=True, resume=True, count=2)
    # The half-sent event is completed first (and counts as one of the two).
    assert [r["index"] for r in fake.delivered(".pin")] == [4]
    assert [r["ind"] for r in fake.delivered(".geo")] == [4]
    assert [r["ind"] for r in fake.delivered(".user")] == [3, 4]


def test_resume_refuses_a_different_sequence(tmp_path: Path, api, source) -> None:
    _, url = api
    run(tmp_path, source, url, count=3, seed=1)
    with pytest.raises(ResumeError, match="different sequence"):
        run(tmp_path, source, url, count=3, seed=2, resume=True)


def test_stop_finishes_the_request_in_flight_and_stops(tmp_path: Path, api, source) -> None:
    fake, url = api
    sender = Sender(dead_letter_file=tmp_path / "dead.jsonl", policy=FAST)
    options = RunOptions(path="batch", api_url=url, all_rows=True, rate=20)
    emulator = Emulator(load_settings(), source, options, tmp_path / "cp.json", sender)
    threading.Timer(0.3, sender.stop.set).start()
    summary = emulator.run()
    assert summary.interrupted and 0 < summary.events < 30
    for topic in (".pin", ".geo", ".user"):
        assert len(fake.delivered(topic)) == summary.events
