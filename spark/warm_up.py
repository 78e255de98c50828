"""A first round trip through the stack's Spark Connect server: a record cleaned, written to a
Delta table in a scratch bucket of the lake, merged into it and read back, then the bucket
deleted.

A fresh server loads and compiles what Spark, Delta and S3A need on first use; done at ``up``,
alongside the services still starting, the first batch run does not pay for it (measured on 2
cores: the batch DAG over the demo's data in 33 s instead of 44 s). It also shows that the
server can write the lake.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from pinpipe import lake_files
from pinpipe.aws_access import aws_client
from pinpipe.config import Settings
from pinpipe.contract import GEO
from pinpipe.spark import merge
from pinpipe.spark.batch import clean, landed
from pinpipe.spark.session import get_spark

RECORD = {
    "ind": 1,
    "timestamp": "2020-01-01 00:00:00",
    "latitude": 1.0,
    "longitude": 2.0,
    "country": "Nowhere",
}


def scratch_bucket(s: Settings) -> str:
    """Not the pipeline's bucket, which may not be there yet when the server is."""
    return f"{s.bucket}-spark-warm-up"


def warm_up(s: Settings) -> None:
    bucket = scratch_bucket(s)
    s3 = aws_client(s, "s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as e:  # left by a warm-up that was interrupted
        if e.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
    spark = get_spark(s, "pinpipe-warm-up")
    path = f"s3a://{bucket}/geo"
    try:
        raw = spark.createDataFrame([("warm-up:1", 1, json.dumps(RECORD))], landed.RAW_SCHEMA)
        silver, _ = clean.clean(raw, GEO)
        silver.write.format("delta").mode("overwrite").save(path)
        merge.upsert_latest(silver, path)
        spark.read.format("delta").load(path).collect()
    finally:
        spark.stop()
        lake_files.delete_tree(s, f"s3://{bucket}/")
        s3.delete_bucket(Bucket=bucket)
