"""The Spark jobs' tables have the columns and types of ``pinpipe.contract``."""

from __future__ import annotations

from typing import Any

import pytest
from pyspark.sql.types import StructType

from pinpipe.contract import SOURCE_TABLES, to_wire
from pinpipe.source.generator import SourceGenerator
from pinpipe.spark.batch import analytics, clean
from pinpipe.spark.schemas import GOLD_SCHEMAS, QUARANTINE_SCHEMA, SILVER_SCHEMAS
from tests.spark.frames import raw_frame

pytestmark = pytest.mark.unit


def shape(schema: StructType) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


def test_silver_quarantine_and_gold_tables_have_the_contract_schemas(spark: Any) -> None:
    rows = list(SourceGenerator(20, seed=3))
    silver = {}
    for i, table in enumerate(SOURCE_TABLES):
        records = [to_wire(r[i]) for r in rows] + ["{broken"]
        silver[table.short], quarantine = clean.clean(raw_frame(spark, records), table)
        assert shape(silver[table.short].schema) == shape(SILVER_SCHEMAS[table.short])
        assert shape(quarantine.schema) == shape(QUARANTINE_SCHEMA)
    gold = analytics.gold_tables(silver["pin"], silver["geo"], silver["user"])
    assert {name: shape(df.schema) for name, df in gold.items()} == {
        name: shape(schema) for name, schema in GOLD_SCHEMAS.items()
    }
