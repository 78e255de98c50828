"""The streaming job's micro-batch write: a later delivery of a key replaces its row, as in
batch, and a micro-batch replayed after a crash changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pinpipe.config import load_settings
from pinpipe.spark import lake
from pinpipe.spark.streaming import job
from tests.spark.frames import raw_frame

pytestmark = pytest.mark.unit


def geo(ind: int, country: str) -> dict[str, Any]:
    return {
        "ind": ind,
        "timestamp": "2020-01-01 00:00:00",
        "latitude": 1,
        "longitude": 2,
        "country": country,
    }


def test_the_later_micro_batch_wins_and_a_replay_changes_nothing(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINPIPE_LAKE_URI", str(tmp_path / "lake"))
    s = load_settings(uid="st")
    path = lake.table_path(s, lake.streaming_table(s, "geo"))

    def table() -> dict[int, str]:
        return {r.ind: r.country for r in spark.read.format("delta").load(path).collect()}

    job.ensure_tables(spark, s, ["geo"])
    job.write_batch(s, "geo", raw_frame(spark, [geo(1, "A"), geo(2, "B")]), 0)
    job.write_batch(s, "geo", raw_frame(spark, [geo(1, "C"), geo(2, "B"), geo(3, "D")]), 1)
    assert table() == {1: "C", 2: "B", 3: "D"}
    version = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").first().version

    job.write_batch(s, "geo", raw_frame(spark, [geo(1, "C"), geo(2, "B"), geo(3, "D")]), 1)

    assert table() == {1: "C", 2: "B", 3: "D"}
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").where(f"version > {version}")
    rewritten = [r.operationMetrics for r in history.collect()]
    assert all(int(m.get("numTargetRowsUpdated", 0)) == 0 for m in rewritten), rewritten
