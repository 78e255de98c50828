"""Incremental batch: a run reads only the objects landed since the last one and merges them into
silver (the later delivery of a key wins); the tables then equal a full rebuild's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pinpipe.config import Settings, load_settings
from pinpipe.contract import landed_object_name
from pinpipe.spark import lake
from pinpipe.spark.batch import job
from tests.noisy import noisy_records

pytestmark = pytest.mark.unit


class Lake:
    """A lake in a local folder, landed into as the S3 sink does (one object per batch)."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        # The job loads its settings itself, as it does in Airflow and on Databricks.
        monkeypatch.setenv("PINPIPE_LAKE_URI", str(root / "lake"))
        monkeypatch.setenv("PINPIPE_STATE_DIR", str(root / "state"))
        self.settings: Settings = load_settings(uid="inc")
        self.next_offset = {t: 0 for t in lake.SILVER}

    def land(self, table: str, records: list[Any], partition: int = 0) -> None:
        topic = self.settings.topics[table]
        folder = Path(self.settings.lake_uri) / "topics" / topic / f"partition={partition}"
        folder.mkdir(parents=True, exist_ok=True)
        name = landed_object_name(topic, partition, self.next_offset[table])
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        (folder / name).write_text("\n".join(lines) + "\n")
        self.next_offset[table] += len(records)

    def tables(self, spark: Any) -> dict[str, list[tuple[Any, ...]]]:
        out = {}
        for name in (*lake.SILVER, lake.QUARANTINE):
            rows = job.read_table(spark, self.settings, name).collect()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
        return out


def run(s: Settings, *extra: str) -> dict[str, int]:
    """Clean every table (gold is computed from silver alone); objects read per table."""
    summary = job.main(["clean", "--uid", s.uid, *extra])
    return {t: c["objects_read"] for t, c in summary["clean"].items()}


def test_a_run_reads_only_new_objects_and_its_tables_equal_a_full_rebuild(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = noisy_records(1200, seed=5)
    lake_ = Lake(tmp_path, monkeypatch)
    s = lake_.settings
    fifths = {
        t: [rs[i * len(rs) // 5 : (i + 1) * len(rs) // 5] for i in range(5)]
        for t, rs in records.items()
    }
    for table in lake.SILVER:
        for part in (0, 1, 2, 4):
            lake_.land(table, fifths[table][part])

    assert run(s) == dict.fromkeys(lake.SILVER, 4)

    # New deliveries: fresh rows, and a changed delivery of a key already in silver.
    changed_user = next(r for r in records["user"] if isinstance(r, dict))
    for table in lake.SILVER:
        lake_.land(table, fifths[table][3])
    lake_.land("user", [{**changed_user, "first_name": "Later"}])

    assert run(s) == {"pin": 1, "geo": 1, "user": 2}
    incremental = lake_.tables(spark)
    names = {r[0]: r[1] for r in incremental["user"]}
    assert names[changed_user["ind"]].startswith("Later "), "the later delivery did not win"

    assert run(s, "--full") == {"pin": 5, "geo": 5, "user": 6}
    full = lake_.tables(spark)
    assert incremental == full
    assert all(full.values()), "the data exercises nothing"

    assert run(s) == dict.fromkeys(lake.SILVER, 0), "a run with nothing new read something"
    assert lake_.tables(spark) == full
