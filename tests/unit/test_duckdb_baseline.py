"""The DuckDB baseline of the batch benchmark against the independent plain-Python
implementation, on landed files with duplicate and later deliveries and bad records mixed in;
and the benchmark's row-by-row comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import duckdb_gold
from bench.batch import row_differences
from pinpipe.config import load_settings
from pinpipe.contract import (
    GOLD_TABLES,
    QUARANTINE,
    SILVER_TABLES,
    landed_object_name,
)
from tests import reference
from tests.noisy import noisy_records

pytestmark = pytest.mark.unit

RECORDS_PER_OBJECT = 250


def land(root: Path, topics: dict[str, str], data: dict[str, list[Any]]) -> None:
    """In delivery order: one partition, several objects, a blank line here and there."""
    for short, values in data.items():
        folder = root / "topics" / topics[short] / "partition=0"
        folder.mkdir(parents=True)
        lines = [v if isinstance(v, str) else json.dumps(v) for v in values]
        for start in range(0, len(lines), RECORDS_PER_OBJECT):
            text = "\n".join(lines[start : start + RECORDS_PER_OBJECT]) + "\n"
            name = landed_object_name(topics[short], 0, start)
            (folder / name).write_text(text if start % 2 else text + "\n")


def expected(data: dict[str, list[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    def as_object(value: Any) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None

    parsed = {t: [r for r in map(as_object, rs) if r is not None] for t, rs in data.items()}
    silver = {t: reference.silver(parsed[t], t) for t in parsed}
    out = {t: [tuple(r.values()) for r in rows] for t, rows in silver.items()}
    out.update(reference.gold(silver["pin"], silver["geo"], silver["user"]))
    return out


def test_the_baseline_computes_the_spec_tables(tmp_path: Path) -> None:
    s = load_settings()
    data = noisy_records(1200, seed=13)
    land(tmp_path, s.topics, data)
    con = duckdb_gold.build(s, tmp_path)
    want = expected(data)
    for name in [*SILVER_TABLES, *GOLD_TABLES]:
        got = con.execute(f'SELECT * FROM "{name}"').fetchall()
        assert got, f"{name} is empty: the data exercises nothing"
        differences = row_differences(name, want[name], got, ("the reference", "DuckDB"))
        assert differences is None, differences
    reasons = con.execute(f"SELECT source_table, reason FROM {QUARANTINE}").fetchall()
    assert sorted(reasons) == [
        ("geo", "missing or unparseable timestamp"),
        ("geo", "missing or unparseable timestamp"),
        ("pin", "missing or non-integer join key"),
        ("pin", "missing or non-integer join key"),
        ("pin", "not a JSON object"),
        ("pin", "not a JSON object"),
        ("pin", "not a JSON object"),
        ("user", "missing or unparseable date_joined"),
    ]


def test_the_comparison_names_the_table_and_the_first_differing_rows() -> None:
    rows = [("art", 2, 1.5), ("travel", 1, None)]
    assert row_differences("t", rows, list(reversed(rows))) is None
    assert row_differences("t", rows, [("art", 2, 1.5 + 1e-12), ("travel", 1, None)]) is None
    report = row_differences("t", rows, [("art", 2, 1.5), ("travel", 2, None)])
    assert report is not None and report.startswith("t: 2 rows from Spark, 2 from DuckDB")
    assert "('travel', 1, None) | ('travel', 2, None)" in report
    assert row_differences("t", rows, rows[:1]) is not None
