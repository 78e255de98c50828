"""The streaming path end to end: emulator -> API Gateway -> Kinesis -> the Spark streaming job
-> Delta tables holding exactly the cleaned source rows. (A killed job: tests/faults/.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pinpipe import tables
from pinpipe.schema import SOURCE_TABLES, to_wire
from pinpipe.source import db
from pinpipe.spark import lake
from tests import reference
from tests.conftest import Sandbox
from tests.e2e.pipelines import Pipeline, new_pipeline, remove_connector

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def pipeline(sandbox: Sandbox) -> Iterator[Pipeline]:
    p = new_pipeline(sandbox)
    yield p
    remove_connector(p)


def expected_silver(source_url: str) -> dict[str, list[tuple[Any, ...]]]:
    with db.connect(source_url).connect() as conn:
        records = {t.short: [to_wire(r) for r in db.read_rows(conn, t)] for t in SOURCE_TABLES}
    return {
        t: sorted(tuple(r.values()) for r in reference.silver(rows, t))
        for t, rows in records.items()
    }


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def streaming_rows(pipeline: Pipeline) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for t in lake.SILVER:
        rows = tables.rows(pipeline.settings, lake.streaming_table(pipeline.settings, t))
        out[t] = sorted(tuple(_naive_utc(v) for v in r.values()) for r in rows)
    return out


def test_streamed_posts_land_in_the_delta_tables_exactly_once(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    pipeline.ok("source", "generate", "--rows", "150", "--seed", "31", "--db", source)
    pipeline.ok("emulate", "stream", "--all", "--batch-size", "25", "--db", source)
    out = pipeline.ok("stream", "run", "--available-now", timeout=900)
    assert "processed" in out
    assert streaming_rows(pipeline) == expected_silver(source)
