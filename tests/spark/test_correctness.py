"""Every silver and gold table from Spark equals the independent plain-Python implementation,
on synthetic data (with duplicate deliveries and bad records mixed in) and on the real sample."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pinpipe.contract import SOURCE_TABLES
from pinpipe.spark.batch import analytics, clean
from tests import reference
from tests.noisy import noisy_records
from tests.sample import read_sample, sample_available
from tests.spark.frames import raw_frame

pytestmark = pytest.mark.unit


def spark_tables(spark: Any, records: dict[str, list[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    silver = {}
    for table in SOURCE_TABLES:
        cleaned, _ = clean.clean(raw_frame(spark, records[table.short]), table)
        silver[table.short] = cleaned.cache()
    out = {f"silver_{t}": sorted(tuple(r) for r in df.collect()) for t, df in silver.items()}
    for name, df in analytics.gold_tables(silver["pin"], silver["geo"], silver["user"]).items():
        out[name] = sorted(tuple(r) for r in df.collect())
    return out


def reference_tables(records: dict[str, list[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    parsed = {t: [r for r in map(_as_object, rs) if r is not None] for t, rs in records.items()}
    silver = {t: reference.silver(parsed[t], t) for t in parsed}
    out = {f"silver_{t}": sorted(tuple(r.values()) for r in rows) for t, rows in silver.items()}
    out.update(reference.gold(silver["pin"], silver["geo"], silver["user"]))
    return out


def _as_object(record: Any) -> dict[str, Any] | None:
    if isinstance(record, dict):
        return record
    try:
        value = json.loads(record)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def assert_same(spark_out: dict[str, Any], ref_out: dict[str, Any]) -> None:
    assert set(spark_out) == set(ref_out)
    for name in ref_out:
        assert spark_out[name] == ref_out[name], name
    assert all(ref_out[name] for name in ref_out), "a table is empty: the data exercises nothing"


def test_synthetic_data_with_duplicates_and_bad_records(spark: Any) -> None:
    records = noisy_records(3000, seed=21)
    assert_same(spark_tables(spark, records), reference_tables(records))


@pytest.mark.skipif(not sample_available(), reason="the real sample is not next to the project")
def test_the_real_sample(spark: Any) -> None:
    records = {
        t.short: [json.dumps(r, ensure_ascii=False) for r in read_sample(t.name)]
        for t in SOURCE_TABLES
    }
    assert_same(spark_tables(spark, records), reference_tables(records))
