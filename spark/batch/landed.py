"""Reads what the S3 sink landed: one JSON record value per line, in objects named
``<topic>+<partition>+<start offset>.json``, so every record's Kafka offset is known."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from pinpipe.contract import LANDED_OBJECT_PATTERN, POSITION_STRIDE

RAW_SCHEMA = StructType(
    [
        StructField("source", StringType()),
        StructField("position", LongType()),
        StructField("raw", StringType()),
    ]
)


def empty_records(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([], RAW_SCHEMA)


def read_landed(spark: SparkSession, topic_path: str) -> DataFrame:
    """Every record landed for a topic: ``source`` (object:line), ``position`` (orders
    deliveries), ``raw`` (the line)."""
    objects = (
        spark.read.option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.json")
        .text(topic_path, wholetext=True)  # an option would be reset by text()
    )
    return records(objects)


def read_objects(spark: SparkSession, uris: list[str]) -> DataFrame:
    """The records of the given landed objects (as ``read_landed``)."""
    return records(spark.read.text(uris, wholetext=True))


def records(objects: DataFrame) -> DataFrame:
    """Landed objects (one ``value`` each) -> one row per record line."""
    with_file = objects.select(F.col("_metadata.file_path").alias("file"), "value")
    lines = with_file.select("file", F.posexplode(F.split("value", "\n")).alias("line", "raw"))
    partition = F.regexp_extract("file", LANDED_OBJECT_PATTERN, 1).cast("long")
    start = F.regexp_extract("file", LANDED_OBJECT_PATTERN, 2).cast("long")
    return lines.where(F.col("raw") != "").select(
        F.concat(F.col("file"), F.lit(":"), (F.col("line") + 1).cast("string")).alias("source"),
        # Kafka offset (start + line) first, partition second: unique and in delivery order.
        ((start + F.col("line")) * POSITION_STRIDE + partition).alias("position"),
        F.col("raw"),
    )
