"""Incremental batch: a run reads only the objects landed since the last one and merges them into
silver (the later delivery of a key wins); the tables then equal a full rebuild's."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pinpipe.config import Settings, load_settings
from pinpipe.contract import landed_object_name
from pinpipe.spark import lake
from pinpipe.spark.batch import analytics, gold_counts, job
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

    def land(
        self, table: str, records: list[Any], partition: int = 0, at: datetime | None = None
    ) -> None:
        """Land ``records`` as one object, written now or at ``at``."""
        topic = self.settings.topics[table]
        folder = Path(self.settings.lake_uri) / "topics" / topic / f"partition={partition}"
        folder.mkdir(parents=True, exist_ok=True)
        name = landed_object_name(topic, partition, self.next_offset[table])
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        (folder / name).write_text("\n".join(lines) + "\n")
        if at is not None:
            os.utime(folder / name, (at.timestamp(), at.timestamp()))
        self.next_offset[table] += len(records)

    def tables(self, spark: Any) -> dict[str, list[tuple[Any, ...]]]:
        out = {}
        for name in (*lake.SILVER, lake.QUARANTINE):
            rows = job.read_table(spark, self.settings, name).collect()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
        return out


def in_parts(records: dict[str, list[Any]], n: int) -> dict[str, list[list[Any]]]:
    """Each table's records cut into ``n`` consecutive parts, to land one at a time."""
    return {
        t: [rs[i * len(rs) // n : (i + 1) * len(rs) // n] for i in range(n)]
        for t, rs in records.items()
    }


def clean(s: Settings, *extra: str) -> dict[str, dict[str, int]]:
    """Clean every table (gold is computed from silver alone); the summary per table."""
    summary: dict[str, dict[str, int]] = job.main(["clean", "--uid", s.uid, *extra])["clean"]
    return summary


def run(s: Settings, *extra: str) -> dict[str, int]:
    """Clean every table; objects read per table."""
    return {t: c["objects_read"] for t, c in clean(s, *extra).items()}


def written(tables: dict[str, list[tuple[Any, ...]]], table: str) -> dict[str, int]:
    """A table's silver rows and quarantined records, counted from the tables themselves."""
    quarantined = [r for r in tables[lake.QUARANTINE] if r[0] == table]
    return {"rows": len(tables[table]), "quarantined": len(quarantined)}


def test_a_run_reads_only_new_objects_and_its_tables_equal_a_full_rebuild(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = noisy_records(1200, seed=5)
    lake_ = Lake(tmp_path, monkeypatch)
    s = lake_.settings
    fifths = in_parts(records, 5)
    for table in lake.SILVER:
        for part in (0, 1, 2, 4):
            lake_.land(table, fifths[table][part])

    first = clean(s)
    assert {t: c["objects_read"] for t, c in first.items()} == dict.fromkeys(lake.SILVER, 4)
    # The summary's counts are the writes' own: they match the tables.
    after_first = lake_.tables(spark)
    for table, c in first.items():
        assert c["rows_updated"] == 0
        counted = {"rows": c["rows_inserted"], "quarantined": c["quarantined"]}
        assert counted == written(after_first, table)

    # New deliveries: fresh rows, and a changed delivery of a key already in silver.
    changed_user = next(r for r in records["user"] if isinstance(r, dict))
    for table in lake.SILVER:
        lake_.land(table, fifths[table][3])
    lake_.land("user", [{**changed_user, "first_name": "Later"}])

    second = clean(s)
    assert {t: c["objects_read"] for t, c in second.items()} == {"pin": 1, "geo": 1, "user": 2}
    incremental = lake_.tables(spark)
    for table, c in second.items():
        before, now = written(after_first, table), written(incremental, table)
        assert c["rows_inserted"] == now["rows"] - before["rows"]
        assert c["quarantined"] == now["quarantined"] - before["quarantined"]
    assert second["user"]["rows_updated"] >= 1, "the changed delivery was not counted"
    names = {r[0]: r[1] for r in incremental["user"]}
    assert names[changed_user["ind"]].startswith("Later "), "the later delivery did not win"

    assert run(s, "--full") == {"pin": 5, "geo": 5, "user": 6}
    full = lake_.tables(spark)
    assert incremental == full
    assert all(full.values()), "the data exercises nothing"

    assert run(s) == dict.fromkeys(lake.SILVER, 0), "a run with nothing new read something"
    assert lake_.tables(spark) == full


def test_a_run_leaves_what_landed_after_it_was_due_to_the_next_run(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake_ = Lake(tmp_path, monkeypatch)
    s = lake_.settings
    halves = in_parts(noisy_records(300, seed=7), 2)
    due = datetime(2026, 1, 2, tzinfo=UTC)
    for table in lake.SILVER:
        lake_.land(table, halves[table][0], at=due - timedelta(hours=1))
        lake_.land(table, halves[table][1], at=due + timedelta(seconds=1))

    def objects(summary: dict[str, dict[str, int]]) -> dict[str, tuple[int, int]]:
        return {t: (c["objects_read"], c["objects_left_for_later"]) for t, c in summary.items()}

    bound = ["--landed-before", due.isoformat()]
    assert objects(clean(s, *bound)) == dict.fromkeys(lake.SILVER, (1, 1))
    when_due = lake_.tables(spark)
    # The same run again (cleared in Airflow): nothing read, nothing written.
    assert objects(clean(s, *bound)) == dict.fromkeys(lake.SILVER, (0, 1))
    assert lake_.tables(spark) == when_due

    assert objects(clean(s)) == dict.fromkeys(lake.SILVER, (1, 0))
    incremental = lake_.tables(spark)
    assert all(len(when_due[t]) < len(incremental[t]) for t in lake.SILVER)
    assert run(s, "--full") == dict.fromkeys(lake.SILVER, 2)
    assert lake_.tables(spark) == incremental


@pytest.mark.parametrize(
    ("value", "error"),
    [("2026-01-02", "no UTC offset"), ("yesterday", "not an ISO 8601 time")],
)
def test_a_due_time_without_an_offset_or_unreadable_is_refused_before_spark_starts(
    value: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        job.main(["clean", "--landed-before", value])
    assert exited.value.code == 2
    assert error in capsys.readouterr().err


def _log_rewritten(spark: Any, s: Settings) -> bool:
    """Whether the last update of gold's counts rewrote them (else it appended to them)."""
    last = spark.sql(f"DESCRIBE HISTORY delta.`{lake.gold_counts_path(s)}` LIMIT 1").first()
    return bool(last["operationParameters"]["mode"] == "Overwrite")


def gold(spark: Any, s: Settings) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: sorted((tuple(r) for r in job.read_table(spark, s, name).collect()), key=repr)
        for name in lake.GOLD
    }


def gold_from_silver(spark: Any, s: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """The gold tables computed from the silver tables alone, with no counts kept."""
    pin, geo, user = (job.read_table(spark, s, t) for t in lake.SILVER)
    tables = analytics.gold_tables(pin, geo, user)
    return {n: sorted((tuple(r) for r in df.collect()), key=repr) for n, df in tables.items()}


def test_gold_follows_arrivals_and_changed_deliveries_as_a_recount_would(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second update compacts the counts' log: both ways of writing them are checked.
    monkeypatch.setattr(gold_counts, "COMPACT_AFTER", 2)
    records = noisy_records(900, seed=11)
    lake_ = Lake(tmp_path, monkeypatch)
    s = lake_.settings
    thirds = in_parts(records, 3)

    def run_all(*extra: str) -> str:
        summary = job.main(["all", "--uid", s.uid, *extra])
        counts: str = summary["gold"]["counts"]
        return counts

    for table in lake.SILVER:
        lake_.land(table, thirds[table][0])
    assert run_all() == "recounted"

    # Only new pins: the most followed posters are found among the old ones and the arrived.
    for table in lake.SILVER:
        lake_.land(table, thirds[table][1])
    assert run_all() == "updated"
    assert not _log_rewritten(spark, s)
    assert gold(spark, s) == gold_from_silver(spark, s)

    # Changed deliveries of keys already counted: a pin's poster gains followers (so the one it
    # was counted as leaves), a geo row moves country, a user ages out of their group.
    pin = next(r for r in thirds["pin"][0] if isinstance(r, dict) and r.get("follower_count"))
    geo = next(r for r in thirds["geo"][0] if isinstance(r, dict))
    user = next(r for r in thirds["user"][0] if isinstance(r, dict) and r.get("age"))
    lake_.land("pin", [*thirds["pin"][2], {**pin, "follower_count": "999m"}])
    lake_.land("geo", [*thirds["geo"][2], {**geo, "country": "Elsewhere"}])
    lake_.land("user", [*thirds["user"][2], {**user, "age": 77}])
    assert run_all() == "updated"
    assert _log_rewritten(spark, s)
    incremental = gold(spark, s)
    assert incremental == gold_from_silver(spark, s)
    assert ("Elsewhere",) in {r[:1] for r in incremental["popular_category_by_country"]}
    assert 999_000_000 in {r[2] for r in incremental["most_followed_by_country"]}

    assert run_all() == "unchanged"
    assert gold(spark, s) == incremental
    assert run_all("--full") == "recounted"
    assert gold(spark, s) == incremental
