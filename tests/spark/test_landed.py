"""Reading what the S3 sink landed: every line of every object is a record with its own place in
delivery order, so the later of two deliveries of a key wins even inside one object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pinpipe.contract import GEO, landed_object_name
from pinpipe.spark.batch import clean, landed

pytestmark = pytest.mark.unit


def geo(ind: int, country: str) -> str:
    row = {"ind": ind, "timestamp": "2020-01-01 00:00:00", "latitude": 1.5, "longitude": 2.5}
    return json.dumps({**row, "country": country})


def test_each_line_has_its_own_source_and_position(spark: Any, tmp_path: Path) -> None:
    topic = tmp_path / "topics" / "u.geo" / "partition=0"
    topic.mkdir(parents=True)
    (topic / landed_object_name("u.geo", 0, 0)).write_text(f"{geo(1, 'A')}\n{geo(2, 'B')}\n")
    (topic / landed_object_name("u.geo", 0, 2)).write_text(f"{geo(1, 'C')}\n")

    rows = landed.read_landed(spark, str(tmp_path / "topics" / "u.geo")).collect()

    assert len(rows) == 3
    assert len({r.position for r in rows}) == 3
    assert sorted(r.source.rsplit(":", 1)[1] for r in rows) == ["1", "1", "2"]
    by_position = [json.loads(r.raw)["country"] for r in sorted(rows, key=lambda r: r.position)]
    assert by_position == ["A", "B", "C"]


def test_the_later_delivery_in_one_object_wins(spark: Any, tmp_path: Path) -> None:
    topic = tmp_path / "topics" / "u.geo" / "partition=0"
    topic.mkdir(parents=True)
    lines = [geo(1, "first"), geo(2, "only"), geo(1, "second")]
    (topic / landed_object_name("u.geo", 0, 0)).write_text("\n".join(lines) + "\n")

    raw = landed.read_landed(spark, str(tmp_path / "topics" / "u.geo"))
    silver, _ = clean.clean(raw, GEO)

    assert {r.ind: r.country for r in silver.collect()} == {1: "second", 2: "only"}
