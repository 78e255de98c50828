"""Cleaning rules of pipeline-spec section 4, shared by the batch and the streaming jobs.

Input: a frame of raw records (``raw`` JSON text, plus where each came from: ``source`` and an
``position`` that orders deliveries). ``checked`` parses every record, applies the rules
(``clean_<table>``) and names the ``reason`` a record is quarantined, if it is; ``split`` then
gives the silver rows, one per key (``latest_per_key`` collapses duplicate deliveries), and the
quarantine. A job persists ``checked``'s output, the one pass over the records both outputs
read: it keeps the record's text only where it is quarantined.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from pinpipe.contract import (
    FOLLOWER_PATTERN,
    FOLLOWER_UNITS,
    GEO,
    INVALID_DATE_JOINED,
    INVALID_JSON,
    INVALID_KEY,
    INVALID_TIMESTAMP,
    PIN,
    PIN_PLACEHOLDERS,
    SAVE_LOCATION_PREFIX,
    SILVER_GEO,
    SILVER_PIN,
    SILVER_USER,
    USER,
    SourceTable,
)
from pinpipe.spark.schemas import CORRUPT, SILVER_SCHEMAS, wire_schema

PIN_COLUMNS = SILVER_PIN.column_names
GEO_COLUMNS = SILVER_GEO.column_names
USER_COLUMNS = SILVER_USER.column_names
ORIGIN = ("source", "position", "raw")  # carried until rows are final, for the quarantine


def parse_json(raw: DataFrame, table: SourceTable) -> DataFrame:
    """Raw records with their parsed value ``v`` and the ``reason`` they cannot be used (null
    for those that parse and have a key)."""
    parsed = raw.withColumn(
        "v", F.from_json("raw", wire_schema(table), {"columnNameOfCorruptRecord": CORRUPT})
    )
    key = F.col(f"v.{table.key}").try_cast("long")
    reason = (
        F.when(F.col("v").isNull() | F.col(f"v.{CORRUPT}").isNotNull(), F.lit(INVALID_JSON))
        .when(key.isNull(), F.lit(INVALID_KEY))
        .otherwise(F.lit(None))
    )
    return parsed.withColumn("reason", reason)


def text_columns(parsed: DataFrame, table: SourceTable) -> DataFrame:
    """``parse_json``'s output with one text column per source column (null where it did not
    parse)."""
    return parsed.select(*ORIGIN, "reason", *(F.col(f"v.{c}").alias(c) for c in table.column_names))


def quarantine(rejected: DataFrame, table: SourceTable) -> DataFrame:
    return rejected.select(
        F.lit(table.short).alias("source_table"),
        F.col("source"),
        F.col("position"),
        F.col("raw"),
        F.col("reason"),
    )


def _null_if(col: Column, values: tuple[str, ...] = ()) -> Column:
    """Null for empty strings and the given placeholders."""
    condition = (col == "") | col.isin(*values) if values else (col == "")
    return F.when(condition, F.lit(None)).otherwise(col)


def follower_count_as_number(text: Column) -> Column:
    """``437`` -> 437, ``26k``/``1.5k`` -> 26000/1500, ``2M``/``2m`` -> 2000000; else null."""
    number = F.regexp_extract(text, FOLLOWER_PATTERN, 1)
    unit = F.lower(F.regexp_extract(text, FOLLOWER_PATTERN, 2))
    (first_unit, first_factor), *other_units = FOLLOWER_UNITS.items()
    multiplier = F.when(unit == first_unit, first_factor)
    for name, factor in other_units:
        multiplier = multiplier.when(unit == name, factor)
    multiplier = multiplier.otherwise(1)
    value = number.try_cast("decimal(20,3)") * multiplier
    return F.when(number != "", value.cast("long")).cast("long")


def clean_pin(df: DataFrame) -> DataFrame:
    cleaned = df.select(
        *ORIGIN,
        "reason",
        *(_null_if(F.col(c), PIN_PLACEHOLDERS.get(c, ())).alias(c) for c in PIN.column_names),
    )
    return cleaned.select(
        *ORIGIN,
        "reason",
        F.col("index").try_cast("long").alias("ind"),
        "unique_id",
        "title",
        "description",
        follower_count_as_number(F.col("follower_count")).alias("follower_count"),
        "poster_name",
        "tag_list",
        "is_image_or_video",
        "image_src",
        F.regexp_replace("save_location", "^" + SAVE_LOCATION_PREFIX, "").alias("save_location"),
        "category",
    )


def _unless_rejected(reason: Column, bad: Column, why: str) -> Column:
    """The record's reason: the one it has, else ``why`` where ``bad`` holds."""
    return F.coalesce(reason, F.when(bad, F.lit(why)))


