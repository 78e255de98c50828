"""Cleaning rules of pipeline-spec section 4, shared by the batch and the streaming jobs.

Input: a frame of raw records (``raw`` JSON text, plus where each came from: ``source`` and an
``position`` that orders deliveries). ``parse`` splits it into typed-as-text columns and a
quarantine of records that cannot be parsed; ``clean_<table>`` applies the rules; ``latest_per_key``
collapses duplicate deliveries.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from pinpipe.schema import GEO, PIN, USER, SourceTable
from pinpipe.spark.schemas import CORRUPT, wire_schema

# Values that mean "no data" in the source, per pin column (pipeline-spec 4, pin rule 1).
PIN_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "title": ("No Title Data Available",),
    "description": (
        "No description available Story format",
        "No description available",
        "Untitled",
    ),
    "poster_name": ("User Info Error",),
    "follower_count": ("User Info Error",),
    "image_src": ("Image src error.",),
    "tag_list": ("N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e",),
}
FOLLOWER_PATTERN = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmM]?)\s*$"
SAVE_LOCATION_PREFIX = "Local save in "

PIN_COLUMNS = (
    "ind", "unique_id", "title", "description", "follower_count", "poster_name", "tag_list",
    "is_image_or_video", "image_src", "save_location", "category",
)  # fmt: skip
GEO_COLUMNS = ("ind", "country", "coordinates", "timestamp")
USER_COLUMNS = ("ind", "user_name", "age", "date_joined")
QUARANTINE_COLUMNS = ("source_table", "source", "position", "raw", "reason")
ORIGIN = ("source", "position", "raw")  # carried until rows are final, for the quarantine

# Records that cannot be parsed at all, and why.
INVALID_JSON = "not a JSON object"
INVALID_KEY = "missing or non-integer join key"
INVALID_TIMESTAMP = "missing or unparseable timestamp"
INVALID_DATE_JOINED = "missing or unparseable date_joined"


def parse(raw: DataFrame, table: SourceTable) -> tuple[DataFrame, DataFrame]:
    """(records with one text column per source column, quarantined records)."""
    parsed = raw.withColumn(
        "v", F.from_json("raw", wire_schema(table), {"columnNameOfCorruptRecord": CORRUPT})
    )
    key = F.col(f"v.{table.key}").try_cast("long")
    reason = (
        F.when(F.col("v").isNull() | F.col(f"v.{CORRUPT}").isNotNull(), F.lit(INVALID_JSON))
        .when(key.isNull(), F.lit(INVALID_KEY))
        .otherwise(F.lit(None))
    )
    parsed = parsed.withColumn("reason", reason)
    good = parsed.where(F.col("reason").isNull()).select(
        *ORIGIN, *(F.col(f"v.{c}").alias(c) for c in table.column_names)
    )
    return good, quarantine(parsed.where(F.col("reason").isNotNull()), table)


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
    multiplier = F.when(unit == "k", 1_000).when(unit == "m", 1_000_000).otherwise(1)
    value = number.try_cast("decimal(20,3)") * multiplier
    return F.when(number != "", value.cast("long")).cast("long")


def clean_pin(df: DataFrame) -> DataFrame:
    cleaned = df.select(
        *ORIGIN,
        *(_null_if(F.col(c), PIN_PLACEHOLDERS.get(c, ())).alias(c) for c in PIN.column_names),
    )
    return cleaned.select(
        *ORIGIN,
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


def clean_geo(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    typed = df.select(
        *ORIGIN,
        F.col("ind").try_cast("long").alias("ind"),
        F.col("country"),
        F.array(F.col("latitude").try_cast("double"), F.col("longitude").try_cast("double")).alias(
            "coordinates"
        ),
        F.col("timestamp").try_cast("timestamp").alias("timestamp"),
    )
    bad = typed.where(F.col("timestamp").isNull()).withColumn("reason", F.lit(INVALID_TIMESTAMP))
    good = typed.where(F.col("timestamp").isNotNull()).select(*ORIGIN, *GEO_COLUMNS)
    return good, quarantine(bad, GEO)


def clean_user(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    typed = df.select(
        *ORIGIN,
        F.col("ind").try_cast("long").alias("ind"),
        F.concat(F.col("first_name"), F.lit(" "), F.col("last_name")).alias("user_name"),
        F.col("age").try_cast("int").alias("age"),
        F.col("date_joined").try_cast("timestamp").alias("date_joined"),
    )
    bad = typed.where(F.col("date_joined").isNull()).withColumn(
        "reason", F.lit(INVALID_DATE_JOINED)
    )
    good = typed.where(F.col("date_joined").isNotNull()).select(*ORIGIN, *USER_COLUMNS)
    return good, quarantine(bad, USER)


def latest_per_key(df: DataFrame) -> DataFrame:
    """One row per ``ind``: the latest delivery (highest position) wins."""
    latest = Window.partitionBy("ind").orderBy(F.col("position").desc())
    return (
        df.withColumn("_n", F.row_number().over(latest)).where(F.col("_n") == 1).drop("_n", *ORIGIN)
    )


def clean(raw: DataFrame, table: SourceTable) -> tuple[DataFrame, DataFrame]:
    """Raw records of one table -> (silver rows, one per key; quarantined records)."""
    good, rejected = parse(raw, table)
    if table is PIN:
        return latest_per_key(clean_pin(good)), rejected
    cleaner = clean_geo if table is GEO else clean_user
    cleaned, more_rejected = cleaner(good)
    return latest_per_key(cleaned), rejected.unionByName(more_rejected)
