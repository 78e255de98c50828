"""Spark schemas derived from the source contract in ``pinpipe.schema``."""

from __future__ import annotations

from pyspark.sql.types import StringType, StructField, StructType

from pinpipe.schema import SourceTable

CORRUPT = "_corrupt_record"


def wire_schema(table: SourceTable) -> StructType:
    """Every column as text, as sent: values are typed by the cleaning, which can then tell a bad
    value from a missing one instead of the JSON reader silently nulling it."""
    fields = [StructField(c.name, StringType()) for c in table.columns]
    return StructType([*fields, StructField(CORRUPT, StringType())])
