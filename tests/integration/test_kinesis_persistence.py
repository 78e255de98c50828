"""kinesis-mock, as the sandbox runs it (saving every second while anything changes, each save
atomic), keeps every record acknowledged before its last complete save when it gets a `kill -9`,
however often that happens: everything but the last second or two. When LocalStack, which reads
its output, is killed, it goes on saving until `up` stops it; and a stop (SIGTERM) waits for one
more save, so it keeps everything. While nothing changes its streams (reads do not), it does not
save at all."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from pinpipe.config import load_settings
from pinpipe.sandbox.services import localstack
from tests.stores import stream_records

pytestmark = pytest.mark.integration

LOSS_WINDOW_S = localstack.KINESIS_LOSS_WINDOW_S
STREAM = "persisted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class KinesisMock:
    def __init__(self, data: Path) -> None:
        s = load_settings()
        self.package = (
            s.build_dir
            / "localstack/var/lib/localstack/lib/kinesis-local"
            / localstack.KINESIS_MOCK_VERSION
            / "node_modules/kinesis-local"
        )
        self.data = data
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, output: int = subprocess.DEVNULL) -> None:
        env = {
            **os.environ,
            # The same engine settings and preloads LocalStack is started with.
            "NODE_OPTIONS": localstack.SERVICE.launch(load_settings()).env["NODE_OPTIONS"],
            "KINESIS_MOCK_PLAIN_PORT": str(self.port),
            "KINESIS_MOCK_TLS_PORT": str(_free_port()),
            "KINESIS_MOCK_CERT_PATH": str(self.package / "server.json"),
            "SHOULD_PERSIST_DATA": "true",
            "PERSIST_PATH": str(self.data),
            "PERSIST_INTERVAL": localstack.KINESIS_PERSIST_INTERVAL,
            "CREATE_STREAM_DURATION": "0ms",
            "LOG_LEVEL": "INFO",  # LocalStack's default
        }
        self.proc = subprocess.Popen(
            ["node", str(self.package / "main.js")],
            env=env,
            stdout=output,
            stderr=output,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("kinesis-mock did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def client(self, config: Config | None = None):
        return boto3.client(
            "kinesis",
            config=config,
            endpoint_url=f"http://127.0.0.1:{self.port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def records(self) -> set[str]:
        return {r["Data"].decode() for _, r in stream_records(self.client(), STREAM)}


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[KinesisMock]:
    km = KinesisMock(tmp_path)
    km.start()
    yield km
    if km.proc and km.proc.poll() is None:
        km.kill()


def test_records_acknowledged_before_the_save_interval_survive_repeated_kills(
    mock: KinesisMock,
) -> None:
    mock.client().create_stream(StreamName=STREAM, ShardCount=1)
    time.sleep(0.5)
    acked: dict[str, float] = {}
    rng = random.Random(7)
    for round_ in range(4):
        stop = threading.Event()

        def put(round_: int = round_, stop: threading.Event = stop) -> None:
            client = mock.client()
            i = 0
            while not stop.is_set():
                batch = [f"{round_}-{i + j}-{'x' * 200}" for j in range(50)]
                try:
                    client.put_records(
                        StreamName=STREAM,
                        Records=[{"Data": d.encode(), "PartitionKey": d[:8]} for d in batch],
                    )
                except Exception:
                    return
                now = time.monotonic()
                acked.update(dict.fromkeys(batch, now))
                i += 50

        writer = threading.Thread(target=put)
        writer.start()
        time.sleep(rng.uniform(1.5, 3.5))  # the kill lands anywhere in a save cycle
        mock.kill()
        killed_at = time.monotonic()
        stop.set()
        writer.join(10)
        saves = list(mock.data.glob("*.json"))
        assert saves and all(json.loads(p.read_text()) for p in saves), "a save is unreadable"
        mock.start()
        kept = mock.records()
        lost = {d for d, at in acked.items() if d not in kept and at < killed_at - LOSS_WINDOW_S}
        assert not lost, f"round {round_}: {len(lost)} records acknowledged before the window"
        # What the last interval lost is gone for good; later rounds judge what was kept.
        for gone in set(acked) - kept:
            del acked[gone]


def test_it_outlives_the_reader_of_its_output_and_goes_on_saving(tmp_path: Path) -> None:
    mock = KinesisMock(tmp_path)
    mock.start(output=subprocess.PIPE)  # as LocalStack starts it
    assert mock.proc is not None and mock.proc.stdout and mock.proc.stderr
    try:
        client = mock.client()
        client.create_stream(StreamName=STREAM, ShardCount=1)
        time.sleep(0.5)
        sent = [f"record-{i}" for i in range(20)]
        mock.proc.stdout.close()  # LocalStack killed: nothing reads kinesis-mock's output
        mock.proc.stderr.close()
        client.put_records(
            StreamName=STREAM, Records=[{"Data": d.encode(), "PartitionKey": d} for d in sent]
        )
        # A call it logs a warning for. The first line that finds no reader costs kinesis-mock
        # the call's answer (the writer of the first failed line is never resumed), which does
        # not matter here: with LocalStack gone no call reaches it.
        quick = Config(read_timeout=3, retries={"max_attempts": 0})
        with pytest.raises((ClientError, ReadTimeoutError)):
            mock.client(quick).put_record(StreamName="absent", Data=b"x", PartitionKey="x")
        time.sleep(LOSS_WINDOW_S)
        assert mock.proc.poll() is None, "kinesis-mock died when its output had no reader"
        mock.kill()  # so that only the saves it went on making count
        mock.start()
        assert mock.records() == set(sent)
    finally:
        if mock.proc and mock.proc.poll() is None:
            mock.kill()


def _stream_of_records(client: Any) -> list[str]:
    """Create the stream and put 20 records in it; their data."""
    client.create_stream(StreamName=STREAM, ShardCount=1)
    time.sleep(0.5)
    sent = [f"record-{i}" for i in range(20)]
    client.put_records(
        StreamName=STREAM, Records=[{"Data": d.encode(), "PartitionKey": d} for d in sent]
    )
    return sent


def _save_identity(data: Path) -> list[tuple[str, int, int]]:
    """Which saves the data folder holds: each save replaces its file (a new inode)."""
    return sorted((p.name, p.stat().st_ino, p.stat().st_mtime_ns) for p in data.glob("*.json"))


def _quiet(data: Path, quiet_s: float, timeout_s: float = 60) -> list[tuple[str, int, int]]:
    """Wait until no save has happened for ``quiet_s``; the saves then held."""
    deadline = time.monotonic() + timeout_s
    held, since = _save_identity(data), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _save_identity(data)
        if now != held:
            held, since = now, time.monotonic()
        elif held and time.monotonic() - since >= quiet_s:
            return held
    raise AssertionError(f"kinesis-mock kept saving for {timeout_s:.0f}s with nothing changing")


def test_it_saves_only_after_a_change(mock: KinesisMock) -> None:
    client = mock.client()
    sent = _stream_of_records(client)
    settled = _quiet(mock.data, quiet_s=3)
    for _ in range(5):  # a consumer polling: list shards, get iterators, get records
        assert mock.records() == set(sent)
        client.describe_stream_summary(StreamName=STREAM)
        time.sleep(0.5)
    time.sleep(2)
    assert _save_identity(mock.data) == settled, "reads made it save"

    client.put_record(StreamName=STREAM, Data=b"later", PartitionKey="later")
    deadline = time.monotonic() + LOSS_WINDOW_S + 5
    while _save_identity(mock.data) == settled and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _save_identity(mock.data) != settled, "a change was not saved"
    time.sleep(LOSS_WINDOW_S)
    mock.kill()
    mock.start()
    assert mock.records() == {*sent, "later"}


def test_a_stop_keeps_everything_acknowledged(mock: KinesisMock) -> None:
    client = mock.client()
    sent = _stream_of_records(client)
    client.close()  # an open connection would hold the stop back
    assert mock.proc is not None
    mock.proc.terminate()  # at once: the records are younger than the last save
    mock.proc.wait(10)
    mock.start()
    assert mock.records() == set(sent)
