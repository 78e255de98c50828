"""The batch run's summary: row counts of every table it writes, saved in the lake."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pinpipe.aws_access import aws_client
from pinpipe.config import Settings
from pinpipe.spark import lake
from pinpipe.tables import TableError, read


def summarize(s: Settings) -> dict[str, Any]:
    counts: dict[str, int | None] = {}
    for name in (*lake.SILVER, lake.QUARANTINE, *lake.GOLD):
        try:
            counts[name] = read(s, name).num_rows
        except TableError:
            counts[name] = None
    return counts


def publish(s: Settings, run_id: str) -> dict[str, Any]:
    summary = {
        "run_id": run_id,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": summarize(s),
    }
    key = f"runs/batch/{run_id.replace(':', '_').replace('+', '_')}.json"
    aws_client(s, "s3").put_object(
        Bucket=s.bucket, Key=key, Body=json.dumps(summary, indent=2).encode()
    )
    print(json.dumps(summary, indent=2))
    return summary
