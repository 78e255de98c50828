"""Folders of the lake, checked and deleted from Python: the same whether Spark runs in this
process, behind Spark Connect or on Databricks (none of which share a JVM with this code)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

from pinpipe.aws_access import aws_client
from pinpipe.config import Settings

S3_SCHEMES = ("s3", "s3a")


def _s3_location(uri: str) -> tuple[str, str] | None:
    """(bucket, folder prefix ending in /) for an S3 URI; None for a local path."""
    parsed = urlparse(uri)
    if parsed.scheme not in S3_SCHEMES:
        return None
    return parsed.netloc, parsed.path.strip("/") + "/"


def _local(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def exists(s: Settings, uri: str) -> bool:
    """True if the folder at ``uri`` holds anything."""
    location = _s3_location(uri)
    if location is None:
        return _local(uri).exists()
    bucket, prefix = location
    found = aws_client(s, "s3").list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    return bool(found.get("KeyCount"))


def is_delta_table(s: Settings, uri: str) -> bool:
    return exists(s, uri.rstrip("/") + "/_delta_log")


def delete_tree(s: Settings, uri: str) -> None:
    """Delete the folder at ``uri`` and everything in it (nothing if it is not there)."""
    location = _s3_location(uri)
    if location is None:
        shutil.rmtree(_local(uri), ignore_errors=True)
        return
    bucket, prefix = location
    s3 = aws_client(s, "s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
