"""Spark schemas derived from the data contract in ``pinpipe.contract``."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from pinpipe.contract import (
    GOLD_TABLES,
    QUARANTINE_TABLE,
    SILVER_TABLES,
    ColumnType,
    SourceTable,
    Table,
)

CORRUPT = "_corrupt_record"

SPARK_TYPES: dict[ColumnType, DataType] = {
    "int": IntegerType(),
    "long": LongType(),
    "float": DoubleType(),
    "str": StringType(),
    "datetime": TimestampType(),
    "float[]": ArrayType(DoubleType()),
}


def struct(table: Table) -> StructType:
    return StructType([StructField(c.name, SPARK_TYPES[c.type]) for c in table.columns])


SILVER_SCHEMAS: dict[str, StructType] = {name: struct(t) for name, t in SILVER_TABLES.items()}
GOLD_SCHEMAS: dict[str, StructType] = {name: struct(t) for name, t in GOLD_TABLES.items()}
QUARANTINE_SCHEMA = struct(QUARANTINE_TABLE)


def wire_schema(table: SourceTable) -> StructType:
    """Every column as text, as sent: values are typed by the cleaning, which can then tell a bad
    value from a missing one instead of the JSON reader silently nulling it."""
    fields = [StructField(c.name, StringType()) for c in table.columns]
    return StructType([*fields, StructField(CORRUPT, StringType())])
