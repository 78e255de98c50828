"""Files and folders of the lake, listed, read, written and deleted from Python: the same
whether Spark runs in this process, behind Spark Connect or on Databricks (none of which share
a JVM with this code)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
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
    folder = parsed.path.strip("/")
    return parsed.netloc, f"{folder}/" if folder else ""  # "": the whole bucket


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


def list_files(s: Settings, uri: str, suffix: str = "") -> dict[str, str]:
    """Every file under the folder at ``uri`` whose name ends with ``suffix``: its path relative
    to the folder -> its URI (in ``uri``'s scheme, so Spark can read it)."""
    return {name: f.uri for name, f in list_files_with_times(s, uri, suffix).items()}


@dataclass(frozen=True)
class ListedFile:
    uri: str
    modified: datetime  # when it was written: S3's LastModified, a local file's mtime (UTC)


def list_files_with_times(s: Settings, uri: str, suffix: str = "") -> dict[str, ListedFile]:
    """As ``list_files``, with when each file was written."""
    location = _s3_location(uri)
    if location is None:
        folder = _local(uri)
        if not folder.exists():
            return {}
        prefix = uri.rstrip("/")
        return {
            str(f.relative_to(folder)): ListedFile(
                f"{prefix}/{f.relative_to(folder)}",
                datetime.fromtimestamp(f.stat().st_mtime, UTC),
            )
            for f in sorted(folder.rglob(f"*{suffix}"))
            if f.is_file()
        }
    bucket, prefix = location
    scheme = urlparse(uri).scheme
    files = {}
    for page in (
        aws_client(s, "s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    ):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith(suffix) and not key.endswith("/"):
                files[key.removeprefix(prefix)] = ListedFile(
                    f"{scheme}://{bucket}/{key}", item["LastModified"]
                )
    return files


def read_text(s: Settings, uri: str) -> str | None:
    """The content of the file at ``uri``; None if there is none."""
    location = _s3_location(uri)
    if location is None:
        path = _local(uri)
        return path.read_text() if path.exists() else None
    bucket, key = location[0], location[1].rstrip("/")
    s3 = aws_client(s, "s3")
    try:
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())
    except s3.exceptions.NoSuchKey:
        return None


def write_text(s: Settings, uri: str, text: str) -> None:
    """Write ``text`` to the file at ``uri`` as one whole (an S3 put, or a local rename)."""
    location = _s3_location(uri)
    if location is None:
        path = _local(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text)
        partial.replace(path)
        return
    bucket, key = location[0], location[1].rstrip("/")
    aws_client(s, "s3").put_object(Bucket=bucket, Key=key, Body=text.encode())


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