def clean_geo(df: DataFrame) -> DataFrame:
    timestamp = F.col("timestamp").try_cast("timestamp")
    return df.select(
        *ORIGIN,
        _unless_rejected(F.col("reason"), timestamp.isNull(), INVALID_TIMESTAMP).alias("reason"),
        F.col("ind").try_cast("long").alias("ind"),
        F.col("country"),
        F.array(F.col("latitude").try_cast("double"), F.col("longitude").try_cast("double")).alias(
            "coordinates"
        ),
        timestamp.alias("timestamp"),
    )


def clean_user(df: DataFrame) -> DataFrame:
    date_joined = F.col("date_joined").try_cast("timestamp")
    return df.select(
        *ORIGIN,
        _unless_rejected(F.col("reason"), date_joined.isNull(), INVALID_DATE_JOINED).alias(
            "reason"
        ),
        F.col("ind").try_cast("long").alias("ind"),
        F.concat(F.col("first_name"), F.lit(" "), F.col("last_name")).alias("user_name"),
        F.col("age").try_cast("int").alias("age"),
        date_joined.alias("date_joined"),
    )


CLEANERS = {PIN.short: clean_pin, GEO.short: clean_geo, USER.short: clean_user}


def latest_per_key(df: DataFrame) -> DataFrame:
    """One row per ``ind``: the latest delivery (highest position) wins. Streaming positions are
    arrival times, equal for records of the same millisecond: the sequence number at the end of
    ``source`` decides between those."""
    latest = Window.partitionBy("ind").orderBy(F.col("position").desc(), F.col("source").desc())
    return (
        df.withColumn("_n", F.row_number().over(latest)).where(F.col("_n") == 1).drop("_n", *ORIGIN)
    )


def conform(df: DataFrame, table: SourceTable) -> DataFrame:
    """The silver table's columns in contract order, with the contract's types."""
    schema = SILVER_SCHEMAS[table.short]
    return df.select(*(F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields))


def checked(raw: DataFrame, table: SourceTable) -> DataFrame:
    """Raw records of one table -> one row per record: the cleaned columns, where it came from,
    and the ``reason`` it is quarantined (null if it is not). Its text (``raw``) is kept only
    for those, so that what is kept in memory for ``split``'s two outputs stays small."""
    cleaned = CLEANERS[table.short](text_columns(parse_json(raw, table), table))
    return cleaned.withColumn("raw", F.when(F.col("reason").isNotNull(), F.col("raw")))


def split(checked: DataFrame, table: SourceTable) -> tuple[DataFrame, DataFrame]:
    """``checked``'s output -> (silver rows, one per key; quarantined records)."""
    good = checked.where(F.col("reason").isNull()).drop("reason")
    rejected = quarantine(checked.where(F.col("reason").isNotNull()), table)
    return conform(latest_per_key(good), table), rejected


def clean(raw: DataFrame, table: SourceTable) -> tuple[DataFrame, DataFrame]:
    """Raw records of one table -> (silver rows, one per key; quarantined records)."""
    return split(checked(raw, table), table)
