"""The streaming job's micro-batch write: a later delivery of a key replaces its row, as in
batch, and a micro-batch replayed after a crash changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pinpipe import lake_files
from pinpipe.config import load_settings
from pinpipe.spark import lake
from pinpipe.spark.streaming import job
from pinpipe.spark.streaming.keyed_table import KeyedTable
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


def test_the_later_micro_batch_wins_new_keys_are_appended_and_a_replay_changes_nothing(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINPIPE_LAKE_URI", str(tmp_path / "lake"))
    s = load_settings(uid="st")
    path = lake.table_path(s, lake.streaming_table(s, "geo"))

    def table() -> dict[int, str]:
        rows = spark.read.format("delta").load(path).collect()
        assert len(rows) == len({r.ind for r in rows}), "a key has two rows"
        return {r.ind: r.country for r in rows}

    def write(batch_id: int, rows: list[dict[str, Any]], target: KeyedTable) -> None:
        job.write_batch("geo", target, quarantine, raw_frame(spark, rows), batch_id)

    job.ensure_tables(spark, s, ["geo"])
    lake_files.write_text(s, f"{lake.checkpoint_path(s, 'geo')}/metadata", '{"id":"c"}')
    quarantine = job.QuarantineLog(s, "geo")
    target = KeyedTable(path)
    write(0, [geo(1, "A"), geo(2, "B")], target)
    write(1, [geo(4, "E")], target)
    write(2, [geo(1, "C"), geo(2, "B"), geo(3, "D")], target)
    assert table() == {1: "C", 2: "B", 3: "D", 4: "E"}
    assert (target.appends, target.merges) == (2, 1)  # new keys only: appended
    version = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").first().version

    restarted = KeyedTable(path)  # the query started again after a crash
    write(2, [geo(1, "C"), geo(2, "B"), geo(3, "D")], restarted)

    assert table() == {1: "C", 2: "B", 3: "D", 4: "E"}
    assert restarted.merges == 1
    properties = spark.sql(f"SHOW TBLPROPERTIES delta.`{path}`").collect()
    assert {r.key: r.value for r in properties}.items() >= job.TABLE_PROPERTIES.items()
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").where(f"version > {version}")
    rewritten = [r.operationMetrics for r in history.collect()]
    assert all(int(m.get("numTargetRowsUpdated", 0)) == 0 for m in rewritten), rewritten


def test_quarantined_records_are_kept_when_a_query_starts_over_from_a_new_checkpoint(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting a query's checkpoint (as the job advises when a stream was created again) starts
    its batch ids at 0 again; the quarantine's once-per-batch append must not skip them."""
    monkeypatch.setenv("PINPIPE_LAKE_URI", str(tmp_path / "lake"))
    s = load_settings(uid="st")
    job.ensure_tables(spark, s, ["geo"])
    quarantine = lake.table_path(s, lake.STREAMING_QUARANTINE)

    def run_query(checkpoint_id: str, raw: str) -> None:
        lake_files.write_text(
            s, f"{lake.checkpoint_path(s, 'geo')}/metadata", f'{{"id":"{checkpoint_id}"}}'
        )
        silver = KeyedTable(lake.table_path(s, lake.streaming_table(s, "geo")))
        rejected = job.QuarantineLog(s, "geo")
        for _ in range(2):  # the batch, then the same batch replayed after a crash
            job.write_batch("geo", silver, rejected, raw_frame(spark, [raw]), 0)

    run_query("first-checkpoint", "not json 1")
    run_query("second-checkpoint", "not json 2")

    kept = sorted(r.raw for r in spark.read.format("delta").load(quarantine).collect())
    assert kept == ["not json 1", "not json 2"]
