"""Where things are in the lake: landed topics and the pipeline's Delta tables."""

from __future__ import annotations

from pinpipe import contract
from pinpipe.config import Settings

SILVER = tuple(contract.SILVER_TABLES)  # pin, geo, user
GOLD = tuple(contract.GOLD_TABLES)
QUARANTINE = contract.QUARANTINE
STREAMING_QUARANTINE = contract.STREAMING_QUARANTINE


def root(s: Settings, scheme: str = "s3a") -> str:
    """The bucket's URI: ``s3a`` for Spark's Hadoop filesystem, ``s3`` for everything else;
    or the ``lake_uri`` setting when it names another place (e.g. a local folder)."""
    return s.lake_uri.rstrip("/") if s.lake_uri else f"{scheme}://{s.bucket}"


def landed_topic(s: Settings, table: str) -> str:
    """The objects the S3 sink wrote for a table's topic."""
    return f"{root(s)}/topics/{s.topics[table]}/"


def table_path(s: Settings, name: str, scheme: str = "s3a") -> str:
    """Delta table location: silver/<pin|geo|user>, gold/<name>, quarantine, streaming/<name>."""
    base = f"{root(s, scheme)}/delta"
    if name in SILVER:
        return f"{base}/silver/{name}"
    if name in GOLD:
        return f"{base}/gold/{name}"
    if name in (QUARANTINE, STREAMING_QUARANTINE):
        return f"{base}/{name}"
    if name in streaming_tables(s):
        return f"{base}/streaming/{name}"
    known = ", ".join(all_tables(s))
    raise KeyError(f"no table named {name!r}; the pipeline writes: {known}")


def gold_counts_path(s: Settings) -> str:
    """The counts the gold tables are derived from (``gold_counts``)."""
    return f"{root(s)}/delta/gold-counts"


def checkpoint_path(s: Settings, table: str) -> str:
    """Each streaming query's own checkpoint."""
    return f"{root(s)}/checkpoints/streaming/{table}"


def batch_checkpoint_path(s: Settings, table: str) -> str:
    """Which landed objects of a topic the batch job has read."""
    return f"{root(s)}/checkpoints/batch/{table}"


def streaming_table(s: Settings, table: str) -> str:
    return contract.streaming_table(s.uid, table)


def streaming_tables(s: Settings) -> tuple[str, ...]:
    return tuple(streaming_table(s, t) for t in SILVER)


def all_tables(s: Settings) -> tuple[str, ...]:
    return (*SILVER, *GOLD, QUARANTINE, *streaming_tables(s), STREAMING_QUARANTINE)
