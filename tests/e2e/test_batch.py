"""The batch path end to end: source -> emulator -> API Gateway -> Kafka -> S3 sink -> the daily
DAG in Airflow (Spark) -> gold tables equal to the independent implementation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pinpipe import tables
from pinpipe.airflow_client import AirflowClient
from pinpipe.aws_access import aws_client
from pinpipe.batch import DAG_ID
from pinpipe.batch_summary import summary_key
from pinpipe.contract import SOURCE_TABLES
from pinpipe.source import db
from pinpipe.spark import lake
from tests.e2e.expected import expected_gold
from tests.e2e.pipelines import Pipeline, wait_until_landed
from tests.sample import sample_available, sample_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


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
    before_rows = {t: tables.read(pipeline.settings, t).num_rows for t in lake.SILVER}
    pipeline.ok("batch", "trigger", "--uid", pipeline.settings.uid, timeout=1500)
    after = {name: sorted(map(str, tables.rows(pipeline.settings, name))) for name in lake.GOLD}
    assert after == before
    # The sandbox started no scheduled run of its own, before or alongside the asked-for ones:
    # the first trigger took the due scheduled run's place.
    runs = AirflowClient.login(pipeline.settings).runs(DAG_ID)
    run_types = [run["run_type"] for run in runs]
    assert run_types and set(run_types) == {"manual"}, run_types
    # Each of our runs' summaries is saved under the time it was due, as the DAG passed it.
    s3 = aws_client(pipeline.settings, "s3")
    ours = [run for run in runs if (run["conf"] or {}).get("uid") == pipeline.settings.uid]
    assert len(ours) == 2, ours
    for run in ours:
        key = summary_key(run["run_after"])
        summary = json.loads(s3.get_object(Bucket=pipeline.settings.bucket, Key=key)["Body"].read())
        assert summary["run_id"] == run["dag_run_id"]
        assert summary["rows"]["pin"] == before_rows["pin"]
