"""The batch run's summary: row counts of every table it writes, saved in the lake under the
time the run was due."""

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


def summary_key(due: str) -> str:
    """Where the summary of the run due at ``due`` (ISO 8601) is saved: one object per run of
    the DAG, the same one when a run is cleared and runs again."""
    when = datetime.fromisoformat(due).astimezone(UTC)
    return f"runs/batch/due={when.strftime('%Y-%m-%dT%H-%M-%S.%fZ')}.json"


def publish(s: Settings, run_id: str, due: str) -> dict[str, Any]:
    summary = {
        "run_id": run_id,
        "due": due,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": summarize(s),
    }
    aws_client(s, "s3").put_object(
        Bucket=s.bucket, Key=summary_key(due), Body=json.dumps(summary, indent=2).encode()
    )
    print(json.dumps(summary, indent=2))
    return summary
