"""The emulator through the running sandbox: API Gateway -> REST proxy -> Kafka, and -> Kinesis."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pinpipe.aws_access import aws_client
from pinpipe.config import PROJECT_ROOT
from pinpipe.landing import topic_ends
from tests.sample import SAMPLE_ROWS, read_sample, sample_available, sample_dir
from tests.sandbox import PINPIPE, Sandbox
from tests.stores import stream_records, topic_values

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def read_from(sandbox: Sandbox, table: str, start: int, end: int) -> list[dict[str, object]]:
    """The rows sent to a table's topic from offset ``start`` up to ``end``."""
    s = sandbox.settings
    return [
        json.loads(v)
        for v in topic_values(s.endpoints.kafka_bootstrap, s.topics[table], start, end)
    ]


def stream_record_count(sandbox: Sandbox, stream: str) -> int:
    kinesis = aws_client(sandbox.settings, "kinesis")
    return sum(1 for _ in stream_records(kinesis, stream))


def source_from(sandbox: Sandbox, tmp_path: Path, *args: str) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    sandbox.ok("source", *args, "--db", url)
    return url


@pytest.mark.skipif(not sample_available(), reason="the real sample is not next to the project")
def test_emulate_batch_all_puts_every_sample_row_once_in_each_topic(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = source_from(sandbox, tmp_path, "load", "--from", str(sample_dir()))
    before = topic_ends(sandbox.settings)
    done = sandbox.cli("emulate", "batch", "--all", "--batch-size", "50", "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr
    after = topic_ends(sandbox.settings)
    for short, table, key in (
        ("pin", "pinterest_data", "index"),
        ("geo", "geolocation_data", "ind"),
        ("user", "user_data", "ind"),
    ):
        assert after[short] - before[short] == SAMPLE_ROWS, short
        landed = read_from(sandbox, short, before[short], after[short])
        expected = sorted(read_sample(table), key=lambda r: int(r[key]))
        assert landed == expected, short


def test_emulate_stream_count_puts_exactly_that_many_records_in_each_stream(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = source_from(sandbox, tmp_path, "generate", "--rows", "300", "--seed", "4")
    s = sandbox.settings
    before = {t: stream_record_count(sandbox, name) for t, name in s.streams.items()}
    done = sandbox.cli("emulate", "stream", "--count", "50", "--seed", "9", "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr
    after = {t: stream_record_count(sandbox, name) for t, name in s.streams.items()}
    assert {t: after[t] - before[t] for t in after} == {"pin": 50, "geo": 50, "user": 50}


def test_an_interrupted_run_resumed_gives_no_duplicate_and_no_gap(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    rows = 120
    db = source_from(sandbox, tmp_path, "generate", "--rows", str(rows), "--seed", "8")
    before = topic_ends(sandbox.settings)
    first = subprocess.Popen(
        [*PINPIPE, "emulate", "batch", "--all", "--rate", "20", "--db", db],
        env=sandbox.env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while topic_ends(sandbox.settings)["pin"] - before["pin"] < 5 and time.monotonic() < deadline:
        time.sleep(0.5)
    first.send_signal(signal.SIGINT)
    output, _ = first.communicate(timeout=60)
    assert first.returncode == 0, output
    assert "interrupted" in output
    middle = topic_ends(sandbox.settings)
    assert 0 < middle["pin"] - before["pin"] < rows

    done = sandbox.cli("emulate", "batch", "--all", "--resume", "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr
    after = topic_ends(sandbox.settings)
    for short, key in (("pin", "index"), ("geo", "ind"), ("user", "ind")):
        landed = read_from(sandbox, short, before[short], after[short])
        assert [r[key] for r in landed] == list(range(rows)), short
