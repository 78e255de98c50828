"""The batch path end to end: source -> emulator -> API Gateway -> Kafka -> S3 sink -> the daily
DAG in Airflow (Spark) -> gold tables equal to the independent implementation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinpipe import tables
from pinpipe.schema import SOURCE_TABLES, to_wire
from pinpipe.source import db
from pinpipe.spark import lake
from tests import reference
from tests.conftest import Sandbox
from tests.e2e.pipelines import Pipeline, new_pipeline, remove_connector, wait_until_landed
from tests.sample import sample_available, sample_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def pipeline(sandbox: Sandbox) -> Iterator[Pipeline]:
    p = new_pipeline(sandbox)
    yield p
    remove_connector(p)


def expected_gold(source_url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = db.connect(source_url)
    with engine.connect() as conn:
        records = {t.short: [to_wire(r) for r in db.read_rows(conn, t)] for t in SOURCE_TABLES}
    silver = {t: reference.silver(rows, t) for t, rows in records.items()}
    return reference.gold(silver["pin"], silver["geo"], silver["user"])


def test_the_daily_dag_computes_the_gold_tables_from_the_landed_posts(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    if sample_available():
        pipeline.ok("source", "load", "--from", str(sample_dir()), "--db", source)
    else:
        pipeline.ok("source", "generate", "--rows", "1500", "--seed", "12", "--db", source)
    pipeline.ok("emulate", "batch", "--all", "--batch-size", "100", "--db", source)
    wait_until_landed(pipeline)

    # Triggered through Airflow's API, running the sandbox's own uid by default: pass ours.
    out = pipeline.ok("batch", "trigger", "--uid", pipeline.settings.uid, timeout=1500)
    assert "pinpipe_batch succeeded" in out

    want = expected_gold(source)
    for name in lake.GOLD:
        got = sorted(tuple(row.values()) for row in tables.rows(pipeline.settings, name))
        assert got == want[name], name
    silver_rows = {t: tables.read(pipeline.settings, t).num_rows for t in lake.SILVER}
    expected_rows = db.count_rows(db.connect(source), SOURCE_TABLES[0])
    assert silver_rows == {"pin": expected_rows, "geo": expected_rows, "user": expected_rows}


def test_a_second_run_over_the_same_data_gives_the_same_tables(pipeline: Pipeline) -> None:
    before = {name: sorted(map(str, tables.rows(pipeline.settings, name))) for name in lake.GOLD}
    pipeline.ok("batch", "trigger", "--uid", pipeline.settings.uid, timeout=1500)
    after = {name: sorted(map(str, tables.rows(pipeline.settings, name))) for name in lake.GOLD}
    assert after == before
