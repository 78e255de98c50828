"""Keeps the lake across restarts of LocalStack, whose S3 lives in memory only.

``save`` mirrors the bucket into ``state/lake/`` (objects as files, their user metadata in a
manifest) before LocalStack stops; ``restore`` puts them back after it starts. The S3 sink also
finds where landed data ends by reading the bucket, so records landed after the last save are
landed again from Kafka rather than lost.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from pinpipe.config import Settings

MANIFEST = ".manifest.json"


def snapshot_dir(s: Settings) -> Path:
    return s.state_dir / "lake" / s.bucket


def _client(s: Settings):  # type: ignore[no-untyped-def]
    return boto3.client("s3", **s.aws_client_kwargs("s3"))


def save(s: Settings) -> int:
    """Mirror the bucket to disk; returns the number of objects in it."""
    s3 = _client(s)
    root = snapshot_dir(s)
    manifest_path = root / MANIFEST
    manifest: dict[str, dict[str, object]] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    )
    seen: set[str] = set()
    try:
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=s.bucket))
    except ClientError:
        return 0
    for page in pages:
        for obj in page.get("Contents", []):
            key, etag = obj["Key"], obj["ETag"]
            seen.add(key)
            if manifest.get(key, {}).get("etag") == etag and (root / key).exists():
                continue
            got = s3.get_object(Bucket=s.bucket, Key=key)
            target = root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(got["Body"].read())
            manifest[key] = {
                "etag": etag,
                "content_type": got.get("ContentType", "application/octet-stream"),
                "metadata": got.get("Metadata", {}),
            }
    for key in set(manifest) - seen:
        (root / key).unlink(missing_ok=True)
        del manifest[key]
    root.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=0, sort_keys=True))
    return len(seen)


def restore(s: Settings) -> int:
    """Upload saved objects that the bucket lacks; returns how many were uploaded."""
    root = snapshot_dir(s)
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        return 0
    manifest: dict[str, dict[str, object]] = json.loads(manifest_path.read_text())
    s3 = _client(s)
    present = {
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=s.bucket)
        for obj in page.get("Contents", [])
    }
    restored = 0
    for key, info in manifest.items():
        path = root / key
        if key in present or not path.exists():
            continue
        s3.put_object(
            Bucket=s.bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=str(info.get("content_type", "application/octet-stream")),
            Metadata=dict(info.get("metadata", {})),  # type: ignore[call-overload]
        )
        restored += 1
    # The etags of re-uploaded objects are the same (same bytes, single part).
    return restored
